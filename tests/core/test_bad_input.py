"""Bad files get one clear message naming the file and problem, and leave the workspace as it was."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from desktop.core.importers import import_paths
from desktop.core.importers.report import FileReport
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store, open_store

from .conftest import snapshot, write

GOOD = (
    "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"
    + "".join(
        f"2020-01-{d:02d}T10:00:00Z,p{d % 3},e{d},8867-4,Heart rate,{60 + d},/min,numeric\n"
        f"2020-01-{d:02d}T10:00:00Z,p{d % 3},e{d},8480-6,Systolic Blood Pressure,{110 + d},mm[Hg],numeric\n"
        for d in range(1, 21)
    )
)


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> Store:
    """A workspace that already holds data, so 'unchanged' is a real claim."""
    import_paths(store, [write(tmp_path / "seed.csv", GOOD)])
    return store


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary data"),
        # Latin-1 and UTF-16 are read now (test_import_encodings.py); what cannot be told apart is refused:
        ("DATE,PATIENT\n2020-01-01,Zoë\n".encode() + "2020-01-02,Müller\n".encode("latin-1"),
         "line 3 is not valid UTF-8 (byte 0xfc) but line 2 is UTF-8: the file mixes two encodings"),
        (b"DATE,PATIENT\n2020-01-01,Zo\x81\n", "byte 0x81 on line 2 is not Windows-1252 or Latin-1 either"),
        (b"DATE,PATIENT\n2020-01-01,Zo\xeb\x01\n", "line 2 holds a control character"),
        ("DATE,PATIENT\n".encode("utf-16")[:-1], "ends in the middle of a character"),
        (b"\nDATE,PATIENT\n", "line 1 is blank"),
        (b"DATE,,VALUE\n1,2,3\n", "empty column name at column 2"),
        (b"DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UNITS,TYPE\n2020-01-01,p,e,1,x,u,numeric\n",
         "lacks the required column VALUE"),
        (b"foo,bar\n1,2\n", "match no format"),
    ],
)
def test_bad_file_one_clear_message_nothing_stored(seeded: Store, tmp_path: Path, content: bytes, message: str) -> None:
    before = snapshot(seeded)
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    report = import_paths(seeded, [path])
    assert [f.status for f in report.files] == ["failed"]
    assert str(path) in (report.files[0].message or "")
    assert message in (report.files[0].message or "")
    assert snapshot(seeded) == before


def test_missing_file(store: Store, tmp_path: Path) -> None:
    report = import_paths(store, [tmp_path / "nope.csv"])
    assert report.files[0].status == "failed" and "no such file" in (report.files[0].message or "")


def test_folder_is_one_transaction(seeded: Store, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder / "patients.csv", "Id,BIRTHDATE,FIRST,LAST,GENDER\nnew1,1980-01-01,Ann,Lee,F\n")
    # Two encodings in one file (was: Latin-1, which is read now): its encoding cannot be told.
    (folder / "observations.csv").write_bytes("DATE,PATIENT\n2020,Zoë\n".encode() + "2021,Müller\n".encode("latin-1"))
    before = snapshot(seeded)
    report = import_paths(seeded, [folder])
    assert report.files[0].status == "failed"
    assert snapshot(seeded) == before  # the good patients.csv was not kept either


def test_cancel_leaves_workspace_unchanged(seeded: Store, tmp_path: Path) -> None:
    token = TaskState()
    before = snapshot(seeded)
    big = write(tmp_path / "big.csv", GOOD.replace("p0", "q0").replace("p1", "q1").replace("p2", "q2"))
    token.cancel()
    report = import_paths(seeded, [big], cancel=token)
    assert report.files[0].status == "cancelled"
    assert snapshot(seeded) == before


def test_cancel_during_import_rolls_back(seeded: Store, tmp_path: Path) -> None:
    token = TaskState()
    before = snapshot(seeded)

    def cancel_once_started(fraction: float, message: str) -> None:
        if message.startswith("importing"):
            token.cancel()

    report = import_paths(seeded, [write(tmp_path / "more.csv", GOOD.replace("e1,", "x1,"))],
                          progress=cancel_once_started, cancel=token)
    assert report.files[0].status == "cancelled"
    assert snapshot(seeded) == before


LINES = GOOD.splitlines(keepends=True)
garbage = st.text(alphabet=st.characters(blacklist_characters='"\n\r', blacklist_categories=("Cs",)), max_size=30)


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    """A valid file hurt in the ways real exports get hurt: truncated, ragged, garbage values, bad bytes."""
    lines = list(LINES)
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(1, len(lines) - 1))
        kind = draw(st.sampled_from(["drop-field", "extra-field", "garbage-field", "garbage-line", "dup"]))
        fields = lines[i].rstrip("\n").split(",")
        if kind == "drop-field" and len(fields) > 1:
            fields.pop(draw(st.integers(0, len(fields) - 1)))
        elif kind == "extra-field":
            fields.append(draw(garbage).replace(",", ""))
        elif kind == "garbage-field":
            fields[draw(st.integers(0, len(fields) - 1))] = draw(garbage).replace(",", ";")
        elif kind == "garbage-line":
            fields = [draw(garbage)]
        else:
            lines.insert(i, lines[i])
        lines[i] = ",".join(fields) + "\n"
    data = "".join(lines).encode("utf-8")
    if draw(st.booleans()):
        data = data[: draw(st.integers(len(LINES[0]) + 1, len(data)))]
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(len(LINES[0]), len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xe9", b"\x00"])) + data[at:]
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=corrupted())
@example(data=(LINES[0] + "\x0c\n  \n\n" + "".join(LINES[1:])).encode())  # whitespace-only and empty lines
def test_corrupted_files_never_crash_or_half_import(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "input.csv"
    path.write_bytes(data)
    with open_store(":memory:") as store:
        report = import_paths(store, [path]).files[0]
        counts = snapshot(store)
        if report.status == "failed":
            assert report.message and str(path) in report.message
            assert counts["observations"] == counts["imports"] == 0
            return
        assert report.status == "imported"
        # A stray byte may make the file plausible Windows-1252 text: it is then read as such, and says so.
        text = data.decode(PYTHON_CODEC[str(report.encoding)])
        assert_every_row_accounted(text, report)
        assert counts["observations"] == report.rows_accepted


def _continuation_lines(text: str) -> set[int]:
    """Lines that continue a quoted value begun on an earlier line (closed later: an unclosed one is not)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    out: set[int] = set()
    ended = 0
    try:
        for _row in reader:
            out |= set(range(ended + 2, reader.line_num + 1))
            ended = reader.line_num
    except csv.Error:
        return set()
    return out


