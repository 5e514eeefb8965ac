"""check_csv reads a file in 1 MiB pieces and no longer numbers lines on the way (lines.py does, when a report
names one): a line ending cut between two pieces, and a change of endings deep in a large file, are still told
right, and a file that changes before its lines are numbered is refused rather than numbered wrongly."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.importers import lines
from desktop.core.importers.errors import ImportFailed
from desktop.core.importers.lines import line_layout
from desktop.core.importers.sniff import _CHUNK, check_csv

HEADER = "patient,time,measurement,value,unit"


def _rows_to(size: int, ending: str) -> list[str]:
    """Rows of varying length until the text reaches ``size`` bytes."""
    rows, total, i = [], len(HEADER) + len(ending), 0
    while total < size:
        row = f"P{i % 97:04d},2020-01-01T10:{i % 60:02d}:00Z,Heart rate,{60 + i % 40},/min"
        rows.append(row)
        total += len(row) + len(ending)
        i += 1
    return rows


def test_a_crlf_cut_between_two_pieces_is_not_a_change_of_endings(tmp_path: Path) -> None:
    text = HEADER + "\r\n" + "".join(r + "\r\n" for r in _rows_to(_CHUNK + 5000, "\r\n"))
    data = text.encode()
    # Put a CR as the piece's last byte and its LF as the next piece's first byte.
    cut = data.rfind(b"\r\n", 0, _CHUNK + 1)
    pad = _CHUNK - 1 - cut
    assert pad >= 0
    data = data[:cut] + b"x" * pad + data[cut:]  # lengthens the row before the cut; still one value
    assert data[_CHUNK - 1:_CHUNK + 1] == b"\r\n"
    path = tmp_path / "crlf.csv"
    path.write_bytes(data)
    assert check_csv(path).mixed_endings_from is None


@pytest.mark.parametrize("first, then", [("\n", "\r\n"), ("\r\n", "\n")])
def test_a_change_of_endings_past_the_first_piece_names_its_line(tmp_path: Path, first: str, then: str) -> None:
    rows = _rows_to(3 * _CHUNK, first)
    changed = len(rows) - 10  # this row (0-based) gets the other ending; its line is changed + 2
    text = HEADER + first + "".join(r + (then if i >= changed else first) for i, r in enumerate(rows))
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode())
    assert check_csv(path).mixed_endings_from == changed + 2


def test_a_bad_byte_deep_in_a_file_names_its_line(tmp_path: Path) -> None:
    rows = _rows_to(2 * _CHUNK, "\n")
    rows[-3] = rows[-3].replace("Heart rate", "Herzfrequenz \xe4")  # Latin-1 ä beside UTF-8 elsewhere
    data = (HEADER + "\n" + "\n".join(rows) + "\n").encode("latin-1")
    data += "note \u00e9\n".encode()  # a UTF-8 é too: two encodings in one file, refused with the line
    path = tmp_path / "mixed-encoding.csv"
    path.write_bytes(data)
    with pytest.raises(ImportFailed, match=rf"line {len(rows) - 1} is not valid UTF-8"):
        check_csv(path)


def test_lines_are_numbered_only_for_the_file_that_was_checked(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + "\nP1,2020-01-01,Heart rate,80,/min\n\nP2,2020-01-02,Heart rate,81,/min\n")
    facts = check_csv(path)
    assert line_layout(facts).blank_lines == (3,)
    assert line_layout(facts).last_line == 4
    path.write_text(HEADER + "\nP1,2020-01-01,Heart rate,80,/min\nP2,2020-01-02,Heart rate,81,/min\n")
    lines._layout.cache_clear()  # as in a new process: nothing remembered of the file before the change
    with pytest.raises(ImportFailed, match="changed while it was being imported"):
        line_layout(facts)
