"""Checks a file before DuckDB reads it, so a bad file gets one clear message instead of a parser error.

Catches: empty files, binary files, headers that are missing or blank. Tells the text encoding apart
(UTF-8, UTF-16 LE/BE with or without a byte-order mark, and the single-byte Windows-1252 / Latin-1 that
Excel writes on a European laptop) and refuses a file whose encoding cannot be told apart, naming the line.
Notes what DuckDB's reader would misreport: lines holding only whitespace (DuckDB says "Expected Number of
Columns") and a file whose line endings change part-way (DuckDB's strict reader fails on the whole file).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.importers.errors import ImportFailed

# One reader for headers and rows: Python's csv module limits a field to 128 KiB unless told otherwise.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
_CHUNK = 1 << 20
_SAVE_AS_UTF8 = "save the file as UTF-8 CSV (Excel: 'CSV UTF-8') and import again"
# A line that is empty or holds only whitespace: found from the newline before it (fast literal search).
_MAYBE_BLANK = re.compile(r"\n(?=[ \t\f\v]*\r?(?:\n|$))")
_BARE_LF = re.compile(r"(?<!\r)\n")
_LONE_CR = re.compile(r"\r(?!\n)")
# UTF-8 for a European letter (U+0080-U+024F) or a typographic sign (U+2000-U+20BF): beside bytes that are
# not UTF-8 it means two encodings in one file. Read as Windows-1252 these pairs are mojibake ("Ã©", "â€"),
# which no real export holds, while other valid pairs ("ß–" is 0xDF 0x96) are ordinary 1252 text.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xc9][\x80-\xbf]|\xe2[\x80-\x82][\x80-\xbf]")
_C1 = re.compile(rb"[\x80-\x9f]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CsvFacts:
    path: Path
    sha256: str
    header: list[str]
    delimiter: str
    has_bom: bool
    size_bytes: int
    blank_lines: tuple[int, ...] = ()  # DuckDB's reader skips these: line numbers must account for them
    #: the text encoding the file is read in: utf-8, latin-1, windows-1252, utf-16-le or utf-16-be
    encoding: str = "utf-8"
    #: lines holding only spaces, tabs or form feeds: the reader sees a (bad) row; the report says why
    whitespace_lines: tuple[int, ...] = ()
    #: the first line whose ending (LF or CRLF) differs from the line before it; None when they agree
    mixed_endings_from: int | None = None
    #: the first line with a carriage return that does not end it: explains DuckDB's "invalid state" error
    lone_cr_line: int | None = None
    #: the number of the file's last line (a final line without a newline counts)
    last_line: int = 0
    #: only when a quoted value spans lines: the line each record (or blank line) starts on, header first.
    #: DuckDB numbers its rejected lines, and the pipeline its records, by these units, not by lines.
    record_starts: tuple[int, ...] | None = None


def check_csv(path: Path) -> CsvFacts:
    """Read the whole file once (twice for a single-byte file): hash it, tell its encoding, check the header."""
    try:
        return _check_csv(path)
    except OSError as exc:  # unreadable (permissions, a disk gone): a message, never a traceback
        raise ImportFailed(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _check_csv(path: Path) -> CsvFacts:
    if not path.exists():
        raise ImportFailed(f"{path}: no such file")
    if path.is_dir():
        raise ImportFailed(f"{path}: is a folder with no CSV files Vitalsight recognises")
    size = path.stat().st_size
    if size == 0:
        raise ImportFailed(f"{path}: the file is empty")
    with path.open("rb") as fh:
        head = fh.read(65536)
    encoding, bom = _encoding_from_start(path, head)
    try:
        scan = _scan(path, encoding)
    except _BadByte as bad:
        if encoding != "utf-8":
            raise ImportFailed(f"{path}: line {bad.line} is not valid {encoding.upper()} text; {_SAVE_AS_UTF8}") from None
        encoding = _single_byte_encoding(path, bad)
        scan = _scan(path, encoding)
    text = scan.first_text.lstrip("\ufeff")
    if not text.strip():
        raise ImportFailed(f"{path}: the file is empty")
    first_line = text.splitlines()[0] if text.splitlines() else ""
    if not first_line.strip():
        raise ImportFailed(f"{path}: line 1 is blank; the first line must be the column names")
    delimiter = _delimiter(first_line)
    header = _read_header(path, encoding, delimiter)
    records = (_record_starts(path, encoding, delimiter)
               if scan.odd_quotes or scan.lone_cr is not None else None)
    starts, blank, whitespace = None, tuple(scan.blank), tuple(scan.whitespace)
    if records is not None:  # lines inside a quoted value are neither blank nor whitespace-only lines
        starts, blank = records
        begins = set(starts)
        whitespace = tuple(n for n in whitespace if n in begins)
    return CsvFacts(
        path, scan.sha256, header, delimiter, bom, size, blank, encoding, whitespace,
        scan.mixed_from, scan.lone_cr, scan.last_line, starts,
    )


def _read_header(path: Path, encoding: str, delimiter: str) -> list[str]:
    """The first record, read by the same csv reader as staged rows and record starts (no field limit):
    a header over several lines, an unclosed quote, and empty or repeated names are said in words."""
    codec = "utf-8-sig" if encoding == "utf-8" else _PYTHON_CODEC[encoding]
    with path.open(encoding=codec, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
        try:
            header = next(reader, [])
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise ImportFailed(
                    f"{path}: line 1 (the header) opens a quote (\") that is never closed, so every line after it "
                    "would be read as one column name; close the quote or remove it and import again") from None
            raise ImportFailed(f"{path}: line 1 (the header) cannot be read as CSV: {exc}") from None
        if reader.line_num > 1:
            raise ImportFailed(
                f"{path}: the header (the column names) spans lines 1-{reader.line_num}: a quoted column name "
                "holds a line break; put each column name on line 1") from None
    header = [h.strip() for h in header]
    if header:
        header[0] = header[0].lstrip("\ufeff").strip()  # a byte-order mark the codec kept (UTF-16)
    if any(h == "" for h in header):
        position = next(i + 1 for i, h in enumerate(header) if h == "")
        raise ImportFailed(f"{path}: line 1 (the header) has an empty column name at column {position}; "
                           "give every column a name")
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        key = name.casefold()  # SQL names are case-blind: "Last" and "last" are one column to the reader
        if key in seen:
            raise ImportFailed(
                f"{path}: line 1 (the header) names the column {_shown(name)} twice (columns {seen[key]} and {i}); "
                "give each column its own name")
        seen[key] = i
    return header


def _shown(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:57] + "...")


def _record_starts(path: Path, encoding: str, delimiter: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The line each record and blank line starts on, when a quoted value holds a line break (a note typed
    over two lines in Excel) or a carriage return alone ends a record, and the blank lines among them (a blank
    line inside a quoted value is part of the value, not a line the reader skips); None when every record is
    one line after all (an inch sign). Lines are counted at line feeds, as the rest of the report counts them:
    a record after a lone carriage return starts on the same line as the one before it."""
    codec = "utf-8-sig" if encoding == "utf-8" else _PYTHON_CODEC[encoding]
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


