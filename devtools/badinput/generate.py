"""Bad input, as a new user's files arrive: cut, re-encoded, re-quoted, duplicated, mapped, in folders.

``generate(root, seed, files)`` writes at least ``files`` bad files under ``root`` and returns the calls to
make (each a list of paths, maybe a mapping file); ``run.py`` makes them through ``python -m desktop import``.
Every file starts from a realistic one (Synthea observations and patients, a long readings file, a wide
admissions file, a clinic layout that needs a mapping) and is spoiled in one or more of the ways real
exports are: headers over 128 KiB, unclosed quotes (header and rows), duplicate or empty column names,
values over several lines, blank and whitespace lines, mixed line endings, other encodings, binary bytes,
truncation, ragged rows, implausible values, bad dates, other delimiters, and readings shared between
the files of one call.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SYNTHEA_OBS = "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE"
SYNTHEA_PATIENTS = "Id,BIRTHDATE,DEATHDATE,FIRST,LAST,GENDER"
LONG = "patient,time,measurement,value,unit"
CLINIC = "pid,seen,pulse,sys,dia,note"
CLINIC_MAPPING = {
    "patient": "pid", "time": "seen",
    "measurements": [{"column": "pulse", "measurement": "Heart rate", "unit": "/min"},
                     {"column": "sys", "measurement": "Systolic blood pressure", "unit": "mmHg"},
                     {"column": "dia", "measurement": "Diastolic blood pressure", "unit": "mmHg"}],
}
CODES = [("8867-4", "Heart rate", "/min", 40, 180), ("8480-6", "Systolic Blood Pressure", "mm[Hg]", 80, 200),
         ("8310-5", "Body temperature", "Cel", 35, 41), ("2708-6", "Oxygen saturation", "%", 80, 100),
         ("29463-7", "Body Weight", "kg", 3, 150)]


@dataclass
class Call:
    paths: list[Path]
    mapping: Path | None = None
    notes: list[str] = field(default_factory=list)


def _patients(rng: random.Random, n: int) -> list[str]:
    return [f"p{rng.randrange(10**6):06d}" for _ in range(n)]


def synthea_obs_rows(rng: random.Random, n: int, people: list[str]) -> list[str]:
    rows = []
    for _ in range(n):
        code, name, unit, lo, hi = rng.choice(CODES)
        value = round(rng.uniform(lo, hi), 1)
        when = f"20{rng.randrange(10, 24)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z"
        rows.append(f"{when},{rng.choice(people)},e{rng.randrange(10**5)},vital-signs,{code},{name},{value},{unit},numeric")
    return rows


def long_rows(rng: random.Random, n: int, people: list[str]) -> list[str]:
    rows = []
    for _ in range(n):
        _code, name, unit, lo, hi = rng.choice(CODES)
        unit = {"mm[Hg]": "mmHg", "Cel": "°C"}.get(unit, unit)
        when = f"2021-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}"
        rows.append(f"{rng.choice(people)},{when},{name},{round(rng.uniform(lo, hi), 1)},{unit}")
    return rows


def clinic_rows(rng: random.Random, n: int, people: list[str]) -> list[str]:
    notes = ["", "ok", '"said ""fine"""', '"seen twice,\nsecond time calmer"', "Zoë", "Müller"]
    return [f"{rng.choice(people)},2022-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T09:00:00,"
            f"{rng.randrange(40, 160)},{rng.randrange(90, 200)},{rng.randrange(50, 110)},{rng.choice(notes)}"
            for _ in range(n)]


def patient_rows(rng: random.Random, n: int, people: list[str]) -> list[str]:
    return [f"{p},19{rng.randrange(30, 99)}-0{rng.randrange(1, 10)}-1{rng.randrange(10)},,Ana{rng.randrange(99)},"
            f"Lee{rng.randrange(99)},{rng.choice('FM')}" for p in people[:n]]


BASES: dict[str, tuple[str, Callable[[random.Random, int, list[str]], list[str]]]] = {
    "synthea-observations": (SYNTHEA_OBS, synthea_obs_rows),
    "synthea-patients": (SYNTHEA_PATIENTS, patient_rows),
    "long": (LONG, long_rows),
    "clinic": (CLINIC, clinic_rows),
}


# Spoilers: each takes (rng, header, rows) and returns the file's bytes -------------------------------------------


def _text(header: str, rows: list[str], eol: str = "\n") -> str:
    return eol.join([header, *rows]) + eol


def huge_header_field(rng: random.Random, header: str, rows: list[str]) -> bytes:
    name = "note " + "x" * rng.choice([131_073, 140_000, 300_000])
    quoted = rng.random() < 0.5
    return _text(header + "," + (f'"{name}"' if quoted else name), [r + ",n" for r in rows]).encode()


def unclosed_header_quote(rng: random.Random, header: str, rows: list[str]) -> bytes:
    cols = header.split(",")
    i = rng.randrange(len(cols))
    cols[i] = '"' + cols[i]
    return _text(",".join(cols), rows).encode()


