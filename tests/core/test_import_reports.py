"""Issue 22: no file loses a row or a report. Headers read by the row reader, counts true by construction
(also across the files of one call), multi-line records named by their lines, folders walked, and a report
for every file whatever stops the import."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.core.importers import (
    ColumnMapping,
    MeasurementColumn,
    import_paths,
    pipeline,
    plan_import,
    run_import,
)
from desktop.core.importers.report import NOT_REACHED
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store, open_store

from .conftest import snapshot, write

LONG_HEADER = "patient,time,measurement,value,unit"
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True, check=False,
                          cwd=cwd, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(cwd or REPO)})


def long_rows(n: int, patient: str = "p1") -> str:
    return "".join(f"{patient},2020-01-{i % 28 + 1:02d}T{i % 24:02d}:00:00,Heart rate,{60 + i % 30},/min\n"
                   for i in range(n))


# Headers ----------------------------------------------------------------------------------------------------


def test_a_header_field_over_128_kib_is_read_like_any_other(store: Store, tmp_path: Path) -> None:
    wide = "note " + "x" * 200_000  # Python's csv module stops at 131,072 characters unless told otherwise
    path = write(tmp_path / "long.csv", f'{LONG_HEADER},"{wide}"\n' + long_rows(5).replace("\n", ",n\n"))
    f = import_paths(store, [path]).files[0]
    assert (f.status, f.rows_accepted, f.rows_rejected) == ("imported", 5, 0), f.message


def test_an_unclosed_quote_in_the_header_is_named_with_its_line(store: Store, tmp_path: Path) -> None:
    before = snapshot(store)
    path = write(tmp_path / "open.csv", 'patient,time,measurement,value,"unit\n' + long_rows(400))
    f = import_paths(store, [path]).files[0]
    assert f.status == "failed" and f.rows_accepted == 0
    assert f.message is not None and "line 1 (the header) opens a quote" in f.message
    assert "never closed" in f.message
    assert snapshot(store) == before


@pytest.mark.parametrize(("header", "words"), [
    ("first,last,last", "names the column 'last' twice (columns 2 and 3)"),
    ("Patient,patient,time", "names the column 'patient' twice (columns 1 and 2)"),  # SQL names are case-blind
    ("a, b ,b", "names the column 'b' twice (columns 2 and 3)"),
    ("a,,b", "empty column name at column 2"),
])
def test_duplicate_or_empty_column_names_are_said_in_words(
        store: Store, tmp_path: Path, header: str, words: str) -> None:
    f = import_paths(store, [write(tmp_path / "dup.csv", f"{header}\n1,2,3\n")]).files[0]
    assert f.status == "failed" and f.message is not None
    assert words in f.message and "Binder" not in f.message


# Line numbers of records over several lines -------------------------------------------------------------------


def test_a_record_over_two_lines_is_named_by_its_first_line_and_its_span(store: Store, tmp_path: Path) -> None:
    lines = [f"{LONG_HEADER},note",
             'p1,2020-01-01T10:00:00,Heart rate,70,/min,"a\n\nb"',  # a blank line inside a quoted value
             'p1,2020-01-02T10:00:00,,71,/min,"two\nlines"',        # lines 5-6: measurement is empty
             "p1,2020-01-03T10:00:00,Heart rate,72,/min,x"]
    f = import_paths(store, [write(tmp_path / "notes.csv", "\n".join(lines) + "\n")]).files[0]
    assert f.rejections == [{"line": 5, "reason": "measurement is empty", "last_line": 6}]
    assert f.rows_accepted == 2


# Counts across the files of one call --------------------------------------------------------------------------

WIDE = ColumnMapping(patient="id", time="when", measurements=[
    MeasurementColumn("hr", "Heart rate", "/min"), MeasurementColumn("sbp", "Systolic blood pressure", "mmHg")])


def _wide(rows: list[tuple[str, int, int, int]]) -> str:
    return "id,when,hr,sbp\n" + "".join(f"{p},2020-01-{d:02d}T08:00:00,{hr},{sbp}\n" for p, d, hr, sbp in rows)


def _assert_counted(report_files: list[dict[str, object]] | list, records: dict[str, int]) -> None:
    for f in report_files:
        f = f if isinstance(f, dict) else f.__dict__
        if f["status"] != "imported":
            continue
        counts = (f["rows_accepted"], f["rows_rejected"], f["rows_already_present"])
        assert min(counts) >= 0, f
        assert sum(counts) == records[str(f["file"])], f


def test_two_wide_files_with_the_same_readings_in_one_call(store: Store, tmp_path: Path) -> None:
    rows = [(f"p{i}", i % 28 + 1, 70 + i, 120 + i) for i in range(40)]
    first = write(tmp_path / "a.csv", _wide(rows))
    second = write(tmp_path / "b.csv", _wide(rows[::-1]))  # the same readings, not the same file
    report = run_import(store, paths=[first, second], mapping=WIDE, state=TaskState())
    a, b = report.files
    assert (a.rows_accepted, a.rows_rejected, a.rows_already_present) == (40, 0, 0)
    assert (b.rows_accepted, b.rows_rejected, b.rows_already_present) == (0, 0, 40)
    assert "0 observations stored from 40 rows" in b.notes
    assert store.con.execute("SELECT count(*) FROM observations").fetchone() == (80,)


READING = st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.integers(1, 6), st.integers(40, 200),
                    st.sampled_from([110, 120, 400]))  # 400: implausible, the row is rejected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.lists(READING, min_size=1, max_size=12), min_size=2, max_size=4),
       wide=st.booleans(), update=st.booleans())
def test_counts_add_up_when_files_of_one_call_share_readings(
        tmp_path_factory: pytest.TempPathFactory, files: list[list[tuple[str, int, int, int]]], wide: bool,
        update: bool) -> None:
    tmp = tmp_path_factory.mktemp("shared")
    paths, records = [], {}
    for i, rows in enumerate(files):
        if wide:
            text = _wide(rows)
        else:
            text = LONG_HEADER + "\n" + "".join(f"{p},2020-01-{d:02d}T08:00:00,Heart rate,{hr},/min\n"
                                                for p, d, hr, _ in rows)
        paths.append(write(tmp / f"f{i}.csv", text))
        records[str(paths[-1])] = len(rows)
    with open_store(":memory:") as store:
        mapping = WIDE if wide else None
        report = run_import(store, paths=paths, mapping=mapping, update_existing=update, state=TaskState())
        assert all(f.status in ("imported", "already imported") for f in report.files), report.to_dict()
        _assert_counted(report.files, records)
        # What the notes say was stored is what the workspace holds (an update replaces, so it does not add).
        stored = store.con.execute("SELECT count(*) FROM observations").fetchone()[0]
        said = sum(int(m.group(1)) for f in report.files for n in f.notes
                   for m in [re.match(r"([\d,]+) observations? (?:and .* )?stored from", n)] if m)
        if wide and not update:
            assert said == stored


# Every file reported, whatever stops the import ---------------------------------------------------------------


def test_an_unexpected_error_in_one_file_leaves_the_others_reported(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [write(tmp_path / f"{name}.csv", LONG_HEADER + "\n" + long_rows(3, name)) for name in "abc"]
    real = pipeline._import_file

    def failing(con, item, **options):  # type: ignore[no-untyped-def]
        if item.facts.path.name == "b.csv":
            raise RuntimeError("disk said no")
        return real(con, item, **options)

    monkeypatch.setattr(pipeline, "_import_file", failing)
    report = run_import(store, paths=paths, state=TaskState())
    assert [(Path(f.file).name, f.status, f.committed) for f in report.files] == [
        ("a.csv", "imported", True), ("b.csv", "failed", False), ("c.csv", "imported", True)]
    assert "unexpected error (RuntimeError: disk said no)" in str(report.files[1].message)
    assert report.to_dict()["committed"] == [str(paths[0]), str(paths[2])]


def test_an_interrupt_lists_the_files_not_reached(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [write(tmp_path / f"{name}.csv", LONG_HEADER + "\n" + long_rows(3, name)) for name in "abc"]
    real = pipeline._import_file

    def interrupted(con, item, **options):  # type: ignore[no-untyped-def]
        if item.facts.path.name == "b.csv":
            raise KeyboardInterrupt
        return real(con, item, **options)

    monkeypatch.setattr(pipeline, "_import_file", interrupted)
    report = run_import(store, paths=paths, state=TaskState())
    assert [(Path(f.file).name, f.status, f.committed) for f in report.files] == [
        ("a.csv", "imported", True), ("b.csv", "cancelled", False), ("c.csv", NOT_REACHED, False)]
    assert report.interrupted and report.exit_code == 2
    assert store.con.execute("SELECT count(DISTINCT patient_id) FROM observations").fetchone() == (1,)


# Folders ------------------------------------------------------------------------------------------------------


def test_a_folder_is_walked_and_what_is_skipped_is_listed(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    synthea = folder / "synthea"
    write(synthea / "observations.csv",
          "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"
          "2020-01-01T10:00:00Z,p1,e1,8867-4,Heart rate,70,/min,numeric\n")
    write(synthea / "README.txt", "an export\n")
    write(folder / "long.csv", LONG_HEADER + "\n" + long_rows(2, "p2"))
    write(folder / "deep" / "deeper" / "more.csv", LONG_HEADER + "\n" + long_rows(1, "p3"))
    (folder / "empty").mkdir()
    planned = plan_import(store, paths=[folder])
    assert [u.path for u in planned.units] == [folder, folder / "deep" / "deeper", synthea]
    report = run_import(store, paths=[folder], state=TaskState())
    by_name = {Path(f.file).name: f for f in report.files}
    assert by_name["observations.csv"].status == "imported" and by_name["observations.csv"].rows_accepted == 1
    assert by_name["long.csv"].rows_accepted == 2 and by_name["more.csv"].rows_accepted == 1
    assert (by_name["README.txt"].status, by_name["README.txt"].message) == ("skipped", "not a .csv file")
    assert store.con.execute("SELECT count(DISTINCT patient_id) FROM observations").fetchone() == (3,)


def test_cli_import_of_the_sample_folder_names_its_synthea_folder(tmp_path: Path) -> None:
    run = cli("import", "--workspace", str(tmp_path / "w.duckdb"), str(REPO / "resources" / "sample"), cwd=tmp_path)
    assert "Traceback" not in run.stderr
    files = {Path(f["file"]).relative_to(REPO / "resources" / "sample").as_posix(): f
             for f in json.loads(run.stdout)["files"]}
    assert files["synthea/observations.csv"]["status"] == "imported"
    assert files["synthea/observations.csv"]["committed"] is True
    assert files["admissions_wide.csv"]["status"] == "imported"
    assert all(f["status"] == "skipped" and f["message"] for name, f in files.items() if not name.endswith(".csv"))


# Make targets -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "needs"), [
    ("eval-assistant", ["$(SAMPLE_WORKSPACE)", "$(DEFAULT_MODEL)"]),
    ("bench-chat", ["$(SAMPLE_WORKSPACE)", "$(DEFAULT_MODEL)"]),
    ("run", ["$(SAMPLE_WORKSPACE)", "$(DEFAULT_MODEL)"]),
    ("model", ["$(SAMPLE_WORKSPACE)", "$(DEFAULT_MODEL)"]),
])
def test_make_targets_build_what_they_read(target: str, needs: list[str]) -> None:
    rule = re.search(rf"^{re.escape(target)}:([^\n]*)$", (REPO / "Makefile").read_text(), re.M)
    assert rule is not None
    prerequisites = rule.group(1).split()
    assert all(n in prerequisites for n in needs), prerequisites


def test_lines_are_counted_at_line_feeds_when_a_carriage_return_ends_a_record(store: Store, tmp_path: Path) -> None:
    """A lone CR (an old Mac ending) ends a record but not a line: later rejections keep their line."""
    text = (f"{LONG_HEADER},note\n"
            "p1,2020-01-01T10:00:00,Heart rate,70,/min,x\r\n"            # line 2 (CRLF: endings change)
            "p1,2020-01-02T10:00:00,Heart rate,71,/min,x\r"              # line 3, a record ...
            "p1,2020-01-03T10:00:00,Heart rate,72,/min,x\n"              # ... and another on the same line
            'p1,2020-01-04T10:00:00,,73,/min,"two\nlines"\n'            # lines 4-5: measurement is empty
            "p1,2020-01-05T10:00:00,Heart rate,abc,/min,x\n")           # line 6
    path = tmp_path / "mac.csv"
    path.write_bytes(text.encode())
    f = import_paths(store, [path]).files[0]
    assert f.rejections == [{"line": 4, "reason": "measurement is empty", "last_line": 5},
                            {"line": 6, "reason": "value 'abc' is not a number"}]
    assert f.rows_accepted == 3


def test_a_folder_that_cannot_go_in_lists_each_of_its_files(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder / "a.csv", LONG_HEADER + "\n" + long_rows(2))
    write(folder / "b.csv", "first,last,last\n1,2,3\n")
    report = import_paths(store, [folder])
    by_name = {Path(f.file).name: f for f in report.files}
    assert set(by_name) == {"a.csv", "b.csv"} and all(f.status == "failed" for f in report.files)
    assert "names the column 'last' twice" in str(by_name["b.csv"].message)
    assert str(by_name["a.csv"].message).startswith("a.csv was not imported either: b.csv beside it")