class _BadByte(Exception):
    def __init__(self, line: int, byte: int) -> None:
        super().__init__(line, byte)
        self.line = line
        self.byte = byte


def _encoding_from_start(path: Path, head: bytes) -> tuple[str, bool]:
    """The encoding the first bytes prove: a byte-order mark, or UTF-16's zero bytes beside ASCII letters."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", True
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", True
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", True
    sample = head[:8192]
    if b"\x00" in sample:
        half = max(len(sample) // 2, 1)
        zeros_even, zeros_odd = sample[0::2].count(0), sample[1::2].count(0)
        if zeros_odd > 0.3 * half and zeros_even < 0.02 * half:
            return "utf-16-le", False
        if zeros_even > 0.3 * half and zeros_odd < 0.02 * half:
            return "utf-16-be", False
        raise ImportFailed(f"{path}: this is not a text CSV file (it contains binary data)")
    return "utf-8", False


def _single_byte_encoding(path: Path, bad: _BadByte) -> str:
    """Not UTF-8: Windows-1252 (or its subset Latin-1) when the whole file reads as plausible text in it.

    Refused when UTF-8 and single-byte text are mixed in one file (no one reading is right for every line),
    when a byte is undefined in Windows-1252, or when the text holds control characters (not a text export).
    """
    data = path.read_bytes()
    shown = f"line {bad.line} is not valid UTF-8 (byte 0x{bad.byte:02x})"
    utf8 = _UTF8_MULTIBYTE.search(data)
    if utf8 is not None:
        utf8_line = data.count(b"\n", 0, utf8.start()) + 1
        raise ImportFailed(
            f"{path}: {shown} but line {utf8_line} is UTF-8: the file mixes two encodings, so its text cannot "
            f"be read reliably; {_SAVE_AS_UTF8}"
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFailed(
            f"{path}: {shown}, and byte 0x{data[exc.start]:02x} on line {line} is not Windows-1252 or Latin-1 "
            f"either; the encoding cannot be told; {_SAVE_AS_UTF8}"
        ) from None
    control = _CONTROL.search(text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        raise ImportFailed(
            f"{path}: {shown}, and line {line} holds a control character (0x{ord(control.group()):02x}): "
            f"this is not a text export in an encoding Vitalsight can tell; {_SAVE_AS_UTF8}"
        )
    return "windows-1252" if _C1.search(data) else "latin-1"


@dataclass
class _Scan:
    sha256: str = ""
    first_text: str = ""
    blank: list[int] = field(default_factory=list)
    whitespace: list[int] = field(default_factory=list)
    mixed_from: int | None = None
    lone_cr: int | None = None
    last_line: int = 0
    odd_quotes: bool = False  # a line with an odd number of quotes: a quoted value may span lines


_PYTHON_CODEC = {"windows-1252": "cp1252", "latin-1": "latin-1", "utf-8": "utf-8",
                 "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be"}


def _scan(path: Path, encoding: str) -> _Scan:
    """One streaming pass: the hash, the first text, blank and whitespace-only lines, line-ending changes."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(_PYTHON_CODEC[encoding])(errors="strict")
    scan = _Scan()
    line = 1  # the number of the first line in ``carry``
    carry = ""
    first_ending: str | None = None  # "\r\n" or "\n": the ending of the first complete line
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _BadByte(line + carry.count("\n") + chunk[: exc.start].count(b"\n"), chunk[exc.start]) from None
            if not scan.first_text:
                scan.first_text = text
            buf = carry + text
            cut = buf.rfind("\n")
            if cut < 0:
                carry = buf
                continue
            complete, carry = buf[: cut + 1], buf[cut + 1:]
            first_ending = _note_endings(scan, complete, line, first_ending)
            if not scan.odd_quotes and '"' in complete:
                scan.odd_quotes = any(ln.count('"') % 2 for ln in complete.split("\n") if '"' in ln)
            if scan.lone_cr is None and (cr := _LONE_CR.search(complete)) is not None:
                scan.lone_cr = line + complete.count("\n", 0, cr.start())
            _note_blank_lines(scan, complete, line)
            line += complete.count("\n")
        try:
            carry += decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFailed(f"{path}: the file ends in the middle of a character (truncated?)") from None
    if not scan.first_text:
        scan.first_text = carry
    scan.odd_quotes = scan.odd_quotes or carry.count('"') % 2 == 1
    if carry and not carry.strip(" \t\f\v\r") and line > 1:
        scan.whitespace.append(line)
    scan.last_line = line if carry else line - 1
    scan.sha256 = digest.hexdigest()
    return scan


def _note_endings(scan: _Scan, complete: str, line: int, first_ending: str | None) -> str | None:
    if scan.mixed_from is not None:
        return first_ending
    crlf = complete.count("\r\n")
    bare = complete.count("\n") - crlf
    if first_ending is None:
        first_ending = "\r\n" if complete.find("\r\n") == complete.find("\n") - 1 and crlf else "\n"
    if first_ending == "\n" and crlf:
        scan.mixed_from = line + complete.count("\n", 0, complete.find("\r\n"))
    elif first_ending == "\r\n" and bare:
        found = _BARE_LF.search(complete)
        assert found is not None
        scan.mixed_from = line + complete.count("\n", 0, found.start())
    return first_ending


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


def _delimiter(first_line: str) -> str:
    """Comma unless the header clearly uses ';' (European Excel) or tabs."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","
