"""Importing files and folders into a workspace: one transaction per path given, a report for each file.

A path that fails (bad file, cancelled, DuckDB error) leaves the workspace exactly as it was; rows that
fail their checks are reported with file, line and reason while the rest of the file is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from desktop.core.importers.detect import detect_format, missing_columns
from desktop.core.importers.entities import UPDATE_EXISTING, KeyedResult
from desktop.core.importers.errors import ImportCancelled, ImportFailed
from desktop.core.importers.mapping import ColumnMapping
from desktop.core.importers.observations import RowResult, clear_reader_rejects, record_lines
from desktop.core.importers.present import CONDITIONS, PresentRows, settle_present_rows
from desktop.core.importers.reading import arranged_reading, needs_staging
from desktop.core.importers.sniff import CsvFacts, check_csv
from desktop.core.importers.synthea import FOLDER_ORDER, IMPORTERS
from desktop.core.importers.tabular import import_mapped_file
from desktop.core.store import Store
from desktop.core.tasks import TaskState

#: progress(fraction 0..1, message)
Progress = Callable[[float, str], None]


@dataclass
class FileReport:
    file: str
    format: str
    status: str  # imported, already imported, skipped, failed, cancelled
    rows_accepted: int = 0
    rows_rejected: int = 0
    rejections: list[dict[str, object]] = field(default_factory=list)
    message: str | None = None
    notes: list[str] = field(default_factory=list)
    #: the text encoding the file was read in (utf-8, latin-1, windows-1252, utf-16-le, utf-16-be)
    encoding: str | None = None
    #: rows whose key the workspace already held: accepted + rejected + already present = data rows
    rows_already_present: int = 0
    rows_present_unchanged: int = 0
    rows_present_different: int = 0
    #: of the different ones, how many replaced the stored values (only with update_existing)
    rows_updated: int = 0
    #: each such row: {"line", "key", "values": "unchanged" | "different", "updated"}
    already_present: list[dict[str, object]] = field(default_factory=list)


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file went in whole: nothing failed, no row was rejected and no row's different
        values were left out (rows already present with different values and not updated)."""
        return all(
            f.status in ("imported", "already imported", "skipped") and f.rows_rejected == 0
            and f.rows_present_different == f.rows_updated
            for f in self.files
        )

    @property
    def exit_code(self) -> int:
        """For scripts: 0 all clean, 1 some rows rejected or left as stored (the rest imported), 2 a file
        failed or was cancelled."""
        if any(f.status in ("failed", "cancelled") for f in self.files):
            return 2
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "files": [asdict(f) for f in self.files]}


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

    ``update_existing``: a row whose key (patient or encounter Id) the workspace already holds with
    different values replaces the stored values; without it the stored values are kept and the row is
    reported as already present with different values.
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
        failed = str(exc) if isinstance(exc, ImportFailed) else _reader_failure(current, exc)
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
    rejections = _rejections(facts, result)
    report.rows_accepted = result.accepted
    report.rows_rejected = len(rejections)
    report.rejections = [{"line": line, "reason": reason} for line, reason in rejections]
    report.notes = result.notes
    skipped = sorted(set(facts.blank_lines) | set(result.malformed))
    if isinstance(result, KeyedResult) and result.present:
        _report_present(report, result, skipped)
    if present is not None and present.total:
        what = ("condition", "same patient, code and onset") if item.format == "synthea-conditions" else (
            "reading", "same patient, time and measurement")
        _report_present_rows(report, present, *what)
    _note_reading(report, facts)
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


def _rejections(facts: CsvFacts, result: RowResult) -> list[tuple[int, str]]:
    """Every rejected line once, with a reason true of that line: a line of only whitespace is said to be
    blank, not "Expected Number of Columns" or "patient is empty"."""
    skipped = sorted(set(facts.blank_lines) | set(result.malformed))
    found = record_lines(result.rejected_records, skipped) + list(result.malformed.items())
    open_quote = min((line for line, reason in found if "unterminated quote" in reason), default=None)
    if open_quote is not None:
        # The reader read every line after an unclosed quote as part of its value: each is named, none lost.
        empty = set(facts.blank_lines)
        found += [(n, f"line {n} is inside the quote opened on line {open_quote}, which is never closed")
                  for n in range(open_quote + 1, facts.last_line + 1) if n not in empty]
    blank = set(facts.whitespace_lines)
    found = [(line, f"line {line} is blank (only whitespace)" if line in blank else reason) for line, reason in found]
    return sorted(set(found))  # a wide row can fail twice for the same reason: say it once


