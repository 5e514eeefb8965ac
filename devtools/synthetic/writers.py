"""CSV writers: Synthea's layouts (current and older), the wide admissions file, and fast bulk writers.

Synthea writes ``\\n`` line ends and quotes only fields that need it; ``csv.writer`` with
``lineterminator="\\n"`` does the same, so the files read like a real export. The bulk writers build text
lines directly (no csv module, no per-row objects) because the import benchmark needs a million rows fast.
"""

from __future__ import annotations

import csv
import random
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from devtools.synthetic import vocab as V
from devtools.synthetic.cohort import END, Condition, Person, iso, new_id

HEADERS = {
    "current": {
        "patients": "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,MAIDEN,MARITAL,RACE,"
                    "ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,ZIP,LAT,LON,HEALTHCARE_EXPENSES,"
                    "HEALTHCARE_COVERAGE,INCOME",
        "encounters": "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,"
                      "BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION",
        "conditions": "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION",
        "observations": "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE",
    },
    # Synthea <= 2.7 (CSVExporter.java at 6880c17): no CATEGORY, no SYSTEM, no MIDDLE/FIPS/INCOME.
    "old": {
        "patients": "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,"
                    "ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,HEALTHCARE_EXPENSES,"
                    "HEALTHCARE_COVERAGE",
        "encounters": "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,"
                      "BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION",
        "conditions": "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION",
        "observations": "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS,TYPE",
    },
}
VERSIONS = tuple(HEADERS)


def csv_writer(path: Path, header: str) -> tuple[TextIO, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    f = path.open("w", encoding="utf-8", newline="")
    f.write(header + "\n")
    return f, csv.writer(f, lineterminator="\n")


def write_patients(path: Path, people: Sequence[Person], rng: random.Random, version: str) -> None:
    """Demographics as Synthea writes them (digit-suffixed names, SSN 999-, Massachusetts places)."""
    current = version == "current"
    f, w = csv_writer(path, HEADERS[version]["patients"])
    with f:
        for p in people:
            adult = p.age(END) >= 18
            city, county, fips, zip_code, lat, lon = rng.choice(V.CITIES)
            marital = rng.choice(("M", "M", "S", "D", "W")) if adult else ""
            prefix = ("Mrs." if marital == "M" else "Ms.") if p.sex == "F" else "Mr."
            if p.prefix is not None:
                prefix = p.prefix
            maiden = rng.choice(V.LAST) + str(rng.randint(10, 999)) if p.sex == "F" and marital == "M" else ""
            race = rng.choices([r for r, _ in V.RACES], [wt for _, wt in V.RACES])[0]
            birthplace = f"{rng.choice(V.CITIES)[0]}  Massachusetts  US"
            address = f"{rng.randint(1, 999)} {rng.choice(V.STREETS)}" + (f" Unit {rng.randint(1, 90)}" if rng.random() < 0.3 else "")
            row = [
                p.id, p.birth.isoformat(), p.death.date().isoformat() if p.death else "", f"999-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
                f"S999{rng.randint(10000, 99999)}" if adult else "",
                f"X{rng.randint(10000000, 99999999)}X" if adult and rng.random() < 0.7 else "",
                prefix if adult else "", p.first, p.middle, p.last, "", maiden, marital, race,
                "hispanic" if rng.random() < 0.12 else "nonhispanic", p.sex, birthplace, address, city,
                "Massachusetts", county, fips, zip_code if rng.random() < 0.85 else "",
                f"{lat + rng.uniform(-0.05, 0.05):.15f}", f"{lon + rng.uniform(-0.05, 0.05):.15f}",
                f"{rng.uniform(2000, 900000):.2f}", f"{rng.uniform(0, 60000):.2f}", str(rng.randint(15000, 250000)),
            ]
            if not current:
                del row[27], row[21], row[8]  # INCOME, FIPS, MIDDLE
            w.writerow(row)


def write_encounters(path: Path, people: Sequence[Person], rng: random.Random, version: str) -> int:
    orgs = [new_id(rng) for _ in range(6)]
    providers = [new_id(rng) for _ in range(14)]
    payers = [new_id(rng) for _ in range(5)]
    f, w = csv_writer(path, HEADERS[version]["encounters"])
    n = 0
    with f:
        for p in people:
            home = rng.randrange(len(orgs))
            payer = rng.choice(payers)
            for e in sorted(p.encounters, key=lambda e: e.start):
                base = {"wellness": 136.8, "ambulatory": 85.55, "urgentcare": 142.58, "emergency": 146.18,
                        "inpatient": 106.94}.get(e.klass, 85.55)
                total = base * (1 if e.klass != "inpatient" else (e.stop - e.start).days + 1) * rng.uniform(1, 4)
                w.writerow([
                    e.id, iso(e.start), iso(e.stop), p.id, orgs[home if e.klass in ("wellness", "ambulatory") else 0],
                    rng.choice(providers), payer, e.klass, e.code, e.description, f"{base:.2f}", f"{total:.2f}",
                    f"{total * rng.uniform(0.5, 0.95):.2f}", e.reason[0] if e.reason else "",
                    e.reason[1] if e.reason else "",
                ])
                n += 1
    return n


def write_conditions(path: Path, people: Sequence[Person], version: str) -> int:
    """Chronic conditions stay open (empty STOP); infection episodes carry a STOP date."""
    current = version == "current"
    f, w = csv_writer(path, HEADERS[version]["conditions"])
    n = 0
    with f:
        for p in people:
            conds: list[Condition] = sorted([*p.conditions.values(), *p.episode_conditions], key=lambda c: c.onset)
            for c in conds:
                row = [c.onset.date().isoformat(), c.stop.date().isoformat() if c.stop else "", p.id, c.encounter]
                row += (["SNOMED-CT"] if current else []) + [c.code, c.description]
                w.writerow(row)
                n += 1
    return n


def write_observations(path: Path, rows: Iterable[list[str]], version: str) -> int:
    current = version == "current"
    f, w = csv_writer(path, HEADERS[version]["observations"])
    n = 0
    with f:
        for r in rows:
            w.writerow(r if current else r[:3] + r[4:])
            n += 1
    return n


# ---------------------------------------------------------------- wide admissions file

def _random_case(rng: random.Random, name: str) -> str:
    """The Kaggle file's names come in random case ('andrEw waTtS'); about half the rows here do."""
    if rng.random() < 0.5:
        return name
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in name)


