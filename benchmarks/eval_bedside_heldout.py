"""HELD-OUT SET: DO NOT TUNE ON IT. Written on 2026-12-06, before any of it was asked of the app, because the
EHRSQL-style set (eval_ehrsql_heldout.py) had its failures read while the plan language grew. No parser rule,
phrase table, training example or prompt may be written from these questions or their wording; a change that
makes one of them pass must be made for the general case and tested with other words elsewhere. A failure
found here is reported, not fixed against this file.

Bedside wording, where the EHRSQL-style set keeps EHRSQL's templated wording: short questions about the patient
on screen, with pronouns ("is she on metformin?", "when was his last colonoscopy?", "any history of asthma?"),
the abbreviations a chart uses (ER, DOB, A1c), and the everyday words for record rows ("seen", "admission",
"started on", "get the influenza vaccine"). Two in three are asked with the patient selected, in pronouns; one
in three with nobody selected, naming "patient <id>". Workspace questions ("how many patients ...") are asked
with nobody selected. Expected answers are computed from the export's CSV files (eval_record_files.py) with the
conventions the app states: cohorts count the living, "is she on X" means a prescription with no stop date.

Unanswerable questions ask for what a Synthea export does not hold and this set's sibling does not ask about:
reports and notes, code status, next of kin, language, room, dose times, ECG and pathology findings, address,
referrals, follow-up plans, insurance, diet orders, isolation, fall-risk scores.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from benchmarks.eval_assistant_expected import Record
from benchmarks.eval_judge import Expect
from benchmarks.eval_record_files import RecordFiles, askable, short_name


@dataclass(frozen=True)
class Who:
    """How a question names its patient: in pronouns when selected, by id when not."""

    s: str       # subject: "she", "patient 1a2b..."
    o: str       # object: "her", "patient 1a2b..."
    p: str       # possessive: "her", "patient 1a2b...'s"
    for_o: str   # "" when selected, " for patient 1a2b..." when not

    @classmethod
    def of(cls, files: RecordFiles, pid: str, selected: bool) -> Who:
        if not selected:
            return cls(f"patient {pid}", f"patient {pid}", f"patient {pid}'s", f" for patient {pid}")
        female = files.person(pid)["sex"] == "F"
        return cls("she" if female else "he", "her" if female else "him", "her" if female else "his", "")


Built = tuple[str, Expect] | None
Builder = Callable[[RecordFiles, Record, random.Random, str, Who], Built]


@dataclass(frozen=True)
class Template:
    id: str
    category: str
    build: Builder
    #: asked of the workspace (nobody selected) rather than of one patient
    workspace: bool = False


def _a(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def _own_name(files: RecordFiles, entity: str, pid: str, rng: random.Random) -> str | None:
    names = sorted(n for n in set(files.events(entity, pid)["name"]) if askable(n))
    return short_name(files, entity, rng.choice(names)) if names else None


def _any_name(files: RecordFiles, entity: str, rng: random.Random) -> str | None:
    names = sorted(n for n in set(files.tables[entity]["name"]) if askable(n))
    return short_name(files, entity, rng.choice(names)) if names else None


def _alive(files: RecordFiles, pid: str) -> bool:
    return files.person(pid)["death"] == ""


def _disorders_only(files: RecordFiles, pid: str) -> bool:
    """The patient's newest condition rows are all disorders (a finding or situation is not asked as a diagnosis)."""
    rows = files.events("conditions", pid)
    last = rows[rows["start"] == rows["start"].iloc[-1]] if len(rows) else rows
    return bool(len(last)) and bool(last["description"].str.endswith("(disorder)").all())


# ---------------------------------------------------------------- one patient's record
def _ever(entity: str, text: str) -> Builder:
    """A yes/no over any row of ``entity`` with the name: the patient's own names, or (two in five) any name the
    workspace holds. ``text`` has {name}, {a_name} and Who's fields."""
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
        name = _own_name(files, entity, pid, rng) if rng.random() < 0.6 else _any_name(files, entity, rng)
        if name is None:
            return None
        words = text.format(name=name, a_name=_a(name), s=w.s, p=w.p, for_o=w.for_o)
        return words, Expect("yesno", bool(len(files.events(entity, pid, name))))
    return build


