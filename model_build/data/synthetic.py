"""A data set generated from seeded synthetic patients (the one synthetic-cohort generator,
``devtools.synthetic``): questions about a patient summary in the app's chat-context format, with answers
that quote the right numbers.

The point is not medical knowledge but reading skill: the fine-tuned model should find the value the
clinician asks about in the summary the app gives it, quote it with unit, flag and date, and say so when
the summary has no answer instead of inventing one. Every answer is computed from the same dict that
the summary is rendered from, so answers and summaries cannot disagree.
"""

from __future__ import annotations

import random
from typing import Any

from desktop.core.trained.toolkit import bp_category, load_catalog, load_ranges, news2_score, range_flag
from devtools.synthetic.cohort import END, YEAR, Physiology, make_person
from devtools.synthetic.visits import SEVERITY
from model_build.data.patient_context import (
    DEFAULT_SYSTEM_PROMPT,
    app_summary,
    category,
    fmt_number,
    system_message,
    user_message,
)

# label (the app's catalog name), unit, decimals. The values come from the synthetic-cohort generator's
# physiology (devtools.synthetic), so training patients are the same kind of people as the test cohort
# and the sample; flags, NEWS2 and the BP category come from the app's own ranges and scores, so
# training answers agree with what the app shows.
VITALS = [
    ("Systolic blood pressure", "mm[Hg]", 0),
    ("Diastolic blood pressure", "mm[Hg]", 0),
    ("Heart rate", "/min", 0),
    ("Respiratory rate", "/min", 0),
    ("Oxygen saturation", "%", 0),
    ("Body temperature", "Cel", 1),
    ("Glucose", "mg/dL", 0),
    ("Body mass index", "kg/m2", 1),
]
ABSENT = ["cholesterol", "HbA1c", "potassium", "creatinine", "haemoglobin", "weight"]
#: The generator's record window these patients are drawn from.
START = END - YEAR * 5
#: Share of patients seen during an acute episode (fever, tachycardia, low SpO2), so flags vary.
ACUTE_SHARE = 0.45


def _values(rng: random.Random, ph: Physiology) -> dict[str, float]:
    """One set of readings of a generator person at one moment, acutely ill or not."""
    dt, dhr, drr, dspo2, _crp, _wbc = (0.0, 0, 0, 0.0, 0, 0.0)
    if rng.random() < ACUTE_SHARE:
        dt, dhr, drr, dspo2, _crp, _wbc = SEVERITY[rng.choice(tuple(SEVERITY))]
    glucose = ph.labs()["2339-0"]
    return {
        "Systolic blood pressure": rng.gauss(ph.sbp, 8), "Diastolic blood pressure": rng.gauss(ph.dbp, 5),
        "Heart rate": rng.gauss(ph.hr + dhr, 6), "Respiratory rate": rng.gauss(ph.rr + drr, 1.5),
        "Oxygen saturation": min(100.0, rng.gauss(ph.spo2 + dspo2, 1.0)),
        "Body temperature": rng.gauss(ph.temp + dt, 0.25), "Glucose": rng.gauss(glucose, glucose * 0.08),
        "Body mass index": ph.bmi,
    }


def make_patient(rng: random.Random, idx: int) -> dict[str, Any]:
    person = make_person(rng, START)
    when = START + (END - START) * rng.uniform(0.2, 1.0)
    ph = Physiology(person, when, START)
    day = when.date()
    sex, age = person.sex, int(ph.age)
    catalog, ranges = load_catalog(), load_ranges()
    readings = _values(rng, ph)
    latest = []
    values: dict[str, float] = {}
    by_code: dict[str, float | str] = {}
    for label, unit, dec in VITALS:
        if label not in ("Systolic blood pressure", "Diastolic blood pressure") and rng.random() < 0.3:
            continue
        v = round(readings[label], dec) if dec else round(readings[label])
        m = catalog.by_name(label)
        assert m is not None, label
        flag = range_flag(float(v), ranges.for_patient(m.code, sex, age))
        latest.append({"label": label, "value": v, "unit": unit, "flag": flag, "date": day.isoformat()})
        values[label] = v
        by_code[m.code] = v
    score = news2_score(by_code)
    trend_of = rng.choice(latest)
    months = rng.choice([3, 6, 12, 24])
    delta = trend_of["value"] * rng.uniform(-0.15, 0.15)
    before = round(trend_of["value"] - delta, 1) if isinstance(trend_of["value"], float) else int(
        trend_of["value"] - delta)
    return {
        "id": f"synthetic-{idx:05d}",
        # Synthea's digit suffixes dropped, as the app's importer drops them.
        "name": f"{person.first.rstrip('0123456789')} {person.last.rstrip('0123456789')}",
        "sex": sex,
        "age": age,
        "conditions": sorted(c.description for c in person.conditions.values() if c.onset <= when),
        "latest": latest,
        "bp_category": bp_category(values["Systolic blood pressure"], values["Diastolic blood pressure"]),
        "news2": {"score": score.score, "missing": score.missing},
        "trends": [{"label": trend_of["label"], "from": before, "to": trend_of["value"],
                    "unit": trend_of["unit"], "months": months}],
    }