def unclosed_row_quote(rng: random.Random, header: str, rows: list[str]) -> bytes:
    rows = list(rows)
    i = rng.randrange(len(rows))
    cells = rows[i].split(",")
    j = rng.randrange(len(cells))
    cells[j] = '"' + cells[j]
    rows[i] = ",".join(cells)
    return _text(header, rows).encode()


def duplicate_column(rng: random.Random, header: str, rows: list[str]) -> bytes:
    cols = header.split(",")
    dup = rng.choice(cols)
    cols.append(rng.choice([dup, dup.upper(), dup.lower(), f" {dup} "]))
    return _text(",".join(cols), [r + ",x" for r in rows]).encode()


def empty_column(rng: random.Random, header: str, rows: list[str]) -> bytes:
    cols = header.split(",")
    cols.insert(rng.randrange(len(cols) + 1), rng.choice(["", " ", '""']))
    return _text(",".join(cols), rows).encode()


def multiline_records(rng: random.Random, header: str, rows: list[str]) -> bytes:
    rows = list(rows)
    for _ in range(rng.randrange(1, 6)):
        i = rng.randrange(len(rows))
        cells = rows[i].split(",")
        j = rng.randrange(len(cells))
        cells[j] = '"' + rng.choice(["", cells[j]]) + rng.choice(["\n", "\n\n", "\r\n", "\n \n"]) + 'more"'
        rows[i] = ",".join(cells)
    return _text(header, rows).encode()


def empty_cells(rng: random.Random, header: str, rows: list[str]) -> bytes:
    rows = list(rows)
    for _ in range(rng.randrange(1, 8)):
        i = rng.randrange(len(rows))
        cells = rows[i].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(["", " ", "NA", "n/a", "-", "?"])
        rows[i] = ",".join(cells)
    return _text(header, rows).encode()


def blank_lines(rng: random.Random, header: str, rows: list[str]) -> bytes:
    rows = list(rows)
    for _ in range(rng.randrange(1, 6)):
        rows.insert(rng.randrange(len(rows) + 1), rng.choice(["", " ", "\t", "  \t", "\f", ",,,,"]))
    return _text(header, rows).encode()


def mixed_endings(rng: random.Random, header: str, rows: list[str]) -> bytes:
    out = header + "\n"
    for r in rows:
        out += r + rng.choice(["\n", "\r\n", "\r\n", "\r"] if rng.random() < 0.2 else ["\n", "\r\n"])
    return out.encode()


def other_encoding(rng: random.Random, header: str, rows: list[str]) -> bytes:
    text = _text(header, [r.replace("p", rng.choice(["ü", "é", "ø", "€"]), 1) for r in rows])
    enc = rng.choice(["latin-1", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
    data = text.encode(enc, errors="replace")
    if rng.random() < 0.2:  # two encodings in one file
        data += _text("", rows[:3])[1:].replace("p", "é").encode("utf-8")
    return data


def binary_junk(rng: random.Random, header: str, rows: list[str]) -> bytes:
    data = bytearray(_text(header, rows).encode())
    for _ in range(rng.randrange(1, 20)):
        data.insert(rng.randrange(len(data)), rng.randrange(256))
    if rng.random() < 0.3:
        data[rng.randrange(len(data))] = 0
    return bytes(data)


def truncated(rng: random.Random, header: str, rows: list[str]) -> bytes:
    data = _text(header, [r.replace("p", "ü", 1) for r in rows]).encode()
    return data[: rng.randrange(0, len(data))]


def ragged(rng: random.Random, header: str, rows: list[str]) -> bytes:
    rows = list(rows)
    for _ in range(rng.randrange(1, 6)):
        i = rng.randrange(len(rows))
        rows[i] = rows[i] + ",extra" * rng.randrange(1, 3) if rng.random() < 0.5 else rows[i].rsplit(",", 1)[0]
    return _text(header, rows).encode()


def implausible(rng: random.Random, header: str, rows: list[str]) -> bytes:
    rows = list(rows)
    for _ in range(rng.randrange(1, 8)):
        i = rng.randrange(len(rows))
        cells = rows[i].split(",")
        j = rng.randrange(len(cells))
        cells[j] = rng.choice(["9999", "-5", "abc", "1e309", "2021-13-45", "37,5", "0x1F", "∞", "NaN", "12:00"])
        rows[i] = ",".join(cells)
    return _text(header, rows).encode()


def delimiter(rng: random.Random, header: str, rows: list[str]) -> bytes:
    d = rng.choice([";", "\t", "|"])
    return _text(header.replace(",", d), [r.replace(",", d) for r in rows]).encode()


def long_line(rng: random.Random, header: str, rows: list[str]) -> bytes:
    rows = list(rows)
    i = rng.randrange(len(rows))
    rows[i] = rows[i] + "," + "y" * rng.choice([10_000, 200_000, 3_000_000])
    return _text(header, rows).encode()


def header_only(rng: random.Random, header: str, rows: list[str]) -> bytes:
    return rng.choice([header, header + "\n", header + "\n\n\n", "\n" + header + "\n", "   \n"]).encode()


def random_bytes(rng: random.Random, header: str, rows: list[str]) -> bytes:
    return rng.choice([b"", b"\x00" * 64, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))),
                       b"PK\x03\x04" + bytes(200), b"SQLite format 3\x00" + bytes(100)])


