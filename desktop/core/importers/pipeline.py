"""Importing files and folders into a workspace: one transaction per path given, a report for each file.

A path that fails (bad file, cancelled, DuckDB error) leaves the workspace exactly as it was; rows that
fail their checks are reported with file, line and reason while the rest of the file is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from desktop.core.importers.detect import detect_format, missing_columns
from desktop.core.importers.entities import UPDATE_EXISTING, KeyedResult
from desktop.core.importers.errors import ImportCancelled, ImportFailed
from desktop.core.importers.mapping import ColumnMapping
from desktop.core.importers.observations import clear_reader_rejects
from desktop.core.importers.present import CONDITIONS, settle_present_rows
from desktop.core.importers.reading import arranged_reading
from desktop.core.importers.report import (
    FileReport,
    ImportReport,
    note_reading,
    reader_failure,
    rejections_of,
    report_present,
    report_present_rows,
)
from desktop.core.importers.sniff import CsvFacts, check_csv
from desktop.core.importers.synthea import FOLDER_ORDER, IMPORTERS
from desktop.core.importers.synthea_history import HISTORY_NATURAL_KEYS
from desktop.core.importers.tabular import import_mapped_file
from desktop.core.store import Store
from desktop.core.tasks import TaskState

#: progress(fraction 0..1, message)
Progress = Callable[[float, str], None]


@dataclass
class PlannedFile:
    facts: CsvFacts
    format: str
    mapping: ColumnMapping | None


def plan(store: Store, path: Path, mapping: ColumnMapping | None = None) -> list[PlannedFile]:
    """What importing ``path`` would do: each CSV with its detected format. Raises ImportFailed."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        if not files:
            raise ImportFailed(f"{path}: the folder holds no .csv files")
        planned = []
        for f in files:
            facts = check_csv(f)
            fmt, found = detect_format(facts.header, store.con)
            if fmt == "unknown" and missing_columns(facts.header) is None:
                fmt = "not-used"  # e.g. a notes CSV beside a Synthea export: skipped, not fatal
            planned.append(PlannedFile(facts, fmt, found))
        order = {name: i for i, name in enumerate(FOLDER_ORDER)}
        planned.sort(key=lambda p: order.get(p.format, len(order)))
        return planned
    facts = check_csv(path)
    if mapping is not None:
        problems = mapping.problems(facts.header)
        if problems:
            raise ImportFailed(f"{path}: the column mapping does not fit this file: " + "; ".join(problems))
        return [PlannedFile(facts, "mapped", mapping)]
    fmt, found = detect_format(facts.header, store.con)
    return [PlannedFile(facts, fmt, found)]


def import_paths(
    store: Store,
    paths: list[Path],
    *,
    mapping: ColumnMapping | None = None,
    progress: Progress | None = None,
    cancel: TaskState | None = None,
    update_existing: bool = False,
) -> ImportReport:
    """Import each path (a CSV file or a Synthea export folder) in its own transaction.

    ``update_existing``: a row the workspace already holds (the same patient or encounter Id, or a reading
    or condition of the same patient, time and code) with different values replaces the stored values;
    without it the stored values are kept and the row is reported as already present with different values.
    """
    token = UPDATE_EXISTING.set(update_existing)
    try:
        return _import_paths(store, paths, mapping, progress, cancel)
    finally:
        UPDATE_EXISTING.reset(token)


def _import_paths(
    store: Store, paths: list[Path], mapping: ColumnMapping | None, progress: Progress | None,
    cancel: TaskState | None,
) -> ImportReport:
    report = ImportReport()
    total_bytes = sum(_size(p) for p in paths) or 1
    done_bytes = 0
    for path in paths:
        if cancel is not None and cancel.cancelled:
            report.files.append(FileReport(str(path), "", "cancelled", message="import cancelled"))
            continue
        try:
            planned = plan(store, path, mapping)
        except ImportFailed as exc:
            report.files.append(FileReport(str(path), "", "failed", message=str(exc)))
            continue
        report.files.extend(_import_unit(store, planned, progress, cancel, done_bytes, total_bytes))
        done_bytes += _size(path)
    if progress:
        progress(1.0, "done")
    return report


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def _import_unit(
    store: Store, planned: list[PlannedFile], progress: Progress | None, cancel: TaskState | None,
    done_bytes: int, total_bytes: int,
) -> list[FileReport]:
    """All files of one path, in one transaction: all of them go in, or none does."""
    reports: list[FileReport] = []
    unregister = cancel.on_cancel(store.con.interrupt) if cancel else (lambda: None)
    current: CsvFacts | None = None
    try:
        with store.transaction() as con:
            for item in planned:
                if cancel is not None and cancel.cancelled:
                    raise ImportCancelled()
                if progress:
                    progress(done_bytes / total_bytes, f"importing {item.facts.path.name}")
                current = item.facts
                reports.append(_import_file(con, item))
                done_bytes += item.facts.size_bytes
            if cancel is not None and cancel.cancelled:
                raise ImportCancelled()
    except (ImportCancelled, duckdb.InterruptException):
        return [FileReport(str(p.facts.path), p.format, "cancelled", message="import cancelled; nothing was stored")
                for p in planned]
    except (ImportFailed, duckdb.Error) as exc:
        failed = str(exc) if isinstance(exc, ImportFailed) else reader_failure(current, exc)
        return [
            FileReport(str(p.facts.path), p.format, "failed", encoding=p.facts.encoding,
                       message=failed if current is None or p.facts.path == current.path else
                       f"{p.facts.path.name} was not imported either: {current.path.name} beside it failed, and a "
                       f"folder goes in whole or not at all ({failed})")
            for p in planned
        ]
    finally:
        unregister()
    return reports


