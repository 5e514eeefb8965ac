"""Properties of every import (issue 14): accepted + rejected + already present = data rows of the file,
and every rejection names its line with a reason true of that line, whatever the file's whitespace-only
lines, line endings and encoding; a re-import with changed values says what happened to each row."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.core.importers import import_paths
from desktop.core.workspace.store import open_store

from .conftest import snapshot
from .test_bad_input import GOOD, PYTHON_CODEC, assert_every_row_accounted
from .test_import_reimport import HEADER as ENCOUNTERS_HEADER
from .test_import_reimport import observations

ROWS = GOOD.splitlines()[1:]
# Rows a Latin-1 or Windows-1252 export can hold too: accented patient ids, one implausible value.
ROWS += ["2020-02-01T10:00:00Z,Müller-1,e90,8867-4,Heart rate,72,/min,numeric",
         "2020-02-01T10:00:00Z,Zoë-2,e91,8867-4,Heart rate,700,/min,numeric",
         # A note typed over two lines in one quoted value: one row, and every later line keeps its number.
         '2020-02-02T10:00:00Z,p1,e92,8867-4,"Heart rate,\ntaken twice",74,/min,numeric']
# The rows that test something drawn often (an implausible one, a value over two lines).
DRAWN = ROWS + ROWS[-3:] * 8
WHITESPACE = st.sampled_from([" ", "\t", "  \t ", "\f", " \t\f"])


@st.composite
def messy_file(draw: st.DrawFn) -> tuple[bytes, str]:
    """Observation rows with whitespace-only and empty lines between them, a value over two lines, LF or
    CRLF endings that may change from line to line, in one of the encodings a clinic's laptop writes."""
    lines = [GOOD.splitlines()[0]]
    for row in draw(st.lists(st.sampled_from(DRAWN), min_size=1, max_size=25)):
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(["", draw(WHITESPACE)])))
        lines.append(row)
    if draw(st.booleans()):
        lines.append(draw(WHITESPACE))
    endings = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    text = ""
    for line in lines:
        crlf = endings == "crlf" or (endings == "mixed" and draw(st.booleans()))
        text += line + ("\r\n" if crlf else "\n")
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16-le", "utf-16-be"]))
    return text.encode(encoding), text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=messy_file())
def test_every_row_accounted_whatever_the_whitespace_endings_and_encoding(tmp_path: Path,
                                                                           case: tuple[bytes, str]) -> None:
    data, text = case
    path = tmp_path / "observations.csv"
    path.write_bytes(data)
    with open_store(":memory:") as store:
        f = import_paths(store, [path]).files[0]
        assert f.status == "imported", f.message
        assert data.decode(PYTHON_CODEC[str(f.encoding)]) == text
        assert_every_row_accounted(text, f)
        assert snapshot(store)["observations"] == f.rows_accepted
        # The implausible row is named at exactly its own line, wherever it landed (after a value over two
        # lines, blank lines or a change of line endings), and no other row is called implausible.
        lines = text.replace("\r\n", "\n").split("\n")
        implausible = {n for n, line in enumerate(lines, start=1) if "Zoë-2" in line}
        assert {r["line"] for r in f.rejections if str(r["reason"]).startswith("implausible Heart rate 700")} == (
            implausible)


def _encounter(i: int, klass: str) -> str:
    return (f"enc-{i:03d},2020-01-{1 + i % 28:02d}T10:00:00Z,,pat-{i % 4},o1,p1,py1,{klass},1,Visit,0,0,0,,\n")


@st.composite
def reimport(draw: st.DrawFn) -> tuple[dict[int, str], dict[int, str], bool]:
    """Encounters stored first, then a file that repeats some (some with another class) and adds others."""
    ids = st.sets(st.integers(0, 60), max_size=20)
    klass = st.sampled_from(["wellness", "emergency", "ambulatory"])
    first = {i: draw(klass) for i in draw(ids)}
    second = {i: draw(klass) for i in draw(ids) | draw(st.sets(st.sampled_from(sorted(first) or [0]), max_size=8))}
    return first, second, draw(st.booleans())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=reimport())
