"""A record's course as real Synthea exports show it, beyond one row per order: chronic drugs re-issued year
after year and switched for another (the old row stopped, the new one started, both for the same reason),
an over-the-counter drug with no reason, and visits of the other classes (outpatient, virtual, home).

Applied by :func:`generate_cohort` with ``history_changes=True`` (the evaluation's cohorts), from its own
random stream, after everything else is drawn: without it every file is byte-for-byte what it was, so the
committed sample does not change.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from devtools.synthetic import vocab_history as H
from devtools.synthetic.cohort import END, YEAR, Encounter, Person, Record, new_id

OTC = (("313820", "Acetaminophen 160 MG Chewable Tablet"), ("748856", "Yaz 28 Day Pack"),
       ("1043400", "Acetaminophen 21.7 MG/ML / Dextromethorphan Hydrobromide 1 MG/ML Oral Solution"))
OTHER_CLASSES = (("outpatient", "371883000", "Outpatient procedure (procedure)"),
                 ("virtual", "185317003", "Telephone encounter (procedure)"),
                 ("home", "439740005", "Postoperative follow-up visit (procedure)"))


def add_history_changes(people: list[Person], rng: random.Random) -> None:
    for p in people:
        last = min(END, p.death or END)
        _renew_and_switch(p, rng, last)
        if p.encounters and rng.random() < 0.3:
            enc = rng.choice(p.encounters)
            code, description = rng.choice(OTC)
            p.medications.append(Record(enc.start, enc.start + timedelta(days=rng.randint(3, 30)), enc.id, code,
                                        description, None))
        for _ in range(rng.randint(0, 3)):
            _other_visit(p, rng, last)


def _renew_and_switch(p: Person, rng: random.Random, last: datetime) -> None:
    chronic = [m for m in p.medications if m.stop is None]
    for med in chronic:
        key = next((k for k, options in H.MEDS_FOR.items() if (med.code, med.description) in options), None)
        if key is None or rng.random() < 0.4:
            continue
        # Re-issued every year: one row per year, each stopped when the next starts.
        start, rows = med.start, list[Record]()
        while start + YEAR < last and len(rows) < 6:
            rows.append(Record(start, start + YEAR, med.encounter, med.code, med.description, med.reason))
            start = start + YEAR
        if not rows:
            continue
        p.medications.remove(med)
        p.medications.extend(rows)
        alternatives = [o for o in H.MEDS_FOR[key] if o[0] != med.code]
        if alternatives and rng.random() < 0.5:     # switched for another drug, still open
            code, description = rng.choice(alternatives)
            p.medications.append(Record(start, None, med.encounter, code, description, med.reason))
        else:                                        # the last issue still running
            p.medications.append(Record(start, None, med.encounter, med.code, med.description, med.reason))


def _other_visit(p: Person, rng: random.Random, last: datetime) -> None:
    if not p.encounters:
        return
    first = min(e.start for e in p.encounters)
    if last <= first:
        return
    when = first + timedelta(seconds=rng.uniform(0, (last - first).total_seconds()))
    klass, code, description = rng.choice(OTHER_CLASSES)
    p.encounters.append(Encounter(new_id(rng), when, when + timedelta(minutes=rng.choice((15, 30, 45))), klass,
                                  code, description, None))
