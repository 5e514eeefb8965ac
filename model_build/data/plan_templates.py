"""Question templates with slots, each carrying the plan it must become.

A template is one phrasing ("what was {his} highest {m}{win}?") plus a small spec of its plan (operation,
subject, which slots feed the threshold, the window and the cohort). Filling the slots with everyday
measurement words, numbers, years and conditions gives many questions; the expected plan is built from
the same slot values, so it is right by construction and does not depend on the parser. Templates are the
unit of the train/test split: a phrasing is held out whole.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

# The parser's calendar arithmetic: one definition of "last year".
from desktop.core.trained.toolkit import CohortFilter, Plan, TimeWindow
from desktop.core.trained.toolkit import window_back as _back

# Everyday words -> catalog codes. Several words per code, so no template is tied to one spelling.
SINGLE: tuple[tuple[str, str], ...] = (
    ("systolic blood pressure", "8480-6"), ("systolic", "8480-6"), ("diastolic pressure", "8462-4"),
    ("heart rate", "8867-4"), ("pulse", "8867-4"), ("temperature", "8310-5"), ("oxygen saturation", "59408-5"),
    ("sats", "59408-5"), ("weight", "29463-7"), ("bmi", "39156-5"), ("blood sugar", "2339-0"),
    ("glucose", "2339-0"), ("hba1c", "4548-4"), ("a1c", "4548-4"), ("egfr", "33914-3"),
    ("kidney function", "33914-3"), ("creatinine", "38483-4"), ("cholesterol", "2093-3"), ("ldl", "18262-6"),
    ("hdl", "2085-9"), ("haemoglobin", "718-7"), ("breathing rate", "9279-1"), ("height", "8302-2"),
)
PAIR: tuple[tuple[str, tuple[str, ...]], ...] = (("blood pressure", ("8480-6", "8462-4")), ("bp", ("8480-6", "8462-4")))
# Plausible thresholds per code (canonical units), so "above 140" goes with a pressure, not a temperature.
THRESHOLDS: dict[str, tuple[float, ...]] = {
    "8480-6": (120, 130, 140, 160), "8462-4": (80, 90, 100), "8867-4": (60, 100, 110, 120), "8310-5": (37.5, 38, 39),
    "59408-5": (90, 92, 94), "29463-7": (70, 90, 100), "39156-5": (25, 30, 35), "2339-0": (100, 126, 200),
    "4548-4": (5.7, 6.5, 7, 8), "33914-3": (30, 45, 60, 90), "38483-4": (1.2, 1.5, 2), "2093-3": (200, 240),
    "18262-6": (100, 130, 160), "2085-9": (40, 50, 60), "718-7": (10, 12, 13.5), "9279-1": (12, 20, 25),
    "8302-2": (150, 170, 180),
}
CONDITIONS = ("diabetes", "hypertension", "asthma", "chronic kidney disease", "prediabetes", "copd", "anemia",
              "heart failure", "obesity", "atrial fibrillation")
HIS = ("her", "his", "their", "the patient's")
GENERAL = ("what is sepsis", "how does metformin work", "what causes high blood pressure",
           "what are the side effects of lisinopril", "explain what an ace inhibitor does",
           "what is the difference between type 1 and type 2 diabetes", "how is copd diagnosed",
           "what does a high ldl mean in general", "what lifestyle changes help with hypertension",
           "summarise the guidance on statins for older adults", "what is news2",
           "how often should diabetics have their feet checked", "what is a normal resting heart rate",
           "what counts as a fever in adults", "what does egfr measure", "why does potassium matter for the heart",
           "what causes a low sodium", "how is hba1c used to diagnose diabetes", "what oxygen saturation is too low",
           "what bmi counts as obese")
# Catalog words beyond SINGLE (3+ letters, no LOINC codes), for the templates without a threshold: the model
# should copy whatever words name a measurement, not a list it memorised. Phrases that read oddly as a noun in
# a question ("on oxygen", "febrile") or that name no single reading are left out.
_ODD = {"on oxygen", "febrile", "fever", "o2 therapy", "supplemental o2", "supplemental-o2", "supplemental oxygen",
        "consciousness", "level of consciousness", "level of consciousness (acvpu)", "acvpu", "avpu", "oxygen",
        "inhaled oxygen concentration", "respiration", "filtration rate", "saturation"}


@lru_cache(maxsize=1)
def _catalog_words() -> tuple[tuple[str, str], ...]:
    from desktop.core.trained.toolkit import measurement_phrases as _measurement_phrases

    known = {w for w, _ in SINGLE}
    return tuple((w, c) for w, c in _measurement_phrases()
                 if len(w) >= 3 and not any(ch.isdigit() for ch in w) and w not in _ODD and w not in known)


@dataclass(frozen=True)
class Template:
    id: str
    kind: str                      # "patient:max", "workspace:mean", "general" ... (accuracy is reported by it)
    text: str                      # slots: {m} {his} {win} {n} {year} {k} {cond} {age} {age2} {q}
    op: str = ""
    subject: str = "patient"
    measure: str = "single"        # "single", "pair" (blood pressure, both codes), "none"
    windows: tuple[str, ...] = ("",)  # window kinds drawn for {win}: "", "year", "since", "before", "months", "last_year", "visit"
    threshold: bool = False
    cohort: dict[str, Any] = field(default_factory=dict)  # {"condition": True, "sex": "F", "age_min": True, ...}
    comparison: str | None = None


P, W = "patient", "workspace"
ANY_WIN = ("", "year", "since", "months", "last_year")
TEMPLATES: tuple[Template, ...] = (
    # --- one patient
    Template("p-latest-1", "patient:latest", "what is {his} latest {m}?", "latest"),
    Template("p-latest-2", "patient:latest", "current {m}?", "latest"),
    Template("p-latest-3", "patient:latest", "what was the most recent {m} reading", "latest", measure="pair"),
    Template("p-latest-4", "patient:latest", "tell me {his} last recorded {m}", "latest"),
    Template("p-first-1", "patient:first", "what was {his} first {m}{win}?", "first", windows=("", "since")),
    Template("p-first-2", "patient:first", "earliest {m} on record", "first"),
    Template("p-count-1", "patient:count", "how many {m} readings are there{win}?", "count", windows=ANY_WIN),
    Template("p-count-2", "patient:count", "how often has {his} {m} been measured{win}", "count", windows=ANY_WIN),
    Template("p-count-3", "patient:count", "number of {m} measurements{win}", "count", windows=ANY_WIN),
    Template("p-max-1", "patient:max", "what is the highest {m}{win}?", "max", windows=ANY_WIN),
    Template("p-max-2", "patient:max", "what was {his} peak {m}{win}", "max", windows=ANY_WIN),
    Template("p-max-3", "patient:max", "maximum {m} recorded{win}", "max", windows=ANY_WIN),
    Template("p-min-1", "patient:min", "what is the lowest {m}{win}?", "min", windows=ANY_WIN),
    Template("p-min-2", "patient:min", "minimum {m}{win}", "min", windows=ANY_WIN),
    Template("p-mean-1", "patient:mean", "what is {his} average {m}{win}?", "mean", windows=ANY_WIN),
    Template("p-mean-2", "patient:mean", "mean {m}{win}", "mean", windows=ANY_WIN),
    Template("p-mean-3", "patient:mean", "what is {his} typical {m}{win}", "mean", windows=ANY_WIN),
    Template("p-median-1", "patient:median", "median {m}{win}?", "median", windows=ANY_WIN),
    Template("p-median-2", "patient:median", "what is the median of {his} {m} readings{win}", "median", windows=ANY_WIN),
    Template("p-change-1", "patient:change", "how has {his} {m} changed{win}?", "change", windows=ANY_WIN),
    Template("p-change-2", "patient:change", "is {his} {m} improving{win}", "change", windows=ANY_WIN),
    Template("p-change-3", "patient:change", "what is the trend in {m}{win}", "change", windows=ANY_WIN),
    Template("p-lastdate-1", "patient:last_date", "when was {his} {m} last checked?", "last_date"),
    Template("p-lastdate-2", "patient:last_date", "date of the most recent {m}", "last_date"),
    Template("p-readings-1", "patient:readings", "show me all {his} {m} readings{win}", "readings", windows=ANY_WIN,
             measure="pair"),
    Template("p-readings-2", "patient:readings", "list every {m} value{win}", "readings", windows=ANY_WIN),
    Template("p-readings-3", "patient:readings", "{m} {win}", "readings", windows=("year", "since", "months")),
    Template("p-range-1", "patient:in_range", "is {his} {m} normal?", "in_range"),
    Template("p-range-2", "patient:in_range", "is the {m} out of range", "in_range"),
    Template("p-range-3", "patient:in_range", "is {his} {m} too high or too low", "in_range"),
    Template("p-above-1", "patient:above", "how many {m} readings were above {n}{win}?", "above", windows=ANY_WIN,
             threshold=True),
    Template("p-above-2", "patient:above", "{m} over {n}{win}", "above", windows=ANY_WIN, threshold=True),
    Template("p-above-3", "patient:above", "show {m} readings greater than {n}", "above", threshold=True),
    Template("p-below-1", "patient:below", "how many {m} readings were below {n}{win}?", "below", windows=ANY_WIN,
             threshold=True),
    Template("p-below-2", "patient:below", "{m} under {n}{win}", "below", windows=ANY_WIN, threshold=True),
    Template("p-visit-1", "patient:readings", "what was {his} {m} at the last visit?", "readings", windows=("visit",)),
    # Phrasings the parser does not cover (measured below); the plan is still the right one, by construction.
    Template("p-miss-max", "patient:max", "what's the worst {m} we've seen{win}", "max", windows=ANY_WIN),
    Template("p-miss-mean", "patient:mean", "on average, where does {his} {m} sit{win}", "mean", windows=ANY_WIN),
    Template("p-miss-above", "patient:above", "any {m} readings that topped {n}{win}?", "above", windows=ANY_WIN,
             threshold=True),
    Template("p-miss-below", "patient:below", "did {his} {m} ever dip beneath {n}{win}", "below", windows=ANY_WIN,
             threshold=True),
    Template("p-miss-lastdate", "patient:last_date", "how long ago was {m} last done", "last_date"),
    Template("p-miss-count", "patient:count", "tally of {m} results{win}", "count", windows=ANY_WIN),
    # More of the ways clinicians ask (casual, clipped, contracted), so no operation is learnt from one verb.
    Template("p-latest-5", "patient:latest", "what's {his} {m} now", "latest"),
    Template("p-latest-6", "patient:latest", "where is {his} {m} at the moment", "latest"),
    Template("p-latest-7", "patient:latest", "pull up the newest {m}", "latest", measure="pair"),
    Template("p-first-3", "patient:first", "what did {his} {m} start out at", "first"),
    Template("p-first-4", "patient:first", "the very first {m} we have", "first"),
    Template("p-count-4", "patient:count", "how many times has {m} been recorded{win}", "count", windows=ANY_WIN),
    Template("p-count-5", "patient:count", "count the {m} entries{win}", "count", windows=ANY_WIN),
    Template("p-max-4", "patient:max", "how high has {his} {m} gone{win}", "max", windows=ANY_WIN),
    Template("p-max-5", "patient:max", "what's the biggest {m} value{win}", "max", windows=ANY_WIN),
    Template("p-max-6", "patient:max", "top {m} reading{win}?", "max", windows=ANY_WIN),
    Template("p-min-3", "patient:min", "how low did {his} {m} get{win}", "min", windows=ANY_WIN),
    Template("p-min-4", "patient:min", "what's the smallest {m} on record{win}", "min", windows=ANY_WIN),
    Template("p-min-5", "patient:min", "{his} bottom {m}{win}", "min", windows=ANY_WIN),
    Template("p-mean-4", "patient:mean", "roughly what does {his} {m} run at{win}", "mean", windows=ANY_WIN),
    Template("p-mean-5", "patient:mean", "average out the {m} values{win}", "mean", windows=ANY_WIN),
    Template("p-median-3", "patient:median", "middle value of {his} {m}{win}", "median", windows=ANY_WIN),
    Template("p-change-4", "patient:change", "has {his} {m} been going up or down{win}", "change", windows=ANY_WIN),
    Template("p-change-5", "patient:change", "is the {m} getting worse{win}", "change", windows=ANY_WIN),
    Template("p-change-6", "patient:change", "how is {his} {m} trending{win}", "change", windows=ANY_WIN),
    Template("p-lastdate-3", "patient:last_date", "when did we last take {his} {m}", "last_date"),
    Template("p-lastdate-4", "patient:last_date", "on which date was the latest {m} done", "last_date"),
    Template("p-readings-4", "patient:readings", "give me the full {m} history{win}", "readings", windows=ANY_WIN),
    Template("p-readings-5", "patient:readings", "every {m} we have on file{win}", "readings", windows=ANY_WIN,
             measure="pair"),
    Template("p-range-4", "patient:in_range", "is {his} {m} okay", "in_range"),
    Template("p-range-5", "patient:in_range", "should i worry about {his} {m}", "in_range"),
    Template("p-range-6", "patient:in_range", "is the {m} within limits", "in_range"),
    Template("p-above-4", "patient:above", "has {his} {m} ever been higher than {n}{win}", "above",
             windows=ANY_WIN, threshold=True),
    Template("p-above-5", "patient:above", "any {m} past {n}{win}", "above", windows=ANY_WIN, threshold=True),
    Template("p-above-6", "patient:above", "which {m} values exceeded {n}{win}", "above", windows=ANY_WIN,
             threshold=True),
    Template("p-below-3", "patient:below", "did the {m} ever drop below {n}{win}", "below", windows=ANY_WIN,
             threshold=True),
    Template("p-below-4", "patient:below", "{m} readings lower than {n}{win}", "below", windows=ANY_WIN,
             threshold=True),
    Template("p-below-5", "patient:below", "how often was {his} {m} less than {n}{win}", "below", windows=ANY_WIN,
             threshold=True),
    # --- the workspace
    Template("w-count-1", "workspace:count", "how many patients have {cond}?", "count", W, "none",
             cohort={"condition": True}),
    Template("w-count-2", "workspace:count", "how many women with {cond} are there", "count", W, "none",
             cohort={"condition": True, "sex": "F"}),
    Template("w-count-3", "workspace:count", "how many men are in the workspace", "count", W, "none",
             cohort={"sex": "M"}),
    Template("w-count-4", "workspace:count", "number of patients aged {age} to {age2}", "count", W, "none",
             cohort={"age_min": True, "age_max": True}),
    Template("w-mean-1", "workspace:mean", "what is the average {m} across patients with {cond}?", "mean", W,
             cohort={"condition": True}),
    Template("w-mean-2", "workspace:mean", "mean {m} of women aged {age} to {age2}", "mean", W,
             cohort={"sex": "F", "age_min": True, "age_max": True}),
    Template("w-median-1", "workspace:median", "median {m} across the cohort", "median", W),
    Template("w-median-2", "workspace:median", "what is the median {m} for men with {cond}", "median", W,
             cohort={"condition": True, "sex": "M"}),
    Template("w-max-1", "workspace:max", "highest {m} among patients with {cond}", "max", W, cohort={"condition": True}),
    Template("w-min-1", "workspace:min", "lowest {m} across patients{win}", "min", W, windows=("", "since", "year")),
    Template("w-which-1", "workspace:which_patients", "which patients have {m} above {n}?", "which_patients", W,
             threshold=True, comparison="above"),
    Template("w-which-2", "workspace:which_patients", "which patients had {m} below {n}{win}", "which_patients", W,
             windows=("", "since", "last_year"), threshold=True, comparison="below"),
    Template("w-which-3", "workspace:which_patients", "list the patients with {cond}", "which_patients", W, "none",
             cohort={"condition": True}),
    Template("w-which-4", "workspace:which_patients", "who has {m} over {n} among women", "which_patients", W,
             threshold=True, comparison="above", cohort={"sex": "F"}),
    Template("w-attention-1", "workspace:attention", "which patients need attention?", "attention", W, "none"),
    Template("w-attention-2", "workspace:attention", "who should i see first", "attention", W, "none"),
    Template("w-attention-3", "workspace:attention", "who is most at risk right now", "attention", W, "none"),
    Template("w-miss-count", "workspace:count", "headcount of folks living with {cond}", "count", W, "none",
             cohort={"condition": True}),
    Template("w-miss-attention", "workspace:attention", "whose vitals look the most worrying", "attention", W,
             "none"),
    Template("w-count-5", "workspace:count", "how many of our patients are living with {cond}", "count", W, "none",
             cohort={"condition": True}),
    Template("w-count-6", "workspace:count", "count the women on the list", "count", W, "none", cohort={"sex": "F"}),
    Template("w-mean-3", "workspace:mean", "typical {m} among patients with {cond}", "mean", W,
             cohort={"condition": True}),
    Template("w-mean-4", "workspace:mean", "what do patients with {cond} average for {m}", "mean", W,
             cohort={"condition": True}),
    Template("w-max-2", "workspace:max", "which is the highest {m} of all patients", "max", W),
    Template("w-min-2", "workspace:min", "lowest {m} of anyone on the list", "min", W),
    Template("w-which-5", "workspace:which_patients", "who has had a {m} over {n}{win}", "which_patients", W,
             windows=("", "since", "last_year"), threshold=True, comparison="above"),
    Template("w-which-6", "workspace:which_patients", "find patients whose {m} fell under {n}", "which_patients", W,
             threshold=True, comparison="below"),
    Template("w-which-7", "workspace:which_patients", "who are the patients with {cond}", "which_patients", W, "none",
             cohort={"condition": True}),
    Template("w-attention-4", "workspace:attention", "which of my patients is the sickest", "attention", W, "none"),
    Template("w-attention-5", "workspace:attention", "who needs to be seen urgently", "attention", W, "none"),
    # --- not about the data
    Template("g-1", "general", "{q}?", measure="none"),
    Template("g-2", "general", "can you tell me {q}", measure="none"),
    Template("g-3", "general", "quick question: {q}", measure="none"),
    Template("g-4", "general", "in general, {q}", measure="none"),
    Template("g-5", "general", "remind me {q}", measure="none"),
)


@dataclass(frozen=True)
class Example:
    template: str
    kind: str
    question: str
    patient_id: str | None
    today: date
    plan: Plan


def _window(kind: str, rng: random.Random, today: date) -> tuple[str, TimeWindow]:
    """(the words, the window they mean), as the parser writes it when it is right."""
    if kind == "year":
        y = rng.randint(today.year - 6, today.year - 1)
        return f" in {y}", TimeWindow(date(y, 1, 1), date(y + 1, 1, 1), f"in {y}")
    if kind == "since":
        y = rng.randint(today.year - 8, today.year - 1)
        return f" since {y}", TimeWindow(start=date(y, 1, 1), text=f"since {y}")
    if kind == "before":
        y = rng.randint(today.year - 8, today.year - 1)
        return f" before {y}", TimeWindow(end=date(y, 1, 1), text=f"before {y}")
    if kind == "months":
        k = rng.choice((2, 3, 6, 9, 18))
        return f" in the last {k} months", TimeWindow(start=_back(today, k, "month"), text=f"in the last {k} months")
    if kind == "last_year":
        words = rng.choice((" in the past year", " over the last year", " this year"))
        return words, TimeWindow(start=_back(today, 1, "year"), text="in the last year")
    if kind == "visit":
        return "", TimeWindow(text="at the last visit", last_visit=True)
    return "", TimeWindow()


def fill(t: Template, rng: random.Random, *, today: date, patient_id: str = "P") -> Example:
    """One question from template ``t`` and the plan it must become."""
    slots: dict[str, Any] = {"his": rng.choice(HIS), "q": rng.choice(GENERAL)}
    codes: tuple[str, ...] = ()
    if t.measure == "pair" and rng.random() < 0.5:
        slots["m"], codes = rng.choice(PAIR)
    elif t.measure in ("single", "pair"):
        # Thresholds are drawn per code (THRESHOLDS), so a threshold template keeps to SINGLE's codes.
        slots["m"], code = rng.choice(SINGLE if t.threshold or rng.random() < 0.5 else _catalog_words())
        codes = (code,)
    threshold = None
    if t.threshold:
        threshold = float(rng.choice(THRESHOLDS[codes[0]]))
        slots["n"] = f"{threshold:g}"
    slots["win"], window = _window(rng.choice(t.windows), rng, today)
    c = t.cohort
    cond = rng.choice(CONDITIONS) if c.get("condition") else None
    age = float(rng.choice((18, 30, 40, 50, 65))) if c.get("age_min") else None
    age2 = (age or 0) + rng.choice((10, 15, 20)) if c.get("age_max") else None
    slots.update(cond=cond, age=f"{age:g}" if age is not None else "", age2=f"{age2:g}" if age2 is not None else "")
    question = t.text.format(**slots).replace("  ", " ").strip()
    if t.kind == "general":
        return Example(t.id, t.kind, question, patient_id, today, Plan("general"))
    cohort = CohortFilter(cond, c.get("sex"), age, age2)
    if t.subject == "patient":
        kept = codes[:2] if t.op in ("latest", "readings") else codes[:1]
        comparison = t.op if t.op in ("above", "below") else None
        plan = Plan("data", "patient", patient_id, kept, t.op, threshold, comparison, window)
        return Example(t.id, t.kind, question, patient_id, today, plan)
    plan = Plan("data", "workspace", None, codes[:1], t.op, threshold, t.comparison, window, cohort)
    return Example(t.id, t.kind, question, None, today, plan)


def held_out(templates: tuple[Template, ...], *, test_fraction: float, seed: int) -> set[str]:
    """Ids of the templates kept for the test split: seeded, at least one of each kind that has two or more
    templates, so every kind is measured on phrasings the model never saw."""
    rng = random.Random(seed)
    by_kind: dict[str, list[str]] = {}
    for t in templates:
        by_kind.setdefault(t.kind, []).append(t.id)
    out: set[str] = set()
    for ids in by_kind.values():
        if len(ids) < 2:
            continue
        n = max(1, round(len(ids) * test_fraction))
        out.update(rng.sample(sorted(ids), min(n, len(ids) - 1)))
    return out