def test_reimport_with_changed_values_says_what_happened_to_every_row(tmp_path: Path,
                                                                       case: tuple[dict[int, str], dict[int, str], bool]
                                                                       ) -> None:
    first, second, update = case
    with open_store(":memory:") as store:
        (tmp_path / "a").mkdir(exist_ok=True)
        (tmp_path / "b").mkdir(exist_ok=True)
        a = tmp_path / "a" / "encounters.csv"
        a.write_text(ENCOUNTERS_HEADER + "".join(_encounter(i, k) for i, k in sorted(first.items())))
        import_paths(store, [a])
        text = ENCOUNTERS_HEADER + "".join(_encounter(i, k) for i, k in sorted(second.items()))
        b = tmp_path / "b" / "encounters.csv"
        b.write_text(text + "\n")  # never the same bytes as the first file
        f = import_paths(store, [b], update_existing=update).files[0]
        present = {i for i in second if i in first}
        different = {i for i in present if first[i] != second[i]}
        assert f.rows_accepted == len(second) - len(present)
        assert (f.rows_already_present, f.rows_present_different) == (len(present), len(different))
        assert f.rows_updated == (len(different) if update else 0)
        assert_every_row_accounted(text, f)
        listed = {int(str(p["key"])[4:]): p for p in f.already_present}
        assert set(listed) == present
        assert {i for i, p in listed.items() if p["values"] == "different"} == different
        order = sorted(second)
        assert all(p["line"] == order.index(i) + 2 for i, p in listed.items())
        stored = dict(store.con.execute("SELECT encounter_id, encounter_class FROM encounters").fetchall())
        expected = {**{i: k for i, k in second.items()},
                    **({} if update else {i: first[i] for i in present}), **{i: k for i, k in first.items()
                                                                             if i not in second}}
        assert stored == {f"enc-{i:03d}": k for i, k in expected.items()}


@st.composite
def reimported_readings(draw: st.DrawFn) -> tuple[dict[int, int], dict[int, int], bool]:
    """Heart rates by day stored first, then a file repeating some days (some with another value) and
    adding others."""
    days = st.sets(st.integers(0, 50), max_size=20)
    rate = st.integers(40, 120)
    first = {d: draw(rate) for d in draw(days)}
    repeated = draw(st.sets(st.sampled_from(sorted(first) or [0]), max_size=10))
    second = {d: draw(st.sampled_from([first.get(d, 60), draw(rate)])) for d in draw(days) | repeated}
    return first, second, draw(st.booleans())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=reimported_readings())
def test_reimported_readings_are_never_doubled_nor_lost(tmp_path: Path,
                                                         case: tuple[dict[int, int], dict[int, int], bool]) -> None:
    first, second, update = case
    with open_store(":memory:") as store:
        a = tmp_path / "a.csv"
        a.write_text(observations(first))
        import_paths(store, [a])
        text = observations(second)
        b = tmp_path / "b.csv"
        b.write_text(text + "\n")
        f = import_paths(store, [b], update_existing=update).files[0]
        present = {d for d in second if d in first}
        different = {d for d in present if first[d] != second[d]}
        assert (f.rows_accepted, f.rows_already_present) == (len(second) - len(present), len(present))
        assert (f.rows_present_different, f.rows_updated) == (len(different), len(different) if update else 0)
        assert_every_row_accounted(text, f)
        expected = {**first, **{d: v for d, v in second.items() if d not in first or update}}
        stored = dict(store.con.execute(
            "SELECT CAST(substr(encounter_id, 2) AS INTEGER), value FROM observations").fetchall())
        assert stored == {d: float(v) for d, v in expected.items()}
        assert snapshot(store)["observations"] == len(expected)  # one reading per key: never doubled
