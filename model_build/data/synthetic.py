"""A data set generated from seeded synthetic patients: questions about a patient summary in the app's
chat-context format, with answers that quote the right numbers.

The point is not medical knowledge but reading skill: the fine-tuned model should find the value the
clinician asks about in the summary the app gives it, quote it with unit, flag and date, and say so when
the summary has no answer instead of inventing one. Every answer is computed from the same dict that
the summary is rendered from, so answers and summaries cannot disagree.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from model_build.data.patient_context import DEFAULT_SYSTEM_PROMPT, fmt_number, system_message

FIRST = {"F": ["Jane", "Maria", "Aisha", "Elena", "Grace", "Mei", "Olga", "Fatima", "Sarah", "Ines"],
         "M": ["John", "Ahmed", "Luis", "Peter", "Kenji", "Omar", "David", "Ivan", "Samuel", "Tom"]}
LAST = ["Doe", "Smith", "Garcia", "Khan", "Novak", "Okafor", "Tanaka", "Silva", "Meyer", "Rossi"]
CONDITIONS = ["Hypertension", "Type 2 diabetes", "Asthma", "COPD", "Chronic kidney disease stage 3",
              "Atrial fibrillation", "Hyperlipidaemia", "Heart failure", "Obesity", "Hypothyroidism"]
# label, unit, low, high (normal range), generation range, decimals, NEWS2 name
VITALS = [
    ("Systolic blood pressure", "mm[Hg]", 90, 129, (95, 185), 0, "systolic"),
    ("Diastolic blood pressure", "mm[Hg]", 60, 79, (55, 110), 0, None),
    ("Heart rate", "/min", 51, 90, (45, 125), 0, "pulse"),
    ("Respiratory rate", "/min", 12, 20, (9, 28), 0, "resp"),
    ("Oxygen saturation", "%", 96, 100, (88, 100), 0, "spo2"),
    ("Body temperature", "Cel", 36.1, 38.0, (35.2, 39.4), 1, "temp"),
    ("Glucose", "mg/dL", 70, 140, (65, 260), 0, None),
    ("Body mass index", "kg/m2", 18.5, 24.9, (17.0, 41.0), 1, None),
]
NEWS2_MISSING_NAMES = {"resp": "respiration rate", "spo2": "SpO2", "systolic": "systolic blood pressure",
                       "pulse": "pulse", "temp": "temperature"}
ABSENT = ["cholesterol", "HbA1c", "potassium", "creatinine", "haemoglobin", "weight"]


def _news2_part(kind: str, v: float) -> int:
    bands = {  # (upper bound inclusive, points), RCP NEWS2 2017, SpO2 scale 1
        "resp": [(8, 3), (11, 1), (20, 0), (24, 2), (1e9, 3)],
        "spo2": [(91, 3), (93, 2), (95, 1), (1e9, 0)],
        "systolic": [(90, 3), (100, 2), (110, 1), (219, 0), (1e9, 3)],
        "pulse": [(40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (1e9, 3)],
        "temp": [(35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1), (1e9, 2)],
    }[kind]
    return next(points for upper, points in bands if v <= upper)


def bp_category(sys_bp: float, dia_bp: float) -> str:
    """ACC/AHA 2017 categories."""
    if sys_bp > 180 or dia_bp > 120:
        return "Hypertensive crisis"
    if sys_bp >= 140 or dia_bp >= 90:
        return "Hypertension stage 2"
    if sys_bp >= 130 or dia_bp >= 80:
        return "Hypertension stage 1"
    if sys_bp >= 120:
        return "Elevated"
    return "Normal"


def make_patient(rng: random.Random, idx: int) -> dict[str, Any]:
    sex = rng.choice("FM")
    day = date(2023, 1, 1) + timedelta(days=rng.randrange(700))
    latest, news_parts, missing = [], 0, []
    values: dict[str, float] = {}
    for label, unit, lo, hi, (g_lo, g_hi), dec, news in VITALS:
        if label not in ("Systolic blood pressure", "Diastolic blood pressure") and rng.random() < 0.3:
            if news:
                missing.append(NEWS2_MISSING_NAMES[news])
            continue
        v = round(rng.uniform(g_lo, g_hi), dec) if dec else int(rng.uniform(g_lo, g_hi))
        flag = "H" if v > hi else "L" if v < lo else "normal"
        latest.append({"label": label, "value": v, "unit": unit, "flag": flag, "date": day.isoformat()})
        values[label] = v
        if news:
            news_parts += _news2_part(news, v)
    missing += ["consciousness", "supplemental oxygen"]
    trend_of = rng.choice(latest)
    months = rng.choice([3, 6, 12, 24])
    delta = trend_of["value"] * rng.uniform(-0.15, 0.15)
    before = round(trend_of["value"] - delta, 1) if isinstance(trend_of["value"], float) else int(
        trend_of["value"] - delta)
    return {
        "id": f"synthetic-{idx:05d}",
        "name": f"{rng.choice(FIRST[sex])} {rng.choice(LAST)}",
        "sex": sex,
        "age": rng.randrange(18, 95),
        "conditions": sorted(rng.sample(CONDITIONS, rng.randrange(0, 4))),
        "latest": latest,
        "bp_category": bp_category(values["Systolic blood pressure"], values["Diastolic blood pressure"]),
        "news2": {"score": news_parts, "missing": missing},
        "trends": [{"label": trend_of["label"], "from": before, "to": trend_of["value"],
                    "unit": trend_of["unit"], "months": months}],
    }


def _value_phrase(v: dict[str, Any]) -> str:
    flag = {"H": "above the normal range", "L": "below the normal range"}.get(v["flag"], "within the normal range")
    return f"{fmt_number(v['value'])} {v['unit']} on {v['date']}, {flag}"


def questions(p: dict[str, Any], rng: random.Random) -> list[tuple[str, str]]:
    """All (question, answer) pairs about one patient; the caller samples some of them."""
    qa = []
    for v in p["latest"]:
        q = rng.choice(["What is the latest {l}?", "What was the most recent {l}?", "Latest {l}, please."])
        qa.append((q.format(l=v["label"].lower()), f"The latest {v['label'].lower()} is {_value_phrase(v)}."))
    abnormal = [v for v in p["latest"] if v["flag"] in ("H", "L")]
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
    change = "rose" if t["to"] > t["from"] else "fell" if t["to"] < t["from"] else "stayed the same"
    qa.append((f"How has the {t['label'].lower()} changed?",
               (f"The {t['label'].lower()} {change} from {fmt_number(t['from'])} to {fmt_number(t['to'])} "
               f"{t['unit']} over {t['months']} months.")))
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
                        "system": system, "messages": [{"role": "user", "content": q}], "answer": a})
    return out
