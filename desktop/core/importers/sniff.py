"""Checks a file before DuckDB reads it, so a bad file gets one clear message instead of a parser error.

Catches: empty files, binary files, headers that are missing or blank. Tells the text encoding apart
(UTF-8, UTF-16 LE/BE with or without a byte-order mark, and the single-byte Windows-1252 / Latin-1 that
Excel writes on a European laptop) and refuses a file whose encoding cannot be told apart, naming the line.
Notes a file whose line endings change part-way (DuckDB's strict reader fails on the whole file). Everything
else about lines (blank ones, records over several lines) is read only when a report names a line (lines.py):
this pass runs before every import, so it does what every import needs and no more, on bytes.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from desktop.core.importers.errors import ImportFailed

# One reader for headers and rows: Python's csv module limits a field to 128 KiB unless told otherwise.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
_CHUNK = 1 << 20
_SAVE_AS_UTF8 = "save the file as UTF-8 CSV (Excel: 'CSV UTF-8') and import again"
_BARE_LF = re.compile(rb"(?<!\r)\n")
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
    #: the text encoding the file is read in: utf-8, latin-1, windows-1252, utf-16-le or utf-16-be
    encoding: str = "utf-8"
    #: the first line whose ending (LF or CRLF) differs from the line before it; None when they agree
    mixed_endings_from: int | None = None


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
    return CsvFacts(path, scan.sha256, header, delimiter, bom, size, encoding, scan.mixed_from)


def _read_header(path: Path, encoding: str, delimiter: str) -> list[str]:
    """The first record, read by the same csv reader as staged rows and record starts (no field limit):
    a header over several lines, an unclosed quote, and empty or repeated names are said in words."""
    codec = "utf-8-sig" if encoding == "utf-8" else PYTHON_CODEC[encoding]
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
    mixed_from: int | None = None


PYTHON_CODEC = {"windows-1252": "cp1252", "latin-1": "latin-1", "utf-8": "utf-8",
                "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be"}


def _scan(path: Path, encoding: str) -> _Scan:
    """One streaming pass over the bytes: the text checked in its encoding, the first text and a change of line
    endings, while another thread hashes the file (hashlib lets go of the GIL). A newline byte is a newline in
    UTF-8 and in single-byte encodings; UTF-16 text is looked at as UTF-8."""
    decoder = codecs.getincrementaldecoder(PYTHON_CODEC[encoding])(errors="strict")
    on_bytes = not encoding.startswith("utf-16")
    scan = _Scan()
    endings = _Endings()
    offset = 0  # bytes of the file before ``chunk``
    lines_before = 0  # UTF-16 only: line feeds before ``chunk``
    with ThreadPoolExecutor(max_workers=1) as pool, path.open("rb") as fh:
        hashed = pool.submit(_sha256, path)
        while chunk := fh.read(_CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _BadByte(_line_at(path, offset + exc.start), chunk[exc.start]) from None
            if not scan.first_text:
                scan.first_text = text
            data = chunk if on_bytes else text.encode("utf-8")
            if scan.mixed_from is None and (at := endings.changed_at(data)) is not None:
                scan.mixed_from = (_line_at(path, offset + at) if on_bytes
                                   else lines_before + data.count(b"\n", 0, at) + 1)
            offset += len(chunk)
            lines_before += 0 if on_bytes else data.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFailed(f"{path}: the file ends in the middle of a character (truncated?)") from None
        scan.sha256 = hashed.result()
    return scan


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _line_at(path: Path, offset: int) -> int:
    """The number of the line the byte at ``offset`` is on (read again: only a message needs it)."""
    feeds = 0
    with path.open("rb") as fh:
        while offset > 0 and (chunk := fh.read(min(_CHUNK, offset))):
            feeds += chunk.count(b"\n")
            offset -= len(chunk)
    return feeds + 1


class _Endings:
    """The ending of the file's first line (LF or CRLF), and the first newline that ends a line otherwise."""

    def __init__(self) -> None:
        self.first: bytes | None = None
        self._last = b""  # the previous piece's last byte: a CRLF may be cut between two pieces

    def changed_at(self, data: bytes) -> int | None:
        """Where in ``data`` (the file's next piece) the first line feed with the other ending is; None if none."""
        last, self._last = self._last, data[-1:]
        cut_crlf = last == b"\r" and data[:1] == b"\n"
        if self.first is None:
            newline = data.find(b"\n")
            if newline < 0:
                return None
            self.first = b"\r\n" if (data[newline - 1:newline] == b"\r" if newline else cut_crlf) else b"\n"
        if self.first == b"\n":
            if b"\r" not in data and not cut_crlf:
                return None  # the common case, at memchr speed
            if cut_crlf:
                return 0
            crlf = data.find(b"\r\n")
            return crlf + 1 if crlf >= 0 else None
        if data.count(b"\n") == data.count(b"\r\n") + cut_crlf:
            return None
        bare = _BARE_LF.search(data, 1 if cut_crlf else 0)
        return bare.start() if bare else None


def _delimiter(first_line: str) -> str:
    """Comma unless the header clearly uses ';' (European Excel) or tabs."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","
