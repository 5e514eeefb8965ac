"""The same patients in the shapes other sources use: a Kaggle-style one-row-per-patient snapshot, and the
spreadsheet encodings Excel writes (real-data.md: "Exports from spreadsheets").

Snapshot: ``Patient_ID, Age, Gender, Blood_Pressure, Cholesterol, Diabetes, Heart_Disease, BMI,
Smoking_Status``; no dates or times, 0/1 columns meaning "has this condition", a categorical column, one
blood-pressure number (systolic) and no unit anywhere.

Spreadsheet variants of any CSV the generator wrote:

- ``cp1252``: Excel's "CSV (Comma delimited)" on Windows: Windows-1252, CRLF line ends;
- ``utf16-tab``: "Unicode Text": UTF-16 with a byte-order mark, tab separated, CRLF;
- ``semicolon``: a European locale: ``;`` separators, decimal commas, Windows-1252, CRLF.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from devtools.synthetic.cohort import END, Person, Physiology

SNAPSHOT_HEADER = ("Patient_ID", "Age", "Gender", "Blood_Pressure", "Cholesterol", "Diabetes", "Heart_Disease",
                   "BMI", "Smoking_Status")
SPREADSHEET_VARIANTS = ("cp1252", "utf16-tab", "semicolon")
_SMOKING = {"Never smoked tobacco (finding)": "Never", "Ex-smoker (finding)": "Former",
            "Smokes tobacco daily (finding)": "Current", "": "Never"}
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def write_snapshot(path: Path, people: Sequence[Person], rng: random.Random, start_of_record: datetime) -> int:
    """One row per person, their state at the end of the record (or at death), from the same physiology."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SNAPSHOT_HEADER)
        for n, p in enumerate(people, start=1):
            when = p.death or END
            ph = Physiology(p, when, start_of_record)
            labs = ph.labs()
            has = {k for k, c in p.conditions.items() if c.onset <= when}
            heart = int(ph.age > 55 and ("htn" in has or "hld" in has) and rng.random() < 0.35)
            w.writerow([f"P{n:04d}", int(ph.age), "Female" if p.sex == "F" else "Male",
                        round(rng.gauss(ph.sbp, 6)), round(rng.gauss(labs["2093-3"], 10)), int("dm" in has), heart,
                        f"{rng.gauss(ph.bmi, 0.4):.1f}", _SMOKING.get(p.smoking, "Never")])
    return len(people)


def write_spreadsheet_variant(src: Path, dest: Path, variant: str) -> Path:
    """Re-save the CSV ``src`` as Excel would in ``variant``; the rows and values stay the same."""
    if variant not in SPREADSHEET_VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(SPREADSHEET_VARIANTS)}, not {variant!r}")
    with src.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    encoding, delimiter = {"cp1252": ("cp1252", ","), "utf16-tab": ("utf-16", "\t"),
                           "semicolon": ("cp1252", ";")}[variant]
    if variant == "semicolon":
        rows = [[v.replace(".", ",") if _DECIMAL.match(v) else v for v in row] for row in rows]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return dest