def _import_file(con: duckdb.DuckDBPyConnection, item: PlannedFile) -> FileReport:
    facts = item.facts
    report = FileReport(str(facts.path), item.format, "imported")
    seen = con.execute("SELECT import_id FROM imports WHERE sha256 = ?", [facts.sha256]).fetchone()
    if seen:
        report.status = "already imported"
        report.message = f"{facts.path.name} was imported before (same content); nothing added"
        return report
    if item.format in ("synthea-other", "not-used"):
        report.status = "skipped"
        report.message = (
            "a Synthea file Vitalsight does not use" if item.format == "synthea-other"
            else "its columns match no format Vitalsight knows; import it on its own to map them"
        )
        return report
    if item.format == "unknown":
        near = missing_columns(facts.header)
        if near is not None:
            layout, missing = near
            raise ImportFailed(
                f"{facts.path}: looks like a {layout} file but line 1 (the header) lacks the required "
                f"column{'s' if len(missing) > 1 else ''} {', '.join(m.upper() for m in missing)}"
            )
        raise ImportFailed(
            f"{facts.path}: the columns ({', '.join(facts.header[:12])}) match no format Vitalsight knows; "
            "map them once (Import > Map columns, or --mapping FILE.json) and they are remembered"
        )
    import_id = con.execute("SELECT nextval('import_id_seq')").fetchall()[0][0]
    clear_reader_rejects(con)
    with arranged_reading(con, facts):
        if item.format in IMPORTERS:
            result = IMPORTERS[item.format](con, facts, import_id)
        else:
            assert item.mapping is not None
            result = import_mapped_file(con, facts, item.mapping, import_id)
    present = None
    if item.format in ("synthea-observations", "mapped"):
        present = settle_present_rows(con, import_id, update_existing=UPDATE_EXISTING.get())
        result.accepted -= present.total
    elif item.format == "synthea-conditions":
        present = settle_present_rows(con, import_id, update_existing=UPDATE_EXISTING.get(),
                                              natural=CONDITIONS)
        result.accepted -= present.total
    elif item.format in HISTORY_NATURAL_KEYS:
        present = settle_present_rows(con, import_id, update_existing=UPDATE_EXISTING.get(),
                                      natural=HISTORY_NATURAL_KEYS[item.format][0])
        result.accepted -= present.total
    rejections = rejections_of(facts, result)
    report.rows_accepted = result.accepted
    report.rows_rejected = len(rejections)
    report.rejections = [{"line": line, "reason": reason} for line, reason in rejections]
    report.notes = result.notes
    if isinstance(result, KeyedResult) and result.present:
        report_present(report, result, facts)
    if present is not None and present.total:
        what = ("condition", "same patient, code and onset") if item.format == "synthea-conditions" else (
            HISTORY_NATURAL_KEYS[item.format][1:] if item.format in HISTORY_NATURAL_KEYS
            else ("reading", "same patient, time and measurement"))
        report_present_rows(report, present, *what)
    note_reading(report, facts)
    if result.accepted == 0 and not rejections and not report.rows_already_present:
        report.notes.append("the file has a header but no data rows")
    con.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [import_id, facts.path.name, facts.sha256, item.format, result.accepted, len(rejections)],
    )
    if rejections:
        con.executemany(
            "INSERT INTO import_rejections VALUES (?, ?, ?)", [(import_id, line, reason) for line, reason in rejections]
        )
    return report