PYTHON_CODEC = {"utf-8": "utf-8", "latin-1": "latin-1", "windows-1252": "cp1252", "utf-16-le": "utf-16-le",
                "utf-16-be": "utf-16-be"}


def assert_every_row_accounted(text: str, report: FileReport) -> None:
    """accepted + rejected + already present = data rows of the file; every rejection names a real line of
    the file and gives a reason true of it (a whitespace-only line is said to be blank, and only it)."""
    all_lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if all_lines and all_lines[-1] == "":
        all_lines.pop()  # the newline ending the last line
    # DuckDB's reader skips only truly empty lines; a line of spaces or form feeds is a (bad) row; a quoted
    # value over two lines makes one row of them.
    data_lines = [ln for ln in all_lines[1:] if ln not in ("", "\r")]
    rows = len(data_lines) - len(_continuation_lines(text))
    assert report.rows_accepted + report.rows_rejected + report.rows_already_present == rows
    assert report.rows_already_present == report.rows_present_unchanged + report.rows_present_different
    lines = [int(str(r["line"])) for r in report.rejections]
    assert len(lines) == len(set(lines)), "each rejected line once"
    for r in report.rejections:
        line = int(str(r["line"]))
        assert 2 <= line <= len(all_lines)
        content = all_lines[line - 1]
        assert content not in ("", "\r")
        blank = content.strip(" \t\f\v\r") == ""
        assert (r["reason"] == f"line {line} is blank (only whitespace)") == blank, (content, r)


