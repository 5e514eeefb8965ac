"""What a real record holds beyond vitals and core labs, added to a simulated person.

After :func:`devtools.synthetic.visits.simulate` has laid out a person's encounters, this adds what a
real Synthea export also holds (real-data.md): surveys at wellness visits (long questions, text answers,
``{score}`` totals), yearly QALY/DALY/QOLS rows with no encounter and no category, more labs and urine
strips, children's growth percentiles, social-history "(finding)" conditions that start at one wellness
visit and stop at the next, pregnancies, repeated readings at one timestamp, medications, allergies,
procedures, immunizations, and for some people death: a DEATHDATE, a "Cause of Death" text observation,
and nothing recorded after it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from devtools.synthetic import vocab_history as H
from devtools.synthetic.cohort import END, YEAR, Condition, Encounter, ObsRow, Person, Record, iso, new_id

_CHRONIC_CAUSES = ("ckd", "dm", "htn")  # the first a person has is written as the cause of death


def add_history(p: Person, rng: random.Random, start: datetime, rows: list[ObsRow], *,
                may_die: bool) -> list[ObsRow]:
    """Return ``rows`` plus everything above, in time order, cut at the person's death if they die."""
    if may_die:
        _maybe_die(p, rng, start)
    if p.death is not None:
        rows = _until_death(p, rows)
    out = list(rows)
    wellness = sorted((e for e in p.encounters if e.klass == "wellness"), key=lambda e: e.start)
    for i, enc in enumerate(wellness):
        following = wellness[i + 1].start if i + 1 < len(wellness) else None
        if p.age(enc.start) < 18:
            _child_wellness(p, rng, enc, out)
        else:
            _adult_wellness(p, rng, enc, following, out)
        _quality_of_life(p, rng, enc.start, out)
    _repeated_readings(rng, out)
    _pregnancy(p, rng, start)
    _medications(p, rng)
    _allergies(p, rng, wellness)
    _acute_procedures(p, rng)
    if p.death is not None:
        _death_record(p, rng, out)
    out.sort(key=lambda r: r[0])  # stable: rows of one time keep their panel order
    return out


# ---------------------------------------------------------------- death

def _maybe_die(p: Person, rng: random.Random, start: datetime) -> None:
    age = p.age(END)
    # About one in seven dies within the record, mostly the old (9 of 59 in a real export).
    chance = 0.5 if age > 78 else 0.25 if age > 60 else 0.05 if age >= 18 else 0.0
    if rng.random() >= chance:
        return
    p.death = start + (END - start) * rng.uniform(0.4, 0.97)


def _until_death(p: Person, rows: list[ObsRow]) -> list[ObsRow]:
    assert p.death is not None
    cutoff = iso(p.death)
    p.encounters = [e for e in p.encounters if e.start < p.death]
    p.conditions = {k: c for k, c in p.conditions.items() if c.onset < p.death}
    episodes = []
    for c in p.episode_conditions:
        if c.onset < p.death:
            if c.stop is not None and c.stop > p.death:
                c.stop = p.death
            episodes.append(c)
    p.episode_conditions = episodes
    return [r for r in rows if r[0] < cutoff]


def _death_record(p: Person, rng: random.Random, out: list[ObsRow]) -> None:
    assert p.death is not None
    cause = next((p.conditions[k] for k in _CHRONIC_CAUSES if k in p.conditions), None)
    reason = (cause.code, cause.description) if cause else None
    enc = Encounter(new_id(rng), p.death, p.death + timedelta(minutes=15), "ambulatory", *H.ENC_DEATH, reason)
    p.encounters.append(enc)
    out.append([iso(p.death), p.id, enc.id, "", H.CAUSE_OF_DEATH[0], H.CAUSE_OF_DEATH[1],
                cause.description if cause else H.NATURAL_DEATH, "", "text"])
    for m in p.medications:  # nothing is taken after death
        if m.stop is None or m.stop > p.death:
            m.stop = p.death


# ---------------------------------------------------------------- wellness visits