_LISTED_PRESENT = 5000


def _report_present(report: FileReport, result: KeyedResult, skipped: list[int]) -> None:
    """Rows whose key the workspace held: counted, listed by line, and said in words."""
    lines = record_lines([(rn, key) for rn, key, _ in result.present], skipped)
    same = {rn for rn, _, unchanged in result.present if unchanged}
    updating = result.updated > 0
    report.rows_already_present = len(result.present)
    report.rows_present_unchanged = len(same)
    report.rows_present_different = len(result.present) - len(same)
    report.rows_updated = result.updated
    report.already_present = [
        {"line": line, "key": key, "values": "unchanged" if rn in same else "different",
         "updated": updating and rn not in same}
        for (line, key), (rn, _, _) in zip(lines[:_LISTED_PRESENT], result.present[:_LISTED_PRESENT], strict=True)
    ]
    words = f"{report.rows_already_present} row{'s' if report.rows_already_present != 1 else ''} already present"
    parts = [f"{report.rows_present_unchanged} unchanged"] if report.rows_present_unchanged else []
    if report.rows_present_different:
        if updating:
            parts.append(f"{report.rows_present_different} with different values, updated to the file's values")
        else:
            parts.append(
                f"{report.rows_present_different} with different values, kept as stored (import again with "
                "'update rows already present', --update-existing on the command line, to take the file's values)"
            )
    report.notes.append(f"{words}: {'; '.join(parts)}")
    if len(result.present) > _LISTED_PRESENT:
        report.notes.append(f"the first {_LISTED_PRESENT} rows already present are listed by line")


def _report_present_rows(report: FileReport, present: PresentRows, noun: str, same: str) -> None:
    """Readings (or conditions) an earlier import stored: counted and listed by their natural key."""
    report.rows_already_present = present.total
    report.rows_present_unchanged = present.unchanged
    report.rows_present_different = present.different
    report.rows_updated = present.updated
    report.already_present = [
        {"line": None, "key": " ".join(key), "values": values,
         "updated": present.updated > 0 and values == "different"}
        for *key, values in present.listed
    ]
    parts = [f"{present.unchanged} unchanged (not stored twice)"] if present.unchanged else []
    if present.different:
        parts.append(
            f"{present.different} with different values, " + (
                f"which replaced the stored {noun}s" if present.updated else
                "kept as stored (import again with 'update rows already present', --update-existing on the "
                "command line, to take the file's values)")
        )
    report.notes.append(f"{present.total} {noun}{'s' if present.total != 1 else ''} already in the workspace "
                        f"({same}): {'; '.join(parts)}")


def _note_reading(report: FileReport, facts: CsvFacts) -> None:
    report.encoding = facts.encoding
    if facts.encoding != "utf-8":
        report.notes.append(f"read as {_ENCODING_NAMES[facts.encoding]} text")
    if facts.mixed_endings_from is not None:
        report.notes.append(
            f"the line endings change at line {facts.mixed_endings_from} (Windows and Unix endings mixed); "
            "every line was read"
        )
    elif needs_staging(facts):
        report.notes.append("read line by line (DuckDB's reader cannot read this encoding)")


_ENCODING_NAMES = {
    "utf-8": "UTF-8", "latin-1": "Latin-1 (ISO-8859-1)", "windows-1252": "Windows-1252",
    "utf-16-le": "UTF-16 (little-endian)", "utf-16-be": "UTF-16 (big-endian)",
}


def _reader_failure(facts: CsvFacts | None, exc: duckdb.Error) -> str:
    """DuckDB's message, first line only, on the file it was reading, with the line where it says one or
    where the file shows why (a carriage return inside a line is what DuckDB calls an "invalid state")."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if facts is None:
        return f"the import failed: {first}"
    if "state machine reached an invalid state" in text and facts.lone_cr_line is not None:
        return (f"{facts.path}: line {facts.lone_cr_line} holds a carriage return (CR) inside the line, which "
                "the CSV reader cannot split into columns; remove it (or save the file again as CSV) and import again")
    line = re.search(r"\b[Ll]ine:? (\d+)", text)
    where = f"line {line.group(1)}: " if line else ""
    return f"{facts.path}: {where}cannot be read: {first}"
