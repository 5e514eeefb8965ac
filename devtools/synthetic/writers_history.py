"""Writers for Synthea's medications, allergies, procedures and immunizations files, in the current layouts
(CSVConstants.java at 7b4ae17) and the older ones.

Older exports (Synthea <= 2.7) differ: allergies.csv has the same header as conditions.csv, and
procedures.csv has one DATE instead of START and STOP (v3.0 added them).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from devtools.synthetic.cohort import Person, Record, iso, new_id
from devtools.synthetic.writers import csv_writer

HISTORY_HEADERS = {
    "current": {
        "medications": "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,"
                       "TOTALCOST,REASONCODE,REASONDESCRIPTION",
        "allergies": "START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,DESCRIPTION1,"
                     "SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2",
        "procedures": "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION",
        "immunizations": "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST",
    },
    "old": {
        "medications": "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,"
                       "TOTALCOST,REASONCODE,REASONDESCRIPTION",
        "allergies": "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION",
        "procedures": "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION",
        "immunizations": "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST",
    },
}


def _reason(r: Record) -> list[str]:
    return [r.reason[0], r.reason[1]] if r.reason else ["", ""]


def write_history_files(folder: Path, people: Sequence[Person], rng: random.Random, version: str) -> dict[str, int]:
    """Write the four files into ``folder``; returns rows written per file name."""
    headers = HISTORY_HEADERS[version]
    current = version == "current"
    counts: dict[str, int] = {}
    payers = [new_id(rng) for _ in range(5)]

    f, w = csv_writer(folder / "medications.csv", headers["medications"])
    with f:
        n = 0
        for p in people:
            for m in sorted(p.medications, key=lambda r: r.start):
                days = max(1, ((m.stop or m.start) - m.start).days)
                dispenses = max(1, days // 30) if m.stop else rng.randint(1, 60)
                base = rng.uniform(2, 300)
                total = base * dispenses
                w.writerow([iso(m.start), iso(m.stop) if m.stop else "", p.id, rng.choice(payers), m.encounter, m.code,
                            m.description, f"{base:.2f}", f"{total * rng.uniform(0, 0.9):.2f}", dispenses,
                            f"{total:.2f}", *_reason(m)])
                n += 1
        counts["medications.csv"] = n

    f, w = csv_writer(folder / "allergies.csv", headers["allergies"])
    with f:
        n = 0
        for p in people:
            for a in p.allergies:
                head = [a.start.date().isoformat(), a.stop.date().isoformat() if a.stop else "", p.id, a.encounter]
                if current:
                    system, *rest = a.extra
                    w.writerow([*head, a.code, system, a.description, *rest])
                else:
                    w.writerow([*head, a.code, a.description])
                n += 1
        counts["allergies.csv"] = n

    f, w = csv_writer(folder / "procedures.csv", headers["procedures"])
    with f:
        n = 0
        for p in people:
            for r in sorted(p.procedures, key=lambda r: r.start):
                cost = f"{rng.uniform(50, 900):.2f}"
                if current:
                    w.writerow([iso(r.start), iso(r.stop or r.start), p.id, r.encounter, "SNOMED-CT", r.code,
                                r.description, cost, *_reason(r)])
                else:
                    w.writerow([iso(r.start), p.id, r.encounter, r.code, r.description, cost, *_reason(r)])
                n += 1
        counts["procedures.csv"] = n

    f, w = csv_writer(folder / "immunizations.csv", headers["immunizations"])
    with f:
        n = 0
        for p in people:
            for r in sorted(p.immunizations, key=lambda r: r.start):
                w.writerow([iso(r.start), p.id, r.encounter, r.code, r.description, "136.00"])
                n += 1
        counts["immunizations.csv"] = n
    return counts