def _adult_wellness(p: Person, rng: random.Random, enc: Encounter, following: datetime | None,
                    out: list[ObsRow]) -> None:
    ts = iso(enc.start)
    for _, items, chance in H.SURVEYS:
        if rng.random() < chance:
            _survey(p, rng, ts, enc.id, items, out)
    if p.age(enc.start) >= 65:
        _survey(p, rng, ts, enc.id, H.MORSE, out)
    if rng.random() < 0.3:
        for code, description, unit, mean, sd, decimals in rng.sample(H.EXTRA_LABS, rng.randint(6, 14)):
            value = max(mean * 0.2, rng.gauss(mean, sd))
            out.append([ts, p.id, enc.id, "laboratory", code, description, f"{value:.{decimals}f}", unit,
                        "numeric"])
    if rng.random() < 0.2:
        for code, description, answers in H.URINE_TEXT:
            out.append([ts, p.id, enc.id, "laboratory", code, description, rng.choice(answers), "", "text"])
    for code, description in rng.sample(H.FINDINGS, rng.randint(1, 3)):
        p.episode_conditions.append(Condition(code, description, enc.start, following, enc.id))
    for code, description in rng.sample(H.PROC_WELLNESS, rng.randint(1, 3)):
        p.procedures.append(Record(enc.start, enc.start + timedelta(minutes=15), enc.id, code, description))
    if rng.random() < 0.6:
        p.immunizations.append(Record(enc.start, None, enc.id, *H.FLU))
    if rng.random() < 0.08:
        p.immunizations.append(Record(enc.start, None, enc.id, *rng.choice(H.ADULT_VACCINES)))


def _survey(p: Person, rng: random.Random, ts: str, enc: str, items: tuple[tuple[str, str, str, tuple], ...],
            out: list[ObsRow]) -> None:
    for code, question, unit, answers in items:
        if len(answers) == 2 and all(isinstance(a, int) for a in answers):
            out.append([ts, p.id, enc, "survey", code, question, f"{rng.randint(answers[0], answers[1])}.0", unit,
                        "numeric"])
        else:
            out.append([ts, p.id, enc, "survey", code, question, str(rng.choice(answers)), unit, "text"])


def _child_wellness(p: Person, rng: random.Random, enc: Encounter, out: list[ObsRow]) -> None:
    ts = iso(enc.start)
    age = p.age(enc.start)
    code, description, unit = H.CHILD_GROWTH[0]
    out.append([ts, p.id, enc.id, "vital-signs", code, description, f"{rng.uniform(5, 95):.1f}", unit, "numeric"])
    if age < 3:
        for code, description, unit in H.CHILD_GROWTH[1:]:
            value = rng.uniform(5, 95) if unit == "%" else rng.gauss(47 + age * 1.5, 1.0)
            out.append([ts, p.id, enc.id, "vital-signs", code, description, f"{value:.1f}", unit, "numeric"])
    for code, description in rng.sample(H.CHILD_VACCINES, rng.randint(0, 2)):
        p.immunizations.append(Record(enc.start, None, enc.id, code, description))
    if rng.random() < 0.5:
        p.immunizations.append(Record(enc.start, None, enc.id, *H.FLU))
    p.procedures.append(Record(enc.start, enc.start + timedelta(minutes=10), enc.id, *H.PROC_WELLNESS[0]))


def _quality_of_life(p: Person, rng: random.Random, when: datetime, out: list[ObsRow]) -> None:
    """QALY, DALY, QOLS: no encounter, no category, units ``a`` (years) and ``{score}``."""
    age = p.age(when)
    burden = 0.04 * len([c for c in p.conditions.values() if c.onset <= when])
    daly = burden * max(1.0, age - 30) * rng.uniform(0.8, 1.2)
    qols = max(0.3, 1.0 - burden - rng.uniform(0, 0.05))
    values = (age - daly * 0.6, daly, qols)
    for (code, description, unit), value in zip(H.QUALITY_OF_LIFE, values, strict=True):
        out.append([iso(when), p.id, "", "", code, description, f"{value:.1f}", unit, "numeric"])


