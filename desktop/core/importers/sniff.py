"""Checks a file before DuckDB reads it, so a bad file gets one clear message instead of a parser error.

Catches: empty files, binary files, text that is not UTF-8 (with the line of the first bad byte), and
headers that are missing or blank.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from desktop.core.importers.errors import ImportFailed

_CHUNK = 1 << 20


@dataclass(frozen=True)
class CsvFacts:
    path: Path
    sha256: str
    header: list[str]
    delimiter: str
    has_bom: bool
    size_bytes: int
    blank_lines: tuple[int, ...] = ()  # DuckDB's reader skips these: line numbers must account for them


def check_csv(path: Path) -> CsvFacts:
    """Read the whole file once: hash it, and prove it is non-empty UTF-8 text with a header."""
    if not path.exists():
        raise ImportFailed(f"{path}: no such file")
    if path.is_dir():
        raise ImportFailed(f"{path}: is a folder with no CSV files Vitalsight recognises")
    size = path.stat().st_size
    if size == 0:
        raise ImportFailed(f"{path}: the file is empty")
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    line = 1
    head = b""
    maybe_blank = False
    tail = b""
    with path.open("rb") as fh:
        first = True
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            if first:
                head = chunk[:65536]
                if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise ImportFailed(
                        f"{path}: the file is UTF-16 text; save it as UTF-8 CSV (Excel: 'CSV UTF-8') and import again"
                    )
                if b"\x00" in chunk[:8192]:
                    raise ImportFailed(f"{path}: this is not a text CSV file (it contains binary data)")
                first = False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad_line = line + chunk[: exc.start].count(b"\n")
                raise ImportFailed(
                    f"{path}: line {bad_line} is not valid UTF-8 (byte 0x{chunk[exc.start]:02x}); "
                    "save the file as UTF-8 CSV (Excel: 'CSV UTF-8') and import again"
                ) from None
            line += chunk.count(b"\n")
            joined = tail + chunk
            maybe_blank = maybe_blank or b"\n\n" in joined or b"\n\r\n" in joined
            tail = chunk[-2:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFailed(f"{path}: the file ends in the middle of a UTF-8 character (truncated?)") from None
    has_bom = head.startswith(codecs.BOM_UTF8)
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    if not text.strip():
        raise ImportFailed(f"{path}: the file is empty")
    first_line = text.splitlines()[0] if text.splitlines() else ""
    if not first_line.strip():
        raise ImportFailed(f"{path}: line 1 is blank; the first line must be the column names")
    delimiter = _delimiter(first_line)
    header = next(csv.reader([first_line], delimiter=delimiter))
    header = [h.strip() for h in header]
    if any(h == "" for h in header):
        position = [i + 1 for i, h in enumerate(header) if h == ""][0]
        raise ImportFailed(f"{path}: line 1 (the header) has an empty column name at column {position}")
    blanks = _blank_lines(path) if maybe_blank else ()
    return CsvFacts(path, digest.hexdigest(), header, delimiter, has_bom, size, blanks)


def _blank_lines(path: Path) -> tuple[int, ...]:
    """Line numbers of empty lines (rare: only looked for when the first pass saw one)."""
    with path.open("rb") as fh:
        return tuple(n for n, raw in enumerate(fh, start=1) if raw in (b"\n", b"\r\n"))


def _delimiter(first_line: str) -> str:
    """Comma unless the header clearly uses ';' (European Excel) or tabs."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","
