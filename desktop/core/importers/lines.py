"""Where a file's lines and records are: blank lines, lines of only whitespace, records a quoted value makes
span several lines, a carriage return inside a line.

Only a report that names a line needs these (a rejected row, a line the reader could not split, a row already
present, a reader failure), so they are read on demand, once per file, and never on a clean import's path:
:func:`check_csv` reads what every import needs (hash, encoding, header, line endings), this module the rest.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from desktop.core.importers.errors import ImportFailed
from desktop.core.importers.sniff import PYTHON_CODEC, CsvFacts

_CHUNK = 1 << 20
# A line that is empty or holds only whitespace: found from the newline before it (fast literal search).
_MAYBE_BLANK = re.compile(r"\n(?=[ \t\f\v]*\r?(?:\n|$))")
_LONE_CR = re.compile(r"\r(?!\n)")


@dataclass(frozen=True)
class LineLayout:
    blank_lines: tuple[int, ...] = ()  # DuckDB's reader skips these: line numbers must account for them
    #: lines holding only spaces, tabs or form feeds: the reader sees a (bad) row; the report says why
    whitespace_lines: tuple[int, ...] = ()
    #: the first line with a carriage return that does not end it: explains DuckDB's "invalid state" error
    lone_cr_line: int | None = None
    #: the number of the file's last line (a final line without a newline counts)
    last_line: int = 0
    #: only when a quoted value spans lines: the line each record (or blank line) starts on, header first.
    #: DuckDB numbers its rejected lines, and the pipeline its records, by these units, not by lines.
    record_starts: tuple[int, ...] | None = None


def line_layout(facts: CsvFacts) -> LineLayout:
    """The file's layout; raises ImportFailed when the file is no longer the one that was checked (its
    line numbers would belong to other rows)."""
    return _layout(facts.path, facts.sha256, facts.encoding, facts.delimiter)


@lru_cache(maxsize=8)
def _layout(path: Path, sha256: str, encoding: str, delimiter: str) -> LineLayout:
    try:
        scan = _scan(path, encoding)
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"{path}: cannot be read again to number its lines ({exc})") from None
    if scan.sha256 != sha256:
        raise ImportFailed(f"{path}: the file changed while it was being imported; nothing of it was stored, "
                           "import it again")
    records = (_record_starts(path, encoding, delimiter)
               if scan.odd_quotes or scan.lone_cr is not None else None)
    starts, blank, whitespace = None, tuple(scan.blank), tuple(scan.whitespace)
    if records is not None:  # lines inside a quoted value are neither blank nor whitespace-only lines
        starts, blank = records
        begins = set(starts)
        whitespace = tuple(n for n in whitespace if n in begins)
    return LineLayout(blank, whitespace, scan.lone_cr, scan.last_line, starts)


@dataclass
class _Scan:
    sha256: str = ""
    blank: list[int] = field(default_factory=list)
    whitespace: list[int] = field(default_factory=list)
    lone_cr: int | None = None
    last_line: int = 0
    odd_quotes: bool = False  # a line with an odd number of quotes: a quoted value may span lines


def _scan(path: Path, encoding: str) -> _Scan:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(PYTHON_CODEC[encoding])(errors="strict")
    scan = _Scan()
    line = 1  # the number of the first line in ``carry``
    carry = ""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            buf = carry + decoder.decode(chunk)
            cut = buf.rfind("\n")
            if cut < 0:
                carry = buf
                continue
            complete, carry = buf[: cut + 1], buf[cut + 1:]
            if not scan.odd_quotes and '"' in complete:
                scan.odd_quotes = any(ln.count('"') % 2 for ln in complete.split("\n") if '"' in ln)
            if scan.lone_cr is None and (cr := _LONE_CR.search(complete)) is not None:
                scan.lone_cr = line + complete.count("\n", 0, cr.start())
            _note_blank_lines(scan, complete, line)
            line += complete.count("\n")
        carry += decoder.decode(b"", final=True)
    scan.odd_quotes = scan.odd_quotes or carry.count('"') % 2 == 1
    if carry and not carry.strip(" \t\f\v\r") and line > 1:
        scan.whitespace.append(line)
    scan.last_line = line if carry else line - 1
    scan.sha256 = digest.hexdigest()
    return scan


def _note_blank_lines(scan: _Scan, complete: str, line: int) -> None:
    """``complete`` starts at the start of ``line`` and ends with a newline."""
    text = "\n" + complete  # so the first line is found like the others
    counted_to, at_line = 0, line - 1
    for match in _MAYBE_BLANK.finditer(text):
        if match.start() == len(text) - 1:
            break  # the newline ending the chunk: its next line is not complete yet
        at_line += text.count("\n", counted_to, match.start() + 1)
        counted_to = match.start() + 1
        if at_line == 1:
            continue  # the header line: check_csv says it is blank
        end = text.find("\n", match.start() + 1)
        content = text[match.start() + 1: end]
        if content in ("", "\r"):
            scan.blank.append(at_line)
        else:
            scan.whitespace.append(at_line)


def _record_starts(path: Path, encoding: str, delimiter: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The line each record and blank line starts on, when a quoted value holds a line break (a note typed
    over two lines in Excel) or a carriage return alone ends a record, and the blank lines among them (a blank
    line inside a quoted value is part of the value, not a line the reader skips); None when every record is
    one line after all (an inch sign). Lines are counted at line feeds, as the rest of the report counts them:
    a record after a lone carriage return starts on the same line as the one before it."""
    codec = "utf-8-sig" if encoding == "utf-8" else PYTHON_CODEC[encoding]
    starts: list[int] = []
    blank: list[int] = []
    feeds = [0]  # line feeds read so far

    def lines(fh: Iterator[str]) -> Iterator[str]:
        for piece in fh:
            feeds[0] += piece.count("\n")
            yield piece

    with path.open(encoding=codec, newline="") as fh:
        reader = csv.reader(lines(fh), delimiter=delimiter, quotechar='"', doublequote=True)
        ended = 0
        try:
            for row in reader:
                starts.append(ended + 1)
                if not row:
                    blank.append(ended + 1)
                ended = feeds[0]
        except csv.Error:
            return None  # unreadable as CSV: DuckDB's reader reports it, line by line
    multiline = any(b - a != 1 for a, b in itertools.pairwise(starts)) or (
        bool(starts) and ended > starts[-1])
    return (tuple(starts), tuple(blank)) if multiline else None
