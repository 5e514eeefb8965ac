"""A generated Synthea export holding each clinical edge case of issue 20, imported by the app's importer.

Written as Synthea writes it (current CSV headers, UCUM units, blood pressure as two rows, SpO2 as 2708-6,
text rows for smoking and survey answers, QALY/DALY rows with no encounter or category, a death, children,
pregnancies without a stop date) so that the attention list, the summary and the flags are tested on what
a clinic imports, not on rows written straight into tables.

The workspace's newest reading is ``ANCHOR`` (the same-time SpO2 pair); "recent" means the 30 days before it. ``EXPECTED_ORDER`` is
the order the attention rule must give the patients with recent findings, most severe first.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

ANCHOR = datetime(2025, 3, 1, 12, 0)

PATIENTS_HEADER = ["Id", "BIRTHDATE", "DEATHDATE", "SSN", "DRIVERS", "PASSPORT", "PREFIX", "FIRST", "MIDDLE", "LAST", "SUFFIX", "MAIDEN", "MARITAL", "RACE", "ETHNICITY", "GENDER", "BIRTHPLACE", "ADDRESS", "CITY", "STATE", "COUNTY", "FIPS", "ZIP", "LAT", "LON", "HEALTHCARE_EXPENSES", "HEALTHCARE_COVERAGE", "INCOME"]
ENCOUNTERS_HEADER = ["Id", "START", "STOP", "PATIENT", "ORGANIZATION", "PROVIDER", "PAYER", "ENCOUNTERCLASS", "CODE", "DESCRIPTION", "BASE_ENCOUNTER_COST", "TOTAL_CLAIM_COST", "PAYER_COVERAGE", "REASONCODE", "REASONDESCRIPTION"]
OBSERVATIONS_HEADER = ["DATE", "PATIENT", "ENCOUNTER", "CATEGORY", "CODE", "DESCRIPTION", "VALUE", "UNITS", "TYPE"]
CONDITIONS_HEADER = ["START", "STOP", "PATIENT", "ENCOUNTER", "SYSTEM", "CODE", "DESCRIPTION"]

# code: (description as Synthea writes it, unit, category)
VOCAB: dict[str, tuple[str, str, str]] = {
    "8480-6": ("Systolic Blood Pressure", "mm[Hg]", "vital-signs"),
    "8462-4": ("Diastolic Blood Pressure", "mm[Hg]", "vital-signs"),
    "8867-4": ("Heart rate", "/min", "vital-signs"),
    "9279-1": ("Respiratory rate", "/min", "vital-signs"),
    "8310-5": ("Body temperature", "Cel", "vital-signs"),
    "2708-6": ("Oxygen saturation in Arterial blood", "%", "vital-signs"),
    "39156-5": ("Body mass index (BMI) [Ratio]", "kg/m2", "vital-signs"),
    "59576-9": ("Body mass index (BMI) [Percentile] Per age and sex", "%", "vital-signs"),
    "8302-2": ("Body Height", "cm", "vital-signs"),
    "29463-7": ("Body Weight", "kg", "vital-signs"),
    "2339-0": ("Glucose", "mg/dL", "laboratory"),
    "41653-7": ("Glucose [Mass/volume] in Capillary blood by Glucometer", "mg/dL", "laboratory"),
    "6299-2": ("Urea Nitrogen", "mg/dL", "laboratory"),
    "2093-3": ("Total Cholesterol", "mg/dL", "laboratory"),
    "72166-2": ("Tobacco smoking status", "", "social-history"),
    "56799-0": ("What address do you live at?", "", "laboratory"),
    "QALY": ("QALY", "a", ""),
    "DALY": ("DALY", "a", ""),
}


@dataclass
class CasePatient:
    id: str
    first: str
    sex: str
    birth: date
    death: date | None = None
    rows: list[tuple[datetime, str, float | str]] = field(default_factory=list)
    conditions: list[tuple[date, date | None, str, str]] = field(default_factory=list)

    def vitals(self, when: datetime, **values: float | str) -> CasePatient:
        codes = {"sbp": "8480-6", "dbp": "8462-4", "hr": "8867-4", "rr": "9279-1", "temp": "8310-5",
                 "spo2": "2708-6", "bmi": "39156-5", "bmi_pct": "59576-9", "glucose": "2339-0",
                 "capillary_glucose": "41653-7", "bun": "6299-2", "chol": "2093-3", "height": "8302-2"}
        for key, value in values.items():
            self.rows.append((when, codes[key], value))
        return self

    def add(self, when: datetime, code: str, value: float | str) -> CasePatient:
        self.rows.append((when, code, value))
        return self


def days_before(days: float, hour: int = 9) -> datetime:
    return (ANCHOR - timedelta(days=days)).replace(hour=hour, minute=0, second=0)


def clinical_cases() -> list[CasePatient]:
    """The patients, each named by the case it holds (its id says which)."""
    people: list[CasePatient] = []

    def person(pid: str, sex: str, birth: date, **kw: object) -> CasePatient:
        p = CasePatient(pid, pid.replace("-", " ").title(), sex, birth, **kw)  # type: ignore[arg-type]
        people.append(p)
        return p

    # Band 3: a partial NEWS2 of at least 9 (RR 26, SBP 88, pulse 135), no SpO2/O2/consciousness/temperature.
    person("news2-high", "M", date(1950, 4, 2)).vitals(days_before(3), rr=26, sbp=88, dbp=60, hr=135)
    # Band 3: SpO2 88 and 97 at the same time; the 88 decides (LL, and NEWS2 3 alone).
    person("spo2-same-time", "F", date(1961, 8, 9)).vitals(ANCHOR, spo2=88, hr=84, rr=18).vitals(ANCHOR, spo2=97)
    # Band 3: a hypertensive crisis 195/100 two days ago and nothing else abnormal (NEWS2 0).
    person("crisis-195", "M", date(1958, 1, 20)).vitals(days_before(2), sbp=195, dbp=100, hr=80, rr=16)
    # Band 2: NEWS2 5 (RR 22: 2, pulse 112: 2, temperature 38.5: 1), no single 3.
    person("news2-medium", "F", date(1972, 11, 30)).vitals(days_before(4), rr=22, hr=112, temp=38.5)
    # Band 1: an AAP 2017 screening flag (3-year-old girl, 127/75; table: 102/60), a teenager 138/78 (stage 1).
    person("child-3y-bp", "F", ANCHOR.date().replace(year=ANCHOR.year - 3) - timedelta(days=40)).vitals(
        days_before(5), sbp=127, dbp=75, hr=110, rr=24, height=95, bmi_pct=96)
    person("teen-16y-bp", "M", date(2008, 6, 15)).vitals(days_before(6), sbp=138, dbp=78, hr=72, rr=16)
    # An infant: BP not in the AAP tables under 1 (said), heart rate by Fleming (5 months: 104-175).
    person("infant-5m", "F", (ANCHOR - timedelta(days=160)).date()).vitals(days_before(7), sbp=85, dbp=50, hr=150)
    # Precision: BUN 5.9 (< 6: L), respiratory rate 20.3 (H, NEWS2 2), capillary glucose 150 (H, < 200 ADA).
    person("precision", "M", date(1980, 3, 3)).vitals(days_before(8), bun=5.9, rr=20.3, capillary_glucose=150)
    # A tubal pregnancy in 1987 without a stop: not ongoing; 139/72 with hypertension is Stage 1, flagged.
    tubal = person("tubal-1987", "F", date(1949, 5, 5)).vitals(days_before(10), sbp=139, dbp=72, hr=70, rr=14)
    tubal.conditions += [(date(1987, 3, 2), None, "79586000", "Tubal pregnancy"),
                         (date(2010, 1, 1), None, "59621000", "Essential hypertension (disorder)")]
    # An ongoing pregnancy (20 weeks, no stop date): NEWS2 withheld, ACOG limits (135/85 is N).
    pregnant = person("pregnant-20w", "F", date(1996, 7, 7)).vitals(days_before(9), sbp=135, dbp=85, hr=88, rr=16)
    pregnant.conditions.append(((ANCHOR - timedelta(weeks=20)).date(), None, "72892002", "Normal pregnancy"))
    # A pregnancy without a stop that started in 2020: over 42 weeks ago, so not pregnant now.
    person("pregnancy-2020", "F", date(1990, 2, 2)).vitals(days_before(11), sbp=128, dbp=70, hr=76).conditions.append(
        (date(2020, 5, 1), None, "72892002", "Normal pregnancy"))
    # Old: an SpO2 of 85 22 months ago (LL), recent readings normal: listed as old, never ranked current.
    person("old-spo2", "M", date(1945, 9, 9)).vitals(days_before(670), spo2=85, hr=88).vitals(
        days_before(12), hr=72, rr=14, sbp=118, dbp=76)
    # A systolic of 182 400 days ago, then a newer text row ("refused"): not a current crisis.
    person("refused-newest", "F", date(1955, 12, 1)).vitals(days_before(400), sbp=182, dbp=95).add(
        days_before(13), "8480-6", "Patient refused").vitals(days_before(13), hr=74, rr=15)
    # The dead are left out, however abnormal.
    person("died-critical", "M", date(1940, 1, 1), death=(ANCHOR - timedelta(days=1)).date()).vitals(
        days_before(2), sbp=210, dbp=125, spo2=80)
    # Fourteen patients whose only finding is a partial NEWS2 of 1 (pulse 95), as in the real export.
    rng = random.Random(20)
    for i in range(14):
        person(f"partial-one-{i:02d}", "F" if i % 2 else "M", date(1960 + i, 1 + i % 12, 1 + i)).vitals(
            days_before(rng.randint(1, 25)), hr=95, rr=16, sbp=rng.randint(112, 118), dbp=rng.randint(62, 78))
    # Everyone gets the noise a Synthea record has: smoking status, a survey answer, QALY/DALY rows.
    for p in people:
        p.add(days_before(800), "72166-2", "Never smoked tobacco (finding)")
        p.add(days_before(800), "56799-0", "123 Main St")
        p.add(days_before(900, hour=0), "QALY", round(rng.uniform(20, 60), 2))
        p.add(days_before(900, hour=0), "DALY", round(rng.uniform(0, 3), 2))
    return people


#: The patients with recent findings, most severe first (the first rows of the attention list).
EXPECTED_ORDER = ("news2-high", "spo2-same-time", "crisis-195", "news2-medium")


def write_clinical_cases(folder: Path) -> Path:
    """Write the cases as a Synthea CSV export in ``folder``; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    people = clinical_cases()

    def writer(name: str, header: list[str]) -> tuple[Any, IO[str]]:
        handle = (folder / name).open("w", newline="", encoding="utf-8")
        w = csv.writer(handle)
        w.writerow(header)
        return w, handle

    pw, ph = writer("patients.csv", PATIENTS_HEADER)
    ew, eh = writer("encounters.csv", ENCOUNTERS_HEADER)
    ow, oh = writer("observations.csv", OBSERVATIONS_HEADER)
    cw, ch = writer("conditions.csv", CONDITIONS_HEADER)
    for p in people:
        row = dict.fromkeys(PATIENTS_HEADER, "")
        row.update(Id=p.id, BIRTHDATE=p.birth.isoformat(), DEATHDATE=p.death.isoformat() if p.death else "",
                   FIRST=p.first, LAST="Case", GENDER=p.sex, RACE="white", ETHNICITY="nonhispanic",
                   HEALTHCARE_EXPENSES="1000.0", HEALTHCARE_COVERAGE="500.0", INCOME="50000")
        pw.writerow([row[k] for k in PATIENTS_HEADER])
        encounters: dict[datetime, str] = {}
        for when, code, value in sorted(p.rows, key=lambda r: r[0]):
            description, unit, category = VOCAB[code]
            encounter = ""
            if category:  # QALY/DALY rows have no encounter, as in Synthea
                encounter = encounters.setdefault(when, f"{p.id}-e{len(encounters)}")
            numeric = isinstance(value, (int, float))
            ow.writerow([when.strftime("%Y-%m-%dT%H:%M:%SZ"), p.id, encounter, category, code, description,
                         f"{float(value):.1f}" if numeric and code not in ("QALY", "DALY") else value,
                         unit if numeric else "", "numeric" if numeric else "text"])
        for when, enc in encounters.items():
            ew.writerow([enc, when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         (when + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"), p.id, "org", "prov", "payer",
                         "ambulatory", "185349003", "Encounter for check up (procedure)", "100", "100", "0", "", ""])
        for start, stop, code, description in p.conditions:
            cw.writerow([start.isoformat(), stop.isoformat() if stop else "", p.id, "", "SNOMED-CT", code, description])
    for handle in (ph, eh, oh, ch):
        handle.close()
    return folder