SPOILERS: list[Callable[[random.Random, str, list[str]], bytes]] = [
    huge_header_field, unclosed_header_quote, unclosed_row_quote, duplicate_column, empty_column,
    multiline_records, empty_cells, blank_lines, mixed_endings, other_encoding, binary_junk, truncated, ragged,
    implausible, delimiter, long_line, header_only, random_bytes,
]


def bad_file(rng: random.Random, kind: str, n: int, people: list[str], rows: list[str] | None = None) -> bytes:
    header, make = BASES[kind]
    rows = rows if rows is not None else make(rng, n, people)
    spoil = rng.choice(SPOILERS)
    data = spoil(rng, header, rows)
    if rng.random() < 0.25:  # a second problem on top (only for text that is still text)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        lines = text.split("\n")
        if len(lines) > 2:
            data = rng.choice([multiline_records, blank_lines, ragged, implausible])(rng, lines[0], lines[1:-1] or [""])
    return data


def generate(root: Path, seed: int, files: int) -> list[Call]:
    """Write at least ``files`` bad files under ``root``; return the calls to make with them."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    mapping = root / "clinic-mapping.json"
    mapping.write_text(json.dumps(CLINIC_MAPPING), encoding="utf-8")
    (root / "bad-mapping.json").write_text('{"patient": "pid", "time": ', encoding="utf-8")
    calls: list[Call] = []
    written = 0
    n = 0
    while written < files:
        n += 1
        shape = rng.random()
        people = _patients(rng, rng.randrange(1, 15))
        if shape < 0.45:  # one to four loose files
            paths = []
            for _ in range(rng.randrange(1, 5)):
                kind = rng.choice(["synthea-observations", "long", "long", "synthea-patients"])
                p = root / f"c{n}" / f"f{len(paths)}-{kind}.csv"
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(bad_file(rng, kind, rng.randrange(1, 400), people))
                paths.append(p)
            calls.append(Call(paths))
            written += len(paths)
        elif shape < 0.65:  # mapped files, some carrying the same readings as the one before (issue 22, 2)
            shared = clinic_rows(rng, rng.randrange(5, 80), people)
            paths = []
            for i in range(rng.randrange(1, 4)):
                p = root / f"c{n}" / f"clinic-{i}.csv"
                p.parent.mkdir(parents=True, exist_ok=True)
                if rng.random() < 0.6:  # the same readings, in another order (another file, same rows)
                    rows = list(shared)
                    rng.shuffle(rows)
                    p.write_bytes(_text(CLINIC, rows).encode())
                else:
                    p.write_bytes(bad_file(rng, "clinic", 0, people, rows=list(shared)))
                paths.append(p)
            which = rng.random()
            used = mapping if which < 0.85 else root / "bad-mapping.json" if which < 0.95 else root / "none.json"
            calls.append(Call(paths, mapping=used))
            written += len(paths)
        elif shape < 0.85:  # a folder: a Synthea export inside, loose files, junk, nesting
            top = root / f"c{n}"
            synthea = top / rng.choice(["synthea", "export/csv", "a/b/c"])
            synthea.mkdir(parents=True, exist_ok=True)
            obs = synthea_obs_rows(rng, rng.randrange(5, 300), people)
            good_or_bad = rng.random() < 0.5
            (synthea / "observations.csv").write_bytes(
                _text(SYNTHEA_OBS, obs).encode() if good_or_bad else bad_file(rng, "synthea-observations", 0, people, obs))
            (synthea / "patients.csv").write_bytes(_text(SYNTHEA_PATIENTS, patient_rows(rng, len(people), people)).encode())
            written += 2
            if rng.random() < 0.5:
                (top / "readings.csv").write_bytes(bad_file(rng, "long", rng.randrange(1, 100), people))
                written += 1
            for junk in rng.sample(["notes.txt", "photo.jpg", ".DS_Store", "data.xlsx", "README"], rng.randrange(0, 3)):
                (top / junk).write_bytes(bytes(rng.randrange(256) for _ in range(50)))
                written += 1
            if rng.random() < 0.2:
                (top / "empty").mkdir(exist_ok=True)
            if rng.random() < 0.2:
                (top / "loop").symlink_to(top, target_is_directory=True)
            calls.append(Call([top]))
        else:  # odd paths: missing, an empty folder, a folder of non-CSV files, a file beside a folder
            top = root / f"c{n}"
            top.mkdir(parents=True, exist_ok=True)
            choice = rng.randrange(3)
            if choice == 0:
                calls.append(Call([top / "missing.csv", top]))
            elif choice == 1:
                (top / "a.txt").write_text("hello\n")
                calls.append(Call([top]))
                written += 1
            else:
                f = top / "r.csv"
                f.write_bytes(bad_file(rng, "long", rng.randrange(1, 50), people))
                calls.append(Call([f, top / "nope"]))
                written += 1
    return calls
