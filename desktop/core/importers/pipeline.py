"""Importing files and folders into a workspace: one transaction per unit (a file, or the CSV files directly
inside one folder; a folder given is walked, a Synthea export found at any depth), a report for each file.

A path that fails (bad file, cancelled, DuckDB error) leaves the workspace exactly as it was; rows that
fail their checks are reported with file, line and reason while the rest of the file is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from desktop.core.importers.detect import detect_format, missing_columns
from desktop.core.importers.entities import KeyedResult
from desktop.core.importers.errors import ImportCancelled, ImportFailed
from desktop.core.importers.mapping import ColumnMapping
from desktop.core.importers.observations import clear_reader_rejects
from desktop.core.importers.present import CONDITIONS, settle_present_rows
from desktop.core.importers.reading import arranged_reading
from desktop.core.importers.report import (
    NOT_REACHED,
    FileReport,
    ImportReport,
    note_reading,
    reader_failure,
    rejection_entries,
    rejections_of,
    report_present,
    report_present_rows,
)
from desktop.core.importers.sniff import CsvFacts, check_csv
from desktop.core.importers.sql import insert_rows
from desktop.core.importers.synthea import FOLDER_ORDER, IMPORTERS, KEYED_IMPORTERS
from desktop.core.importers.synthea_history import HISTORY_NATURAL_KEYS
from desktop.core.importers.tabular import import_mapped_file
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store

#: progress(fraction 0..1, message)
Progress = Callable[[float, str], None]


@dataclass
class PlannedFile:
    facts: CsvFacts
    format: str
    mapping: ColumnMapping | None


@dataclass
class PlannedUnit:
    """What goes in as one transaction: a CSV file, or the CSV files directly inside one folder."""

    path: Path
    files: list[PlannedFile] = field(default_factory=list)
    #: why nothing of it can be imported (then ``files`` is empty)
    problem: str | None = None
    #: the path the user gave that this unit was found in (itself, or a folder above it)
    given: Path | None = None
    #: to be read through a column mapping (set even when the mapping could not be applied)
    mapped: bool = False
    #: the CSV files a unit with a problem held (each is reported, not only the folder)
    members: list[Path] = field(default_factory=list)


_MAX_DEPTH = 12  # a folder tree deeper than this is not an export: said, not walked forever


def plan_path(
    store: Store, path: Path, mapping: ColumnMapping | None = None
) -> tuple[list[PlannedUnit], list[FileReport]]:
    """The units ``path`` holds (a file; a folder's own CSVs; each sub-folder with CSVs, a Synthea export
    among them) and the files skipped on the way, each with its reason. Reads and hashes each file once."""
    if not path.is_dir():
        return [_plan_unit(store, path, [path], mapping, given=path)], []
    if mapping is not None:
        return [PlannedUnit(path, problem=(f"{path}: a column mapping applies to one CSV file, not a folder; "
                                           "give the file itself"), given=path)], []
    units: list[PlannedUnit] = []
    skipped: list[FileReport] = []
    _walk(store, path, path, 0, units, skipped)
    if not units:
        units.append(PlannedUnit(path, problem=f"{path}: the folder holds no .csv files" + (
            f" (skipped: {len(skipped)} other file{'s' if len(skipped) != 1 else ''}, listed)" if skipped else ""),
            given=path))
    return units, skipped


def _walk(store: Store, folder: Path, given: Path, depth: int, units: list[PlannedUnit],
          skipped: list[FileReport]) -> None:
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        skipped.append(FileReport(str(folder), "", "skipped", message=f"cannot be read ({exc.strerror or exc})"))
        return
    csvs, folders = [], []
    for entry in entries:
        if entry.is_symlink() and entry.is_dir():
            skipped.append(FileReport(str(entry), "", "skipped", message="a link to a folder: not followed"))
        elif entry.is_dir():
            folders.append(entry)
        elif entry.is_file() and entry.suffix.lower() == ".csv":
            csvs.append(entry)
        else:
            skipped.append(FileReport(str(entry), "", "skipped", message="not a .csv file"))
    if csvs:
        units.append(_plan_unit(store, folder, csvs, None, given=given))
    for sub in folders:
        if depth + 1 >= _MAX_DEPTH:
            skipped.append(FileReport(str(sub), "", "skipped",
                                      message=f"more than {_MAX_DEPTH} folders deep: not walked"))
            continue
        _walk(store, sub, given, depth + 1, units, skipped)


def _plan_unit(store: Store, path: Path, files: list[Path], mapping: ColumnMapping | None, *,
               given: Path) -> PlannedUnit:
    unit = PlannedUnit(path, given=given)
    try:
        for f in files:
            unit.files.append(_plan_file(store, f, mapping, in_folder=path.is_dir()))
    except ImportFailed as exc:
        return PlannedUnit(path, problem=str(exc), given=given, members=files)
    except Exception as exc:  # noqa: BLE001 - a file no check foresaw: a message, never a traceback
        return PlannedUnit(path, problem=f"{path}: cannot be read ({type(exc).__name__}: {exc})", given=given,
                           members=files)
    order = {name: i for i, name in enumerate(FOLDER_ORDER)}
    unit.files.sort(key=lambda p: order.get(p.format, len(order)))
    return unit


def _plan_file(store: Store, path: Path, mapping: ColumnMapping | None, *, in_folder: bool) -> PlannedFile:
    facts = check_csv(path)
    if mapping is not None:
        return map_planned(PlannedFile(facts, "unknown", None), mapping)
    fmt, found = detect_format(facts.header, store.con)
    if in_folder and fmt == "unknown" and missing_columns(facts.header) is None:
        fmt = "not-used"  # e.g. a notes CSV beside a Synthea export: skipped, not fatal
    return PlannedFile(facts, fmt, found)


def map_planned(item: PlannedFile, mapping: ColumnMapping) -> PlannedFile:
    """The planned file read through ``mapping`` (no second read). Raises ImportFailed when it does not fit."""
    problems = mapping.problems(item.facts.header)
    if problems:
        raise ImportFailed(f"{item.facts.path}: the column mapping does not fit this file: " + "; ".join(problems))
    return PlannedFile(item.facts, "mapped", mapping)


def plan(store: Store, path: Path, mapping: ColumnMapping | None = None) -> list[PlannedFile]:
    """What importing ``path`` would do: each CSV with its detected format. Raises ImportFailed."""
    units, _skipped = plan_path(store, path, mapping)
    for unit in units:
        if unit.problem:
            raise ImportFailed(unit.problem)
    return [f for unit in units for f in unit.files]


def import_paths(
    store: Store,
    paths: list[Path],
    *,
    mapping: ColumnMapping | None = None,
    progress: Progress | None = None,
    cancel: TaskState | None = None,
    update_existing: bool = False,
) -> ImportReport:
    """Import each path (a CSV file or a folder, walked) with each unit in its own transaction.

    ``update_existing``: a row the workspace already holds (the same patient or encounter Id, or a reading
    or condition of the same patient, time and code) with different values replaces the stored values;
    without it the stored values are kept and the row is reported as already present with different values.
    """
    units: list[PlannedUnit] = []
    skipped: list[FileReport] = []
    for path in paths:
        found, passed = plan_path(store, path, mapping)
        units += found
        skipped += passed
    report = run_units(store, units, progress=progress, cancel=cancel, update_existing=update_existing)
    report.files += skipped
    return report


def run_units(
    store: Store, units: list[PlannedUnit], *, progress: Progress | None = None, cancel: TaskState | None = None,
    update_existing: bool = False,
) -> ImportReport:
    """Import the planned units as planned (nothing is read again to plan), each in its own transaction,
    committed one by one. Whatever happens, every unit's files are in the report: imported (``committed``),
    already imported, skipped, failed, cancelled, or not reached (the import stopped before them)."""
    report = ImportReport()
    total_bytes = sum(f.facts.size_bytes for u in units for f in u.files) or 1
    done_bytes = 0
    for i, unit in enumerate(units):
        if unit.problem is not None:
            report.files += _refused_unit(unit, unit.problem)
            continue
        if cancel is not None and cancel.cancelled:
            report.files += [FileReport(str(p.facts.path), p.format, "cancelled", message="import cancelled")
                             for p in unit.files]
            continue
        try:
            report.files += _import_unit(store, unit.files, progress, cancel, done_bytes, total_bytes,
                                         update_existing)
        except KeyboardInterrupt:  # Ctrl+C at a terminal: the unit rolled back; say so, and what was not reached
            report.files += [FileReport(str(p.facts.path), p.format, "cancelled",
                                        message="import interrupted; nothing of this file was stored")
                             for p in unit.files]
            report.files += [FileReport(str(p.facts.path) if u.files else str(u.path), p.format if u.files else "",
                                        NOT_REACHED, message="the import was interrupted before this file")
                             for u in units[i + 1:] for p in (u.files or [None])]  # type: ignore[list-item]
            report.interrupted = True
            break
        except Exception as exc:  # noqa: BLE001 - a failure no check foresaw: the unit rolled back
            report.files += [FileReport(
                str(p.facts.path), p.format, "failed", encoding=p.facts.encoding,
                message=f"{p.facts.path}: the import of this file stopped on an unexpected error "
                        f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); nothing of it "
                        "was stored") for p in unit.files]
        done_bytes += sum(f.facts.size_bytes for f in unit.files)
    if progress:
        progress(1.0, "done")
    return report


def _refused_unit(unit: PlannedUnit, problem: str) -> list[FileReport]:
    """A unit that cannot be imported: each of its files, the one at fault with the problem."""
    if not unit.path.is_dir() or not unit.members:
        return [FileReport(str(unit.path), "", "failed", message=problem)]
    at_fault = next((m for m in unit.members if problem.startswith(f"{m}: ")), None)
    return [FileReport(str(m), "", "failed", message=problem if m == at_fault or at_fault is None else (
        f"{m.name} was not imported either: {at_fault.name} beside it cannot be imported, and a folder's files go "
        f"in together or not at all ({problem})")) for m in unit.members]


def _import_unit(
    store: Store, planned: list[PlannedFile], progress: Progress | None, cancel: TaskState | None,
    done_bytes: int, total_bytes: int, update_existing: bool,
) -> list[FileReport]:
    """All files of one unit, in one transaction: all of them go in, or none does."""
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
                reports.append(_import_file(con, item, update_existing=update_existing))
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
    for r in reports:
        r.committed = r.status == "imported"
    return reports


def _import_file(con: duckdb.DuckDBPyConnection, item: PlannedFile, *, update_existing: bool = False) -> FileReport:
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
        if item.format in KEYED_IMPORTERS:
            result = IMPORTERS[item.format](con, facts, import_id, update_existing=update_existing)
        elif item.format in IMPORTERS:
            result = IMPORTERS[item.format](con, facts, import_id)
        else:
            assert item.mapping is not None
            result = import_mapped_file(con, facts, item.mapping, import_id, update_existing=update_existing)
    present = result.settled
    if item.format == "synthea-observations":
        present = settle_present_rows(con, import_id, update_existing=update_existing)
        result.rows_present = present.total
        result.accepted -= present.total
    elif item.format == "synthea-conditions":
        present = settle_present_rows(con, import_id, update_existing=update_existing, natural=CONDITIONS)
        result.rows_present = present.total
        result.accepted -= present.total
    elif item.format in HISTORY_NATURAL_KEYS:
        present = settle_present_rows(con, import_id, update_existing=update_existing,
                                      natural=HISTORY_NATURAL_KEYS[item.format][0])
        result.rows_present = present.total
        result.accepted -= present.total
    rejections = rejections_of(facts, result)
    report.rows_accepted = result.accepted
    report.rows_rejected = len(rejections)
    report.rejections = rejection_entries(facts, rejections)
    report.notes = result.notes
    if isinstance(result, KeyedResult) and result.present:
        report_present(report, result, facts)
    if present is not None and present.total:
        what = ("condition", "same patient, code and onset") if item.format == "synthea-conditions" else (
            HISTORY_NATURAL_KEYS[item.format][1:] if item.format in HISTORY_NATURAL_KEYS
            else ("reading", "same patient, time and measurement"))
        report_present_rows(report, present, *what, rows=result.rows_present)
    note_reading(report, facts)
    if result.accepted == 0 and not rejections and not report.rows_already_present:
        report.notes.append("the file has a header but no data rows")
    con.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [import_id, facts.path.name, facts.sha256, item.format, result.accepted, len(rejections)],
    )
    insert_rows(con, "import_rejections", ("INTEGER", "BIGINT", "VARCHAR"),
                [(import_id, line, reason) for line, reason in rejections])
    return report
