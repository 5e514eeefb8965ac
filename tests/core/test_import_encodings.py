"""Files in the encodings a clinic's Excel writes (issue 14, item 4): Windows-1252/Latin-1 and UTF-16
(little- or big-endian, with or without a byte-order mark) are read, and the report names the encoding."""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.importers import import_paths
from desktop.core.workspace.store import Store

from .test_bad_input import assert_every_row_accounted

PATIENTS = (
    "Id,BIRTHDATE,DEATHDATE,FIRST,LAST,GENDER\r\n"
    "p1,1950-01-01,,Jürgen,Müller,M\r\n"
    "p2,1961-02-03,,Zoë,Gauß,F\r\n"
    "p3,not a date,,Ana,Peña,F\r\n"
    "p4,1970-01-01,,Åsa,Ørsted,F\r\n"
)
NAMES = {"p1": "Jürgen Müller", "p2": "Zoë Gauß", "p4": "Åsa Ørsted"}


def _names(store: Store) -> dict[str, str]:
    return dict(store.con.execute("SELECT patient_id, name FROM patients").fetchall())


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (PATIENTS.encode("latin-1"), "latin-1"),
        (codecs.BOM_UTF8 + PATIENTS.encode(), "utf-8"),
        (codecs.BOM_UTF16_LE + PATIENTS.encode("utf-16-le"), "utf-16-le"),
        (PATIENTS.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + PATIENTS.encode("utf-16-be"), "utf-16-be"),
        (PATIENTS.encode("utf-16-be"), "utf-16-be"),
    ],
    ids=["latin-1", "utf-8-bom", "utf-16-le-bom", "utf-16-le", "utf-16-be-bom", "utf-16-be"],
)
def test_encodings_read_and_named(store: Store, tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "patients.csv"
    path.write_bytes(data)
    f = import_paths(store, [path]).files[0]
    assert (f.status, f.encoding, f.rows_accepted) == ("imported", encoding, 3)
    assert f.rejections == [{"line": 4, "reason": "BIRTHDATE 'not a date' is not a date"}]
    assert _names(store) == NAMES
    assert_every_row_accounted(PATIENTS, f)
    if encoding != "utf-8":
        assert any(n.startswith("read as ") and "text" in n for n in f.notes)


def test_windows_1252_signs_are_not_control_characters(store: Store, tmp_path: Path) -> None:
    text = PATIENTS.replace("Peña", "O’Brien").replace("not a date", "1980-01-01").replace("Gauß", "Gauß–Šimek")
    path = tmp_path / "patients.csv"
    path.write_bytes(text.encode("cp1252"))
    f = import_paths(store, [path]).files[0]
    assert (f.encoding, f.rows_accepted, f.rows_rejected) == ("windows-1252", 4, 0)
    assert _names(store)["p3"] == "Ana O’Brien" and _names(store)["p2"] == "Zoë Gauß–Šimek"


def test_utf16_malformed_line_keeps_its_number(store: Store, tmp_path: Path) -> None:
    text = PATIENTS.replace("p3,not a date,,Ana,Peña,F", "p3,1980-01-01,Ana,Peña,F")  # a field short
    path = tmp_path / "patients.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    f = import_paths(store, [path]).files[0]
    assert [r["line"] for r in f.rejections] == [4]
    assert_every_row_accounted(text, f)


def test_cli_report_names_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_bytes(PATIENTS.replace("not a date", "1980-01-01").encode("latin-1"))
    run = subprocess.run([sys.executable, "-m", "desktop", "import", "--workspace", str(tmp_path / "w.duckdb"),
                          str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    f = json.loads(run.stdout)["files"][0]
    assert (f["encoding"], f["rows_accepted"]) == ("latin-1", 4)
