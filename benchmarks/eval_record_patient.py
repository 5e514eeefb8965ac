"""Question kinds about one patient's whole record (conditions, medications, encounters, procedures,
immunizations, allergies, demographics, and yes/no over measurements), in varied phrasings, each with its
expected answer computed from the CSV files by ``eval_record_files`` (pandas, no app code).

A kind draws patients and names from the cohort with its own random stream; names are the workspace's own
vocabulary as a clinician says it (``short_name``); "No" cases ask about a name the workspace holds but the
patient does not (and shares no long word with anything the patient has).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

from benchmarks.eval_assistant_expected import Record
from benchmarks.eval_judge import Expect
from benchmarks.eval_record_files import RecordFiles, askable, short_name, window_is_ambiguous


@dataclass(frozen=True)
class RecordCase:
    kind: str
    question: str
    patient_id: str | None
    expect: Expect


CaseMaker = Callable[..., "RecordCase"]
WHO = ("the patient", "this patient", "patient {pid}")
CLASS_WORDS = {"emergency": ("an emergency room", "the emergency department", "A&E"),
               "inpatient": ("hospital as an inpatient", "an inpatient stay"),
               "urgentcare": ("urgent care", "an urgent care clinic")}
COUNT_CLASS_WORDS = {"emergency": ("emergency visits", "emergency room visits"),
                     "inpatient": ("inpatient admissions", "hospital admissions"),
                     "urgentcare": ("urgent care visits",)}
OBS = {"8480-6": ("systolic blood pressure", "systolic"), "8462-4": ("diastolic blood pressure", "diastolic"),
       "8867-4": ("heart rate", "pulse"), "29463-7": ("body weight", "weight"), "39156-5": ("BMI",)}
OBS_LIMITS = {"8480-6": 130, "8462-4": 80, "8867-4": 80, "29463-7": 80, "39156-5": 30}

T: dict[str, tuple[str, ...]] = {
    "cond_exists": ("has {who} been diagnosed with {c}?", "has {who} ever been diagnosed with {c}?",
                    "does {who} have a history of {c}?", "any {c} diagnosis on record for {who}?"),
    "cond_exists_window": ("has {who} been diagnosed with {c} since {y}?", "was {who} diagnosed with {c} in {y}?"),
    "cond_first": ("when was {who} first diagnosed with {c}?", "when was the first time {who} was diagnosed with {c}?",
                   "date of the first {c} diagnosis of {who}", "onset date of {c} for {who}?"),
    "cond_last": ("when was the last time {who} was diagnosed with {c}?", ("when was {who} most recently diagnosed "
                  "with {c}?"), "date of the latest {c} diagnosis of {who}"),
    "cond_last_name": ("what was the last diagnosis of {who} in {y}?", ("what was {who}'s most recent diagnosis "
                       "in {y}?"), "name the last condition {who} was diagnosed with in {y}"),
    "cond_active": ("does {who} currently have {c}?", "is {c} an active problem for {who}?"),
    "med_exists": ("has {who} been prescribed {d}?", "has {who} ever taken {d}?", "was {d} ever prescribed for {who}?",
                   "is there any {d} prescription for {who}?"),
    "med_exists_window": ("has {who} been prescribed {d} since {y}?", "was {who} prescribed {d} in {y}?"),
    "med_first": ("when was {who} first prescribed {d}?", "when was the first time {who} was prescribed {d}?",
                  "date {d} was started for {who}"),
    "med_last": ("when was the last time {who} was prescribed {d}?", "when was {d} last prescribed to {who}?"),
    "med_last_name": ("what was the last drug prescribed to {who} in {y}?", ("what was the name of the drug {who} "
                      "was last prescribed in {y}?"), "most recent medication started for {who} in {y}?"),
    "med_count": ("how many times was {who} prescribed {d}?", "count the number of times {who} was prescribed {d}",
                  "number of {d} prescriptions for {who}"),
    "med_active": ("is {who} currently taking {d}?", "is {d} still active for {who}?"),
    "enc_count": ("how many visits did {who} have in {y}?", "count the visits of {who} in {y}",
                  "number of encounters {who} had in {y}"),
    "enc_class_exists": ("has {who} been to {k} in {y}?", "did {who} attend {k} in {y}?"),
    "enc_class_count": ("how many {k} has {who} had?", "count the {k} of {who}", "number of {k} for {who}"),
    "enc_last": ("when was {who}'s last visit?", "date of the most recent encounter of {who}",
                 "when was {who} last seen?"),
    "enc_first_class": ("when was {who} first admitted to hospital?", ("date of the first inpatient admission of "
                        "{who}")),
    "proc_exists": ("has {who} received a {p} procedure?", "has {who} had {p}?", "any {p} done for {who}?"),
    "proc_last": ("when did {who} last have {p}?", "when was the last {p} of {who}?", ("date of the most recent {p} "
                  "for {who}")),
    "proc_count": ("how many times did {who} receive {p}?", "count the {p} procedures of {who}"),
    "imm_exists": ("has {who} received the {i} vaccine?", "has {who} been immunized with {i}?",
                   "any {i} immunization for {who}?"),
    "imm_last": ("when was {who}'s last {i} vaccination?", "date of the most recent {i} immunization of {who}"),
    "imm_count": ("how many {i} immunizations has {who} had?", "count the {i} vaccinations of {who}"),
    "allergy_exists": ("is {who} allergic to {a}?", "does {who} have an allergy to {a}?", "any {a} allergy for {who}?"),
    "allergy_list": ("what is {who} allergic to?", "list the allergies of {who}", "allergies of {who}?"),
    "demo_sex": ("what is the gender of {who}?", "what sex is {who}?"),
    "demo_birth": ("what is the date of birth of {who}?", "when was {who} born?"),
    "demo_age_at": ("how old was {who} on {day}?", "what was {who}'s age on {day}?"),
    "demo_alive": ("is {who} alive?", "is {who} still living?"),
    "demo_death": ("when did {who} die?", "date of death of {who}?"),
    "obs_compare": ("is the {m} of {who} last measured less than the first value measured?",
                    "is the last {m} of {who} greater than the first?",
                    "was {who}'s latest {m} lower than the first one?"),
    "obs_ever_above": ("has the {m} of {who} been ever greater than {t} in {y}?",
                       "was {who}'s {m} ever above {t} in {y}? Answer yes or no first"),
    "cond_before": ("was {who} diagnosed with {c} before {day}?", "had {who} been diagnosed with {c} before {day}?"),
    "enc_count_between": ("how many visits did {who} have between {day} and {day2}?",
                          "count the encounters of {who} from {day} to {day2}"),
    "obs_at_last_visit": ("what was the {m} of {who} at the last visit?", "{who}'s {m} at the most recent visit?"),
    "decline": ("what is {who}'s blood group?", "how much urine did {who} pass yesterday?",
                "which ward is {who} on?", "what organism grew in {who}'s last culture?",
                "when is {who}'s next appointment?", "any family history of cancer for {who}?",
                "did {who} sign the consent for treatment?", "what ventilator mode is {who} on?",
                "what was {who}'s fluid balance today?", "which bed is {who} in?"),
}
PATIENT_KINDS = tuple(T)


def _who(rng: random.Random, i: int, pid: str) -> str:
    return WHO[i % len(WHO)].format(pid=pid)


def _tied_names(rows: pd.DataFrame, at_end: bool) -> tuple[str, ...]:
    day = rows["start"].iloc[-1 if at_end else 0]
    return tuple(sorted(set(rows.loc[rows["start"] == day, "name"])))


def _absent_name(files: RecordFiles, entity: str, pid: str, rng: random.Random) -> str | None:
    """A name the workspace holds that the patient has nothing like."""
    mine = set(files.events(entity, pid)["name"])
    my_words = {w for n in mine for w in n.split() if len(w) > 4}
    others = sorted(n for n in set(files.tables[entity]["name"]) - mine if askable(n))
    rng.shuffle(others)
    for name in others:
        if not ({w for w in name.split() if len(w) > 4} & my_words):
            return name
    return None


def patient_record_cases(files: RecordFiles, obs: Record, rng: random.Random, per_kind: int) -> Iterator[RecordCase]:
    for kind in PATIENT_KINDS:
        yield from _kind_cases(kind, files, obs, random.Random(f"{kind}-{rng.random()}"), per_kind)


def _kind_cases(kind: str, files: RecordFiles, obs: Record, rng: random.Random, per_kind: int
                ) -> Iterator[RecordCase]:
    entity = {"cond": "conditions", "med": "medications", "enc": "encounters", "proc": "procedures",
              "imm": "immunizations", "allergy": "allergies"}.get(kind.split("_")[0])
    table = files.tables[entity] if entity else None
    people = sorted(set(table["patient"]) if table is not None else set(files.patients["patient"]))
    rng.shuffle(people)
    made = 0
    for i, pid in enumerate(people * 3):
        if made >= per_kind:
            return
        case = _one(kind, entity, files, obs, rng, i, pid)
        if case is not None:
            made += 1
            yield case


def _one(kind: str, entity: str | None, files: RecordFiles, obs: Record, rng: random.Random, i: int, pid: str
         ) -> RecordCase | None:
    template = T[kind][i % len(T[kind])]
    who = _who(rng, i, pid)

    def case(expect: Expect, **words: object) -> RecordCase:
        return RecordCase(kind, template.format(who=who, **words), pid, expect)

    if entity is not None and kind.split("_", 1)[1] in ("exists", "exists_window", "first", "last", "count",
                                                        "active", "last_name"):
        rows = files.events(entity, pid)
        if entity == "encounters" or not len(rows):
            return _encounters(kind, files, rng, i, pid, case) if entity == "encounters" else None
        slot = {"conditions": "c", "medications": "d", "procedures": "p", "immunizations": "i", "allergies": "a"}[entity]
        names = sorted(n for n in set(rows["name"]) if askable(n))
        if not names:
            return None
        name = rng.choice(names)
        said = short_name(files, entity, name)
        if kind.endswith("_exists") and i % 2 == 1:   # a "No" case
            absent = _absent_name(files, entity, pid, rng)
            if absent is None:
                return None
            return case(Expect("yesno", False), **{slot: short_name(files, entity, absent)})
        mine = files.events(entity, pid, said)
        if kind.endswith("_exists"):
            return case(Expect("yesno", True), **{slot: said})
        if kind.endswith("_exists_window"):
            year = int(rng.choice(sorted(set(rows["start"].str[:4]))))
            since = "since" in template
            hits = files.events(entity, pid, said, since=year) if since else files.events(entity, pid, said, year=year)
            if entity == "medications" and window_is_ambiguous(
                    mine, **({"since": year} if since else {"year": year})):
                return None
            return case(Expect("yesno", bool(len(hits))), **{slot: said, "y": year})
        if kind.endswith("_first"):
            return case(Expect("date", mine["start"].iloc[0]), **{slot: said})
        if kind.endswith("_last"):
            return case(Expect("date", mine["start"].iloc[-1]), **{slot: said})
        if kind.endswith("_count"):
            return case(Expect("count", len(mine)), **{slot: said})
        if kind.endswith("_active"):
            return case(Expect("yesno", bool((mine["stop"] == "").any())), **{slot: said})
        if kind.endswith("_last_name"):
            year = int(rng.choice(sorted(set(rows["start"].str[:4]))))
            in_year = files.events(entity, pid, year=year)
            return case(Expect("name", None, _tied_names(in_year, at_end=True)), y=year)
    if kind == "allergy_list":
        names = sorted(set(files.events("allergies", pid)["name"]))
        return case(Expect("names", tuple(names))) if names else None
    if kind == "decline":      # what a Synthea export does not hold: declined, never answered
        return case(Expect("decline"))
    if kind == "cond_before":
        rows = files.events("conditions", pid)
        names = sorted(n for n in set(rows["name"]) if askable(n))
        if not names:
            return None
        said = rng.choice(names)
        onset = files.events("conditions", pid, said)["start"].iloc[0]
        day = rng.choice(sorted(set(files.events("encounters", pid)["start"]) | {onset}))
        return case(Expect("yesno", onset < day), c=said, day=day)
    if kind == "enc_count_between":
        days = sorted(files.events("encounters", pid)["start"])
        if len(days) < 2:
            return None
        day, day2 = sorted(rng.sample(days, 2))
        between = [d for d in days if day <= d <= day2]
        return case(Expect("count", len(between)), day=day, day2=day2)
    if kind.startswith(("demo_", "obs_")):
        return _person(kind, files, obs, rng, pid, case, template)
    return _encounters(kind, files, rng, i, pid, case)


def _encounters(kind: str, files: RecordFiles, rng: random.Random, i: int, pid: str, case: CaseMaker
                ) -> RecordCase | None:
    rows = files.events("encounters", pid)
    if not len(rows):
        return None
    years = sorted(set(rows["start"].str[:4]))
    if kind == "enc_count":
        year = int(rng.choice(years))
        return case(Expect("count", len(files.events("encounters", pid, year=year))), y=year)
    if kind == "enc_class_exists":
        klass = ("emergency", "inpatient", "urgentcare")[i % 3]
        year = int(rng.choice(years))
        hit = len(files.events("encounters", pid, year=year, klass=klass))
        return case(Expect("yesno", bool(hit)), k=rng.choice(CLASS_WORDS[klass]), y=year)
    if kind == "enc_class_count":
        klass = ("emergency", "inpatient", "urgentcare")[i % 3]
        return case(Expect("count", len(files.events("encounters", pid, klass=klass))),
                    k=rng.choice(COUNT_CLASS_WORDS[klass]))
    if kind == "enc_last":
        return case(Expect("date", rows["start"].iloc[-1]))
    if kind == "enc_first_class":
        stays = files.events("encounters", pid, klass="inpatient")
        return case(Expect("date", stays["start"].iloc[0])) if len(stays) else None
    return None


def _person(kind: str, files: RecordFiles, obs: Record, rng: random.Random, pid: str, case: CaseMaker,
            template: str) -> RecordCase | None:
    """Demographics, and yes/no over one measurement (last against first; ever above a limit in a year)."""
    person = files.person(pid)
    if kind == "demo_sex":
        words = ("female", "woman", "f") if person["sex"] == "F" else ("male", "man", "m")
        return case(Expect("name", None, words))
    if kind == "demo_birth":
        return case(Expect("date", person["birth"]))
    if kind == "demo_age_at":
        seen = files.events("encounters", pid)
        if not len(seen):
            return None
        day = rng.choice(list(seen["start"]))
        return case(Expect("count", files.age_on(pid, day)), day=day)
    if kind == "demo_alive":
        return case(Expect("yesno", person["death"] == ""))
    if kind == "demo_death":
        return case(Expect("date", person["death"])) if person["death"] else None
    code = rng.choice(sorted(OBS))
    r = obs.readings(pid, code)
    if len(r) < 2:
        return None
    phrase = rng.choice(OBS[code])
    if kind == "obs_at_last_visit":
        # Readings belong to visits, so the last visit's reading is the newest one; with none at the last visit
        # the answer falls back to the newest reading (and says so): the same figure either way.
        if (r["at"].str[:10] == r.iloc[0]["at"][:10]).sum() > 1:   # several readings that day: which one?
            return None
        return case(Expect("value", float(r.iloc[0]["value"])), m=phrase)
    if kind == "obs_compare":
        newest = float(r.iloc[0]["value"])
        oldest = float(r.sort_values(["at", "value"], ascending=[True, True]).iloc[0]["value"])
        return case(Expect("yesno", newest < oldest if ("less" in template or "lower" in template) else newest > oldest), m=phrase)
    year = rng.choice(sorted({at[:4] for at in r["at"]}))
    limit = OBS_LIMITS[code]
    in_year = r[r["at"].str.startswith(year)]
    return case(Expect("yesno", bool((in_year["value"] > limit).any())), m=phrase, t=limit, y=year)