def write_wide(path: Path, rows: int, rng: random.Random) -> int:
    """The Kaggle healthcare dataset layout plus SanAssist's 9 measurement columns (WBC in cells/uL).

    About one row in eight is a readmission of an earlier person (same name, different case, older), so
    the importer's name-based identity has something to join.
    """
    f, w = csv_writer(path, ",".join(V.WIDE_HEADER))
    people: list[tuple[str, str, int, date, str]] = []
    with f:
        for _ in range(rows):
            if people and rng.random() < 0.12:
                name, gender, age, last_adm, blood = rng.choice(people)
                adm = last_adm + timedelta(days=rng.randint(30, 900))
                age = age + (adm - last_adm).days // 365
            else:
                gender = rng.choice(("Male", "Female"))
                first = rng.choice(V.FIRST_M if gender == "Male" else V.FIRST_F)
                # The first person is a Müller: the spreadsheet variants must carry a non-ASCII name.
                name = f"{first} {rng.choice(V.LAST) if people else 'Müller'}"
                age, blood = rng.randint(18, 89), rng.choice(V.BLOOD_TYPES)
                adm = date(2019, 1, 1) + timedelta(days=rng.randint(0, 5 * 365))
            people.append((name, gender, age, adm, blood))
            condition = rng.choice(tuple(V.WIDE_RANGES))
            ranges = V.WIDE_RANGES[condition]
            values = []
            for i, (lo, hi) in enumerate(ranges):
                if i in (0, 1, 2, 4, 7):  # randint columns
                    values.append(str(rng.randrange(int(lo), int(hi))))
                else:
                    values.append(f"{rng.uniform(lo, hi):.1f}")
            w.writerow([
                _random_case(rng, name), age, gender, blood, condition, adm.isoformat(), rng.choice(V.DOCTORS),
                rng.choice(V.HOSPITALS), rng.choice(V.INSURERS), repr(rng.uniform(1000, 52000)), rng.randint(101, 500),
                rng.choice(V.ADMISSION_TYPES), (adm + timedelta(days=rng.randint(1, 30))).isoformat(),
                rng.choice(V.MEDICATIONS), rng.choice(V.TEST_RESULTS), *values,
            ])
    return rows


# ---------------------------------------------------------------- fast bulk writers (benchmarks)

