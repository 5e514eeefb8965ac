"""A workspace with one long, hard record for looking at the window (screenshots, layout tests).

``python -m devtools.synthetic.long_record OUT.duckdb`` writes a small Synthea-like cohort over ten years
(the generator's own people, surveys, QALY/DALY, children, deaths) and adds one old patient whose record
ends as real ones do: a hospital admission with vital signs every few hours, deteriorating (falling SpO2,
low blood pressure, fast breathing), then death; and a second one admitted in the record's last days and
still in hospital. Everything goes through the app's importer.
Prints the long record's patient id.
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from desktop.core.importers.pipeline import import_paths
from desktop.core.workspace.store import open_store
from devtools.synthetic import vocab as V
from devtools.synthetic.cohort import END, YEAR, Encounter, ObsRow, Person, iso, make_person
from devtools.synthetic.generate import ARCHETYPES
from devtools.synthetic.history import add_history
from devtools.synthetic.visits import simulate
from devtools.synthetic.writers import write_conditions, write_encounters, write_observations, write_patients
from devtools.synthetic.writers_history import write_history_files

ADMISSION_DAYS = 12
EVERY_HOURS = 4
# Daily admission labs a wellness record never has (as in real Synthea COVID-19 admissions): code,
# description, unit, value at admission, value at the end.
ADMISSION_LABS = (
    ("2524-7", "Lactate [Moles/volume] in Blood", "mmol/L", 1.4, 4.8),
    ("33959-8", "Procalcitonin [Mass/volume] in Serum or Plasma", "ng/mL", 0.3, 2.6),
    ("89579-7", "Troponin I.cardiac [Mass/volume] in Serum or Plasma by High sensitivity method", "ng/L", 9.0, 64.0),
    ("48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma", "ug/mL", 0.6, 3.9),
    ("2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "ug/L", 380.0, 1450.0),
    ("2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 260.0, 610.0),
    ("6301-6", "INR in Platelet poor plasma by Coagulation assay", "{INR}", 1.1, 1.7),
    ("731-0", "Lymphocytes [#/volume] in Blood by Automated count", "10*3/uL", 1.0, 0.4),
    ("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", 48.0, 210.0),
)


def _old_person(rng: random.Random, start: datetime) -> Person:
    """The generator's own person, drawn until one is over 75 at the end of the record."""
    while True:
        p = make_person(rng, start)
        if p.age(END) > 75:
            return p


def _admission(p: Person, rng: random.Random, admitted: datetime, died: datetime) -> list[ObsRow]:
    """Vital signs every few hours from ``admitted`` until just before ``died``, getting worse."""
    enc = Encounter(f"{p.id}-admission", admitted, died, "inpatient", *V.ENC_INPATIENT)
    p.encounters.append(enc)
    rows: list[ObsRow] = []
    hours = int((died - admitted).total_seconds() // 3600) - 2
    for h in range(0, hours, EVERY_HOURS):
        when = admitted + timedelta(hours=h)
        worse = h / hours  # 0 at admission, near 1 at the end
        values = {
            "8480-6": 132 - 50 * worse + rng.gauss(0, 6),
            "8462-4": 78 - 28 * worse + rng.gauss(0, 4),
            "8867-4": 92 + 38 * worse + rng.gauss(0, 5),
            "9279-1": 20 + 10 * worse + rng.gauss(0, 1.5),
            "8310-5": 38.1 + 0.8 * worse + rng.gauss(0, 0.2),
            "2708-6": 93 - 12 * worse + rng.gauss(0, 1.0),
        }
        for code, value in values.items():
            category, description, unit = V.OBS[code]
            rows.append([iso(when), p.id, enc.id, category, code, description, f"{value:.1f}", unit, "numeric"])
        if h % 24 == 0:
            for code, description, unit, first, last in ADMISSION_LABS:
                value = (first + (last - first) * worse) * rng.uniform(0.93, 1.07)
                rows.append([iso(when + timedelta(hours=1)), p.id, enc.id, "laboratory", code, description,
                             f"{value:.2f}", unit, "numeric"])
    return rows


def write_long_record(workspace: Path, *, patients: int = 12, years: int = 10, seed: int = 7) -> str:
    """Write the cohort and the long record into the new workspace file ``workspace``; return its id."""
    master = random.Random(seed)
    start = END - YEAR * years
    people: list[Person] = []
    rows: list[ObsRow] = []
    for n in range(patients):
        prng = random.Random(master.getrandbits(64))
        archetype = ARCHETYPES[n] if n < len(ARCHETYPES) else None
        p = make_person(prng, start, archetype)
        rows.extend(add_history(p, prng, start, simulate(p, prng, start), may_die=archetype is None))
        people.append(p)
    rng = random.Random(master.getrandbits(64))
    old = _old_person(rng, start)
    old.death = END - timedelta(days=20)
    admitted = old.death - timedelta(days=ADMISSION_DAYS)
    # add_history cuts the record at the death and writes the death certificate.
    long_rows = add_history(old, rng, start, simulate(old, rng, start), may_die=False)
    long_rows = [r for r in long_rows if r[0] < iso(admitted) or r[0] >= iso(old.death)]
    long_rows += _admission(old, rng, admitted, old.death)
    long_rows.sort(key=lambda r: r[0])
    rows.extend(long_rows)
    people.append(old)
    # A second old patient, admitted now and getting worse: the Overview's first row.
    admitted_now = _old_person(rng, start)
    now_rows = add_history(admitted_now, rng, start, simulate(admitted_now, rng, start), may_die=False)
    now_admitted = END - timedelta(days=6)
    now_rows = [r for r in now_rows if r[0] < iso(now_admitted)]
    now_rows += _admission(admitted_now, rng, now_admitted, END)
    now_rows.sort(key=lambda r: r[0])
    rows.extend(now_rows)
    people.append(admitted_now)
    with tempfile.TemporaryDirectory(prefix="vitalsight-long-") as tmp:
        folder = Path(tmp) / "synthea"
        writer_rng = random.Random(master.getrandbits(64))
        write_patients(folder / "patients.csv", people, writer_rng, "current")
        write_encounters(folder / "encounters.csv", people, writer_rng, "current")
        write_conditions(folder / "conditions.csv", people, "current")
        write_observations(folder / "observations.csv", rows, "current")
        write_history_files(folder, people, writer_rng, "current")
        with open_store(workspace) as store:
            import_paths(store, [folder])
    return old.id


if __name__ == "__main__":
    print(write_long_record(Path(sys.argv[1])))