def _when(entity: str, text: str, *, last: bool) -> Builder:
    """The day of the first or last row of ``entity`` with one of the patient's own names."""
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
        name = _own_name(files, entity, pid, rng)
        if name is None:
            return None
        rows = files.events(entity, pid, name)
        words = text.format(name=name, s=w.s, p=w.p, for_o=w.for_o)
        return words, Expect("date", rows["start"].iloc[-1 if last else 0])
    return build


def dx_latest(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    if not _disorders_only(files, pid):
        return None
    rows = files.events("conditions", pid)
    day = rows["start"].iloc[-1]
    tied = tuple(sorted(set(rows.loc[rows["start"] == day, "name"])))
    return f"what's the most recent diagnosis{w.for_o}?", Expect("name", None, tied)


def rx_on(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    if not _alive(files, pid):
        return None
    name = _own_name(files, "medications", pid, rng) if rng.random() < 0.7 else _any_name(files, "medications", rng)
    if name is None:
        return None
    return f"is {w.s} on {name}?", Expect("yesno", bool(len(files.events("medications", pid, name, active=True))))


def rx_count(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    name = _own_name(files, "medications", pid, rng)
    if name is None:
        return None
    n = len(files.events("medications", pid, name))
    return f"how many prescriptions for {name} does {w.s} have?", Expect("count", n)


def er_count(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    if not len(files.events("encounters", pid)):
        return None
    n = len(files.events("encounters", pid, klass="emergency"))
    return f"how many ER visits has {w.s} had?", Expect("count", n)


def admission_last(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    rows = files.events("encounters", pid, klass="inpatient")
    if not len(rows):
        return None
    return f"when was {w.p} last admission?", Expect("date", rows["start"].iloc[-1])


def seen_in(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    visits = files.events("encounters", pid)
    if not len(visits):
        return None
    first, last = int(visits["start"].iloc[0][:4]), int(visits["start"].iloc[-1][:4])
    year = rng.randint(first, last)
    return f"was {w.s} seen in {year}?", Expect("yesno", bool(len(files.events("encounters", pid, year=year))))


def visits_in(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    visits = files.events("encounters", pid)
    if not len(visits):
        return None
    year = int(rng.choice(sorted(set(visits["start"].str[:4]))))
    n = len(files.events("encounters", pid, year=year))
    return f"how many visits did {w.s} have in {year}?", Expect("count", n)


def allergic_any(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    return f"is {w.s} allergic to anything?", Expect("yesno", bool(len(files.events("allergies", pid))))


def alive(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    return f"is {w.s} still alive?", Expect("yesno", _alive(files, pid))


def age_now(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    if not _alive(files, pid):
        return None
    return f"how old is {w.s}?", Expect("count", files.age_on(pid, date.today().isoformat()))


def dob(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    return f"what is {w.p} DOB?", Expect("date", files.person(pid)["birth"])


def _latest(code: str, text: str) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
        r = obs.readings(pid, code)
        if not len(r):
            return None
        newest = r[r["at"] == r.iloc[0]["at"]]
        if newest["value"].nunique() > 1:  # two different readings at the same time: not asked
            return None
        return text.format(s=w.s, p=w.p, for_o=w.for_o), Expect("value", float(r.iloc[0]["value"]))
    return build


def hr_ever_over(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    r = obs.readings(pid, "8867-4")
    if not len(r):
        return None
    return f"has {w.p} heart rate ever been over 100?", Expect("yesno", bool((r["value"] > 100).any()))


def weight_mean_in(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    r = obs.readings(pid, "29463-7")
    if not len(r):
        return None
    year = rng.choice(sorted({at[:4] for at in r["at"]}))
    values = r[r["at"].str.startswith(year)]["value"]
    return (f"what was {w.p} average weight in {year}?",
            Expect("value", float(statistics.mean(values)), tolerance=0.051))


def glucose_count(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    r = obs.readings(pid, "2339-0")
    if not len(r):
        return None
    return f"how many glucose results does {w.s} have?", Expect("count", len(r))


# ---------------------------------------------------------------- the workspace
def cohort_rx(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    name = _own_name(files, "medications", pid, rng)
    if name is None:
        return None
    return f"how many patients have been prescribed {name}?", Expect("count", len(files.who("medications", name)))


def cohort_er_in(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    visits = files.events("encounters", pid)
    if not len(visits):
        return None
    year = int(rng.choice(sorted(set(visits["start"].str[:4]))))
    return (f"how many patients came to the ER in {year}?",
            Expect("count", len(files.who("encounters", year=year, klass="emergency"))))


def cohort_dx(files: RecordFiles, obs: Record, rng: random.Random, pid: str, w: Who) -> Built:
    name = _own_name(files, "conditions", pid, rng)
    if name is None:
        return None
    return f"how many of our patients have had {name}?", Expect("count", len(files.who("conditions", name)))


T = Template
TEMPLATES: tuple[Template, ...] = (
    T("dx_history", "diagnoses", _ever("conditions", "any history of {name}{for_o}?")),
    T("dx_first", "dates", _when("conditions", "when was {p} {name} first diagnosed?", last=False)),
    T("dx_latest", "diagnoses", dx_latest),
    T("rx_on", "prescriptions", rx_on),
    T("rx_last", "dates", _when("medications", "when was {name} last prescribed{for_o}?", last=True)),
    T("rx_count", "prescriptions", rx_count),
    T("er_count", "visits", er_count),
    T("admission_last", "dates", admission_last),
    T("seen_in", "visits", seen_in),
    T("visits_in", "visits", visits_in),
    T("proc_ever", "procedures", _ever("procedures", "has {s} ever had {a_name}?")),
    T("proc_last", "dates", _when("procedures", "when was {p} last {name}?", last=True)),
    T("vaccine_last", "dates", _when("immunizations", "when did {s} last get the {name} vaccine?", last=True)),
    T("allergic_any", "diagnoses", allergic_any),
    T("alive", "demographics", alive),
    T("age_now", "demographics", age_now),
    T("dob", "demographics", dob),
    T("systolic_latest", "measurements", _latest("8480-6", "what was {p} most recent systolic?")),
    T("a1c_latest", "measurements", _latest("4548-4", "latest A1c{for_o}?")),
    T("hr_ever_over", "measurements", hr_ever_over),
    T("weight_mean_in", "measurements", weight_mean_in),
    T("glucose_count", "measurements", glucose_count),
    T("cohort_rx", "cohort counts", cohort_rx, workspace=True),
    T("cohort_er_in", "cohort counts", cohort_er_in, workspace=True),
    T("cohort_dx", "cohort counts", cohort_dx, workspace=True),
)

# What a Synthea export does not hold; each must be declined, never answered. {s}/{o}/{p} as in Who.
UNANSWERABLE: tuple[str, ...] = (
    "what did the radiologist say about {p} last chest x-ray?",
    "what is {p} code status?",
    "what did the doctor write in {p} last progress note?",
    "who is {p} next of kin?",
    "what language does {s} speak?",
    "which room is {s} in?",
    "when is {p} next dose of insulin due?",
    "did {s} get {p} 8 am dose of metoprolol?",
    "what did {p} last ECG show?",
    "what's {p} home address?",
    "who referred {o} to this clinic?",
    "when should {s} come back for follow-up?",
    "what is {p} religion?",
    "what's {p} emergency contact number?",
    "what did the pathology report on {p} biopsy say?",
    "who is {p} insurance provider?",
    "what is {p} diet order?",
    "is {s} on contact precautions?",
    "what is {p} fall risk score?",
    "what was {p} capillary refill time at triage?",
)