# name, code, canonical unit, mean, spread, alternative unit (or ""), factor to it, offset, share in alt unit
_BULK = (
    ("Heart rate", "8867-4", "/min", 78, 30, "", 1, 0, 0),
    ("Systolic BP", "8480-6", "mm[Hg]", 128, 40, "", 1, 0, 0),
    ("Diastolic BP", "8462-4", "mm[Hg]", 80, 24, "", 1, 0, 0),
    ("Respiratory rate", "9279-1", "/min", 16, 8, "", 1, 0, 0),
    ("Temperature", "8310-5", "Cel", 37.0, 2.4, "[degF]", 1.8, 32, 0.1),
    ("SpO2", "2708-6", "%", 96.5, 6, "", 1, 0, 0),
    ("Weight", "29463-7", "kg", 78, 40, "[lb_av]", 2.20462262, 0, 0.1),
    ("Glucose", "2339-0", "mg/dL", 110, 80, "mmol/L", 1 / 18.016, 0, 0.1),
    ("Creatinine", "38483-4", "mg/dL", 1.0, 0.8, "umol/L", 88.4, 0, 0.05),
    ("Hemoglobin", "718-7", "g/dL", 13.5, 5, "", 1, 0, 0),
    ("WBC", "6690-2", "10*3/uL", 7.5, 7, "cells/uL", 1000, 0, 0.1),
    ("CRP", "1988-5", "mg/L", 8, 14, "", 1, 0, 0),
)


def write_long_file(path: Path, rows: int, seed: int) -> int:
    """A long CSV ``patient,time,measurement,value,unit`` with exactly ``rows`` plausible data rows.

    Each patient gets a series of visits with all 12 measurements; some rows use a unit the importer must
    convert (degF, lb, mmol/L, umol/L, cells/uL).
    """
    rng = random.Random(seed)
    rnd = rng.random
    path.parent.mkdir(parents=True, exist_ok=True)
    per_visit = len(_BULK)
    visits_per_patient = 40
    t0 = datetime(2020, 1, 1, 8, 0, 0)
    buf: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("patient,time,measurement,value,unit\n")
        i = 0
        patient = ""
        time = ""
        while i < rows:
            visit, j = divmod(i, per_visit)
            if j == 0:
                if visit % visits_per_patient == 0:
                    patient = f"P{visit // visits_per_patient:07d}"
                time = (t0 + timedelta(hours=visit % visits_per_patient * 37 + rng.randint(0, 5))).strftime(
                    "%Y-%m-%dT%H:%M:%SZ")
            name, _, unit, mean, spread, alt, factor, offset, share = _BULK[j]
            v = mean + spread * (rnd() - 0.5)
            if share and rnd() < share:
                buf.append(f"{patient},{time},{name},{v * factor + offset:.1f},{alt}\n")
            else:
                buf.append(f"{patient},{time},{name},{v:.1f},{unit}\n")
            i += 1
            if len(buf) >= 50000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
    return rows


def write_synthea_observations(path: Path, rows: int, seed: int) -> int:
    """A current-layout Synthea observations.csv with exactly ``rows`` rows of vitals and labs."""
    rng = random.Random(seed)
    rnd = rng.random
    path.parent.mkdir(parents=True, exist_ok=True)
    cat = {code: V.OBS[code] for _, code, *_ in _BULK}
    # Synthea descriptions may hold commas only in quotes; ours have none, checked here once.
    assert not any("," in d for _, d, _ in cat.values())
    t0 = datetime(2015, 1, 1, 9, 0, 0)
    buf: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADERS["current"]["observations"] + "\n")
        i = 0
        prefix = ""
        patient = ""
        while i < rows:
            visit, j = divmod(i, len(_BULK))
            if j == 0:
                if visit % 30 == 0:
                    patient = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                encounter = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                when = t0 + timedelta(days=visit % 30 * 90, seconds=rng.randint(0, 36000))
                prefix = f"{when.strftime('%Y-%m-%dT%H:%M:%SZ')},{patient},{encounter},"
            _, code, unit, mean, spread, alt, factor, offset, share = _BULK[j]
            category, description, _ = cat[code]
            v = mean + spread * (rnd() - 0.5)
            if share and rnd() < share and code in ("8310-5", "2339-0"):
                buf.append(f"{prefix}{category},{code},{description},{v * factor + offset:.1f},{alt},numeric\n")
            else:
                buf.append(f"{prefix}{category},{code},{description},{v:.1f},{unit},numeric\n")
            i += 1
            if len(buf) >= 50000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
    return rows
