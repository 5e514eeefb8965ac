"""What an import reports for each file, and the accounting behind it: every data row of a file is
accepted, rejected (with its line and a reason true of that line) or already present in the workspace."""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass, field

import duckdb

from desktop.core.importers.entities import KeyedResult
from desktop.core.importers.errors import ImportFailed
from desktop.core.importers.lines import LineLayout, line_layout
from desktop.core.importers.observations import RowResult, record_lines
from desktop.core.importers.present import PresentRows
from desktop.core.importers.reading import needs_staging
from desktop.core.importers.sniff import CsvFacts

#: the status of a file an import never started because it stopped before (Ctrl+C at a terminal)
NOT_REACHED = "not reached"


@dataclass
class FileReport:
    file: str
    format: str
    status: str  # imported, already imported, skipped, failed, cancelled, not reached
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
    #: True once the file's rows are in the workspace (its transaction committed); files commit one by one
    committed: bool = False


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)
    #: the import stopped part-way (Ctrl+C): files after the one in progress are "not reached"
    interrupted: bool = False

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
        if self.interrupted or any(f.status in ("failed", "cancelled", NOT_REACHED) for f in self.files):
            return 2
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, object]:
        committed = [f.file for f in self.files if f.committed]
        return {"ok": self.ok, "interrupted": self.interrupted, "committed": committed,
                "files": [asdict(f) for f in self.files]}


def rejections_of(facts: CsvFacts, result: RowResult) -> list[tuple[int, str]]:
    """Every rejected line once, with a reason true of that line: a line of only whitespace is said to be
    blank, not "Expected Number of Columns" or "patient is empty"."""
    if not result.rejected_records and not result.malformed:
        return []  # nothing to number: the file's lines are not read again
    layout = line_layout(facts)
    units = _Units(layout)
    skipped = sorted({units.unit(b) for b in layout.blank_lines} | set(result.malformed))
    found = record_lines(result.rejected_records, skipped) + list(result.malformed.items())
    found = [(units.line(unit), reason) for unit, reason in found]
    open_quote = min((line for line, reason in found if "unterminated quote" in reason), default=None)
    if open_quote is not None:
        # The reader read every line after an unclosed quote as part of its value: each is named, none lost.
        empty = set(layout.blank_lines)
        found += [(n, f"line {n} is inside the quote opened on line {open_quote}, which is never closed")
                  for n in range(open_quote + 1, layout.last_line + 1) if n not in empty]
    blank = set(layout.whitespace_lines)
    found = [(line, f"line {line} is blank (only whitespace)" if line in blank else reason) for line, reason in found]
    return sorted(set(found))  # a wide row can fail twice for the same reason: say it once


def rejection_entries(facts: CsvFacts, rejections: list[tuple[int, str]]) -> list[dict[str, object]]:
    """The report's rejections: each record's first line, and its last line when a quoted value made it
    span several (``last_line``), so a reader finds the whole record."""
    ends: dict[int, int] = {}
    layout = line_layout(facts) if rejections else None
    if layout is not None and layout.record_starts:
        starts = layout.record_starts
        ends = {a: b - 1 for a, b in itertools.pairwise(starts)}
        ends[starts[-1]] = max(layout.last_line, starts[-1])
    out: list[dict[str, object]] = []
    for line, reason in rejections:
        entry: dict[str, object] = {"line": line, "reason": reason}
        last = ends.get(line, line)
        if last > line and "inside the quote opened" not in reason and "unterminated quote" not in reason:
            entry["last_line"] = last
        out.append(entry)
    return out


class _Units:
    """DuckDB's reader numbers records (and blank lines), not lines: the same thing until a quoted value
    spans lines, after which unit ``u`` starts on line ``record_starts[u - 1]``."""

    def __init__(self, layout: LineLayout) -> None:
        self._starts = layout.record_starts
        self._unit_of = {line: u for u, line in enumerate(self._starts or (), start=1)}

    def unit(self, line: int) -> int:
        return self._unit_of.get(line, line) if self._starts else line

    def line(self, unit: int) -> int:
        if not self._starts or not 1 <= unit <= len(self._starts):
            return unit
        return self._starts[unit - 1]


_LISTED_PRESENT = 5000


def report_present(report: FileReport, result: KeyedResult, facts: CsvFacts) -> None:
    """Rows whose key the workspace held: counted, listed by line, and said in words."""
    layout = line_layout(facts)
    units = _Units(layout)
    skipped = sorted({units.unit(b) for b in layout.blank_lines} | set(result.malformed))
    lines = [(units.line(u), key) for u, key in record_lines([(rn, key) for rn, key, _ in result.present], skipped)]
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


def report_present_rows(report: FileReport, present: PresentRows, noun: str, same: str, *, rows: int) -> None:
    """Readings (or conditions) an earlier import stored: counted and listed by their natural key. ``rows``:
    the file's rows they make up (a wide row holds several readings)."""
    report.rows_already_present = rows
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


def note_reading(report: FileReport, facts: CsvFacts) -> None:
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


def reader_failure(facts: CsvFacts | None, exc: duckdb.Error) -> str:
    """DuckDB's message, first line only, on the file it was reading, with the line where it says one or
    where the file shows why (a carriage return inside a line is what DuckDB calls an "invalid state")."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if facts is None:
        return f"the import failed: {first}"
    lone_cr = _lone_cr_line(facts) if "state machine reached an invalid state" in text else None
    if lone_cr is not None:
        return (f"{facts.path}: line {lone_cr} holds a carriage return (CR) inside the line, which "
                "the CSV reader cannot split into columns; remove it (or save the file again as CSV) and import again")
    line = re.search(r"\b[Ll]ine:? (\d+)", text)
    where = f"line {line.group(1)}: " if line else ""
    return f"{facts.path}: {where}cannot be read: {first}"


def _lone_cr_line(facts: CsvFacts) -> int | None:
    try:
        return line_layout(facts).lone_cr_line
    except ImportFailed:  # the file changed or went: DuckDB's own words are all there is to say
        return None