def _repeated_readings(rng: random.Random, out: list[ObsRow]) -> None:
    """Now and then a second reading of the same code at the same time, as real exports hold."""
    repeats = [list(r) for r in out if r[4] in ("8867-4", "72514-3") and rng.random() < 0.03]
    for r in repeats:
        r[6] = f"{float(r[6]) + rng.choice((-2, -1, 1, 2)):.1f}" if r[4] == "8867-4" else r[6]
    out.extend(repeats)


# ---------------------------------------------------------------- conditions and orders

def _pregnancy(p: Person, rng: random.Random, start: datetime) -> None:
    if p.sex != "F" or rng.random() > 0.35:
        return
    window_end = min(END, p.death or END) - timedelta(days=300)
    conception = start + timedelta(days=rng.uniform(0, max(1.0, (window_end - start).days)))
    if not 18 <= p.age(conception) <= 44 or conception > window_end:
        return
    seen = conception + timedelta(days=rng.uniform(42, 70), hours=rng.randint(8, 16))
    enc = Encounter(new_id(rng), seen, seen + timedelta(minutes=30), "wellness", *H.ENC_PRENATAL,
                    H.PREGNANCY)
    p.encounters.append(enc)
    p.episode_conditions.append(Condition(*H.PREGNANCY, seen, conception + timedelta(days=rng.uniform(260, 285)),
                                          enc.id))
    p.procedures.append(Record(seen, seen + timedelta(minutes=10), enc.id, *H.PROC_PRENATAL, H.PREGNANCY))


def _medications(p: Person, rng: random.Random) -> None:
    for key, cond in p.conditions.items():
        options = H.MEDS_FOR.get(key)
        if not options:
            continue
        code, description = rng.choice(options)
        stop = None if rng.random() < 0.8 else min(END, cond.onset + YEAR * rng.uniform(0.5, 3))
        p.medications.append(Record(cond.onset, stop, cond.encounter, code, description,
                                    (cond.code, cond.description)))
    by_id = {e.id: e for e in p.encounters}
    for c in p.episode_conditions:
        enc = by_id.get(c.encounter)
        if enc is None or enc.klass not in ("urgentcare", "emergency", "ambulatory") or c.stop is None:
            continue
        if c.description.endswith("(finding)") or c.code == H.PREGNANCY[0]:
            continue
        severity = "severe" if "Pneumonia" in c.description and enc.klass == "emergency" else \
            "moderate" if enc.klass != "ambulatory" else "mild"
        code, description = rng.choice(H.MEDS_ACUTE[severity])
        p.medications.append(Record(enc.start, enc.start + timedelta(days=rng.randint(7, 14)), enc.id, code,
                                    description, (c.code, c.description)))


def _allergies(p: Person, rng: random.Random, wellness: list[Encounter]) -> None:
    if not wellness or rng.random() > 0.2:
        return
    enc = wellness[0]
    for code, system, description, kind, category, reaction in rng.sample(H.ALLERGIES, rng.randint(1, 2)):
        extra = [system, kind, category]
        if reaction is not None:
            extra += [reaction[0], reaction[1], rng.choice(H.SEVERITIES)]
        else:
            extra += ["", "", ""]
        extra += ["", "", ""]  # REACTION2, DESCRIPTION2, SEVERITY2: rarely filled in real exports
        p.allergies.append(Record(enc.start, None, enc.id, code, description, None, tuple(extra)))


def _acute_procedures(p: Person, rng: random.Random) -> None:
    for enc in p.encounters:
        if enc.klass == "emergency" and enc.reason and ("Pneumonia" in enc.reason[1] or "coronavirus" in enc.reason[1]):
            p.procedures.append(Record(enc.start, enc.start + timedelta(minutes=30), enc.id, *H.PROC_ACUTE[0],
                                       enc.reason))
        elif enc.klass == "inpatient":
            p.procedures.append(Record(enc.start, enc.stop, enc.id, *H.PROC_ACUTE[1], enc.reason))