def test_cli_import_reports_json_and_exit_code(tmp_path: Path) -> None:
    workspace = tmp_path / "w.duckdb"
    bad = write(tmp_path / "obs.csv", GOOD + "2020-02-01T10:00:00Z,p1,e9,8867-4,Heart rate,400,/min,numeric\n")
    run = subprocess.run([sys.executable, "-m", "desktop", "import", "--workspace", str(workspace), str(bad)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert report["files"][0]["rows_accepted"] == 40
    assert report["files"][0]["rejections"] == [
        {"line": 42, "reason": "implausible Heart rate 400 /min (plausible 1-300 /min)"}]
    good = write(tmp_path / "good.csv", GOOD.replace("p1", "z1"))
    run = subprocess.run([sys.executable, "-m", "desktop", "import", "--workspace", str(workspace), str(good)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout
    patients = subprocess.run([sys.executable, "-m", "desktop", "patients", "--workspace", str(workspace)],
                              capture_output=True, text=True, check=True)
    assert {p["id"] for p in json.loads(patients.stdout)} == {"p0", "p1", "p2", "z1"}
    summary = subprocess.run([sys.executable, "-m", "desktop", "summary", "--workspace", str(workspace),
                              "--patient", "p1"], capture_output=True, text=True, check=True)
    assert json.loads(summary.stdout)["patient"]["id"] == "p1"
    missing = subprocess.run([sys.executable, "-m", "desktop", "summary", "--workspace", str(workspace),
                              "--patient", "nobody"], capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "nobody" in missing.stderr


def test_an_unclosed_quote_names_every_line_it_swallowed(store: Store, tmp_path: Path) -> None:
    lines = GOOD.splitlines(keepends=True)
    lines[5] = lines[5].replace("Heart rate", '"Heart rate')  # line 6 opens a quote that never closes
    text = "".join(lines)
    f = import_paths(store, [write(tmp_path / "obs.csv", text)]).files[0]
    assert f.rows_accepted == 4
    assert f.rejections[0] == {"line": 6, "reason": "malformed line: Value with unterminated quote found."}
    assert f.rejections[-1] == {"line": 41, "reason": "line 41 is inside the quote opened on line 6, which is "
                                                      "never closed"}
    assert_every_row_accounted(text, f)


def test_an_unreadable_file_is_a_message_not_a_traceback(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "locked.csv", "DATE,PATIENT\n")
    # chmod 0 does not stop root (CI runs as root): the open itself fails, as it does for a locked file.
    with mock.patch.object(Path, "open", side_effect=PermissionError(13, "Permission denied")):
        report = import_paths(store, [path])
    assert report.files[0].status == "failed"
    assert report.files[0].message == f"{path}: cannot be read (Permission denied)"


def test_a_value_over_two_lines_keeps_every_later_line_number(store: Store, tmp_path: Path) -> None:
    lines = GOOD.splitlines(keepends=True)
    lines[3] = lines[3].replace("Heart rate", '"Heart rate,\ntaken twice"')  # a note typed over two lines
    lines[11] = lines[11].replace(",66,", ",660,")  # an implausible value further down (now line 13)
    lines[21] = "\n" + lines[21].replace(",71,", ",x,")  # a blank line, then a non-number (now line 24)
    lines[30] = lines[30].replace("2020", "5'11\"", 1)  # a lone inch sign is not a quote (line 33)
    text = "".join(lines)
    f = import_paths(store, [write(tmp_path / "obs.csv", text)]).files[0]
    assert [(r["line"], str(r["reason"]).split(" (")[0]) for r in f.rejections] == [
        (13, "implausible Heart rate 660 /min"), (24, "value 'x' is not a number"),
        (33, "time '5'11\"-01-15T10:00:00Z' is not a date")]
    assert_every_row_accounted(text, f)
    assert store.con.execute("SELECT count(*) FROM observations").fetchone() == (37,)
