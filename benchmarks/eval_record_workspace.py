"""Question kinds about the whole workspace (cohorts): patients with a condition, a prescription, a visit class,
a latest value past a limit; the living and the deceased; age groups; top-k conditions and drugs; the mean of
a measurement over a group. Expected answers from the CSV files (``eval_record_files``, pandas).

Cohorts count the living by default (contracts.md section 1); a question that says "including the deceased"
counts everyone. Ages are completed years on the clock's today (as the measurement kinds' age questions).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator
from datetime import date

from benchmarks.eval_assistant_expected import Record
from benchmarks.eval_judge import Expect
from benchmarks.eval_record_files import ADJECTIVES, RecordFiles, askable, short_name
from benchmarks.eval_record_patient import RecordCase

T: dict[str, tuple[str, ...]] = {
    "ws_cond_count": ("how many patients have {c}?", "number of patients with {c}", "count the patients with {c}"),
    "ws_cond_ever_count": ("how many patients were ever diagnosed with {c}?",
                           "count the number of patients who were diagnosed with {c}"),
    "ws_cond_count_all": ("how many patients have {c}, including the deceased?",
                          "how many patients, living or dead, have {c}?"),
    "ws_med_count": ("how many patients were prescribed {d}?", "count the number of patients who were prescribed {d}",
                     "number of patients ever on {d}"),
    "ws_enc_class_count": ("how many patients had {k} in {y}?", "count the patients with {k} in {y}"),
    "ws_list_cond": ("list the patients with {c}", "which patients have {c}?"),
    "ws_top_cond": ("what are the {n} most frequent conditions in the record?",
                    "top {n} conditions recorded in the workspace"),
    "ws_top_drugs": ("what are the top {n} most frequently prescribed drugs?", "top {n} medications prescribed"),
    "ws_living": ("how many patients are alive?", "how many living patients are there?"),
    "ws_deceased": ("how many patients have died?", "how many deceased patients are there?"),
    "ws_age_group": ("how many patients are aged {lo} to {hi}?", "number of patients between {lo} and {hi} years old"),
    "ws_latest_above": ("how many patients have a latest {m} of {t} or more?",
                        "count the patients whose most recent {m} is {t} or higher"),
    "ws_group_mean": ("what is the average {m} of the {adj} patients?", "mean {m} among {adj} patients"),
}
WORKSPACE_KINDS = tuple(T)
KLASS = {"emergency": "an emergency visit", "inpatient": "an inpatient admission", "urgentcare": "an urgent care visit"}
LATEST = {"8480-6": ("systolic blood pressure", 140), "8462-4": ("diastolic blood pressure", 90),
          "8867-4": ("heart rate", 100), "39156-5": ("BMI", 30)}


def _common_names(files: RecordFiles, entity: str, rng: random.Random) -> list[str]:
    """Names held by at least two patients, as a clinician says them; shuffled."""
    t = files.tables[entity]
    per = t.groupby("name")["patient"].nunique()
    names = sorted({short_name(files, entity, n) for n in per[per >= 2].index if askable(n)})
    rng.shuffle(names)
    return names


def workspace_record_cases(files: RecordFiles, obs: Record, rng: random.Random, per_kind: int
                           ) -> Iterator[RecordCase]:
    conditions = _common_names(files, "conditions", rng)
    drugs = _common_names(files, "medications", rng)
    years = sorted(set(files.tables["encounters"]["start"].str[:4]))
    today = date.today().isoformat()
    for kind in WORKSPACE_KINDS:
        for i in range(per_kind):
            template = T[kind][i % len(T[kind])]
            case = _one(kind, template, i, files, obs, rng, conditions, drugs, years, today)
            if case is not None:
                yield case


def _one(kind: str, template: str, i: int, files: RecordFiles, obs: Record, rng: random.Random,
         conditions: list[str], drugs: list[str], years: list[str], today: str) -> RecordCase | None:
    def case(expect: Expect, **words: object) -> RecordCase:
        return RecordCase(kind, template.format(**words), None, expect)

    c = conditions[i % len(conditions)] if conditions else None
    d = drugs[i % len(drugs)] if drugs else None
    if kind == "ws_cond_count" and c:
        return case(Expect("count", len(files.who("conditions", c, active=True))), c=c)
    if kind == "ws_cond_ever_count" and c:
        return case(Expect("count", len(files.who("conditions", c))), c=c)
    if kind == "ws_cond_count_all" and c:
        return case(Expect("count", len(files.who("conditions", c, active=True, living=False))), c=c)
    if kind == "ws_med_count" and d:
        return case(Expect("count", len(files.who("medications", d))), d=d)
    if kind == "ws_enc_class_count" and years:
        klass = tuple(KLASS)[i % 3]
        year = int(rng.choice(years))
        return case(Expect("count", len(files.who("encounters", klass=klass, year=year))), k=KLASS[klass], y=year)
    if kind == "ws_list_cond" and c:
        ids = files.who("conditions", c, active=True)
        everyone = tuple(sorted(files.everyone()))
        return case(Expect("patients", tuple(sorted(ids)), everyone), c=c) if ids else None
    if kind in ("ws_top_cond", "ws_top_drugs"):
        entity = "conditions" if kind == "ws_top_cond" else "medications"
        sizes = (3, 5, 2, 4, 6, 7)
        for n in sizes[i % len(sizes):] + sizes[:i % len(sizes)]:   # the first size some reading leaves untied
            readings = top_readings(files, entity, n)
            if readings:
                return case(Expect("names_any", readings), n=n)
        return None
    if kind == "ws_living":
        return case(Expect("count", len(files.living())))
    if kind == "ws_deceased":
        return case(Expect("count", len(files.everyone() - files.living())))
    if kind == "ws_age_group":
        lo = (20, 30, 40, 50, 60, 70)[i % 6]
        hi = lo + 9
        ages = files.ages(today)
        return case(Expect("count", sum(lo <= a <= hi for a in ages.values())), lo=lo, hi=hi)
    if kind == "ws_latest_above":
        code = tuple(LATEST)[i % len(LATEST)]
        phrase, limit = LATEST[code]
        latest = obs.latest_by_patient(code, files.living())
        return case(Expect("count", sum(v >= limit for v in latest.values())), m=phrase, t=limit)
    if kind == "ws_group_mean":
        adjectives = [a for a in ("hypertensive", "diabetic", "obese", "asthmatic", "anemic", "prediabetic")
                      if files.who("conditions", ADJECTIVES[a], active=True)]
        if not adjectives:
            return None
        adj = adjectives[i % len(adjectives)]
        code = tuple(LATEST)[i % len(LATEST)]
        latest = obs.latest_by_patient(code, files.who("conditions", ADJECTIVES[adj], active=True))
        if not latest:
            return None
        return case(Expect("value", statistics.mean(latest.values()), tolerance=0.051), m=LATEST[code][0], adj=adj)
    return None


def top_readings(files: RecordFiles, entity: str, n: int) -> tuple[tuple[str, ...], ...]:
    """The top n names under each reading of "most frequent": counting rows or patients, the living or
    everyone, with social findings or without (for conditions); where names tie at the n-th place, the reading
    holds every tied name. A right answer names every name of one of them."""
    t = files.tables[entity]
    tables = [t, t[t["name"].map(askable)]] if entity == "conditions" else [t]
    readings: set[tuple[str, ...]] = set()
    for table in tables:
        for rows in (table, table[table["patient"].isin(files.living())]):
            for counts in (rows["name"].value_counts(), rows.groupby("name")["patient"].nunique()
                           .sort_values(ascending=False, kind="stable")):
                if len(counts) > n and counts.iloc[n - 1] == counts.iloc[n]:
                    # A tie at the edge: the list must name every tied name (a cut would pick among equals).
                    readings.add(tuple(sorted(counts.index[counts >= counts.iloc[n - 1]])))
                elif len(counts) >= n:
                    readings.add(tuple(sorted(counts.index[:n])))
    return tuple(sorted(readings))