FLAG_WORDS = {"H": "above the normal range", "L": "below the normal range", "HH": "critically high",
              "LL": "critically low"}


def _shown_in_full(v: dict[str, Any]) -> bool:
    """The app's summary gives a lab's value only when it is out of range (see format_patient_summary)."""
    return category(v["label"]) != "lab" or v["flag"] not in (None, "N")


def _value_phrase(v: dict[str, Any]) -> str:
    flag = FLAG_WORDS.get(v["flag"], "within the normal range")
    return f"{fmt_number(v['value'])} {v['unit']} on {v['date']}, {flag}"


def questions(p: dict[str, Any], rng: random.Random) -> list[tuple[str, str]]:
    """All (question, answer) pairs about one patient; the caller samples some of them."""
    qa = []
    for v in p["latest"]:
        q = rng.choice(["What is the latest {l}?", "What was the most recent {l}?", "Latest {l}, please."])
        if _shown_in_full(v):
            answer = f"The latest {v['label'].lower()} is {_value_phrase(v)}."
        else:  # teach it to say what the summary says, not to make up the number it does not give
            answer = (f"The latest {v['label'].lower()} is within the normal range; the summary does not "
                      "give its value.")
        qa.append((q.format(l=v["label"].lower()), answer))
    abnormal = [v for v in p["latest"] if v["flag"] not in (None, "N")]
    if abnormal:
        listed = "; ".join(f"{v['label']} {fmt_number(v['value'])} {v['unit']} ({v['flag']})" for v in abnormal)
        qa.append(("Which of the latest values are outside the normal range?", f"Flagged values: {listed}."))
    else:
        qa.append(("Which of the latest values are outside the normal range?",
                   "None: all latest values in the summary are within the normal range."))
    n = p["news2"]
    part = f", but it is partial: {', '.join(n['missing'])} are missing" if n["missing"] else ""
    qa.append(("What is the NEWS2 score?", f"The NEWS2 score is {n['score']}{part}."))
    qa.append(("What is the blood pressure category?",
               f"The blood pressure category is {p['bp_category'].lower()}."))
    t = p["trends"][0]
    span = app_summary(p)["trends"][0]  # the dates the context states
    change = "rose" if t["to"] > t["from"] else "fell" if t["to"] < t["from"] else "stayed the same"
    qa.append((f"How has the {t['label'].lower()} changed?",
               (f"The {t['label'].lower()} {change} from {fmt_number(t['from'])} to {fmt_number(t['to'])} "
               f"{t['unit']} between {span['first_at']} and {span['last_at']}.")))
    cond = "; ".join(p["conditions"]) if p["conditions"] else "none recorded"
    qa.append(("What conditions does the patient have?", f"Recorded conditions: {cond}."))
    missing = rng.choice(ABSENT)
    qa.append((f"What is the patient's {missing}?",
               f"The summary does not include a {missing} value, so I cannot say."))
    return qa


def generate(n_patients: int, per_patient: int, seed: int, system_prompt: str = "") -> list[dict[str, Any]]:
    """Prepared examples (the same record shape the file adapters produce), grouped by patient."""
    rng = random.Random(seed)
    out = []
    for i in range(n_patients):
        p = make_patient(rng, i)
        system = system_message(p, system_prompt or DEFAULT_SYSTEM_PROMPT)
        pairs = questions(p, rng)
        for j, (q, a) in enumerate(rng.sample(pairs, min(per_patient, len(pairs)))):
            out.append({"id": f"{p['id']}-{j}", "group": p["id"], "source": "synthetic_patients",
                        "system": system, "messages": [{"role": "user", "content": user_message(q, p)}],
                        "answer": a})
    return out
