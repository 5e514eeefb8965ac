"""HELD-OUT SET: DO NOT TUNE ON IT. No parser rule, phrase table, training example or prompt may be written from
these questions or their wording; they measure how the assistant meets questions nobody here wrote it for. A
change that makes one of them pass must be made for the general case and tested with other words elsewhere.

Questions in the wording of EHRSQL's question templates: Lee et al., "EHRSQL: A Practical Text-to-SQL
Benchmark for Electronic Health Records", NeurIPS 2022 Datasets and Benchmarks (templates collected from 222
hospital staff: physicians, nurses, insurance reviewers, health records teams), https://github.com/glee4810/EHRSQL
(dataset/ehrsql/mimic_iii/valid.json and eicu/valid.json, fields ``q_tag`` and ``is_impossible``); and the
EHRSQL 2024 shared task on reliable text-to-SQL (Lee et al., ClinicalNLP 2024,
https://github.com/glee4810/ehrsql-2024), whose reliability score RS(c) this set is scored with. Each template
below quotes the EHRSQL ``q_tag`` it adapts; the questions are our own, rewritten for a Synthea export's tables
(conditions for diagnoses, medications for prescriptions, encounters for hospital visits, observations for
vitals and lab tests, procedures, allergies, patients). None of EHRSQL's code or data is used.

Unanswerable questions ask for what a Synthea export does not hold (intake and output volumes, microbiology,
blood type, ward and care unit, ICU stays and device settings, appointments, family history, consent, phone
numbers, beds). EHRSQL's general-knowledge unanswerables ("side effects of insulin?") are left out: in this
app a question that is not about the record goes to the on-device model by design (contracts.md section 1).

Every question names its patient by id, as EHRSQL's do ("patient 6e272b4c-..."); two in three are asked with
that patient selected in the app, one in three with no patient selected (the id in the words must be read).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from benchmarks.eval_assistant_expected import Record
from benchmarks.eval_judge import Expect
from benchmarks.eval_record_files import RecordFiles, askable, short_name, window_is_ambiguous
from benchmarks.eval_record_workspace import top_readings

Built = tuple[str, Expect] | None
Builder = Callable[[RecordFiles, Record, random.Random, str], Built]
VITALS = {"8480-6": "systolic blood pressure", "8462-4": "diastolic blood pressure", "8867-4": "heart rate",
          "9279-1": "respiratory rate", "8310-5": "body temperature", "59408-5": "oxygen saturation",
          "29463-7": "body weight", "39156-5": "body mass index"}
LABS = {"2339-0": "glucose", "4548-4": "hemoglobin a1c"}
VITAL_LIMITS = {"8480-6": 120, "8462-4": 80, "8867-4": 90, "9279-1": 18, "8310-5": 37.5, "59408-5": 95,
                "29463-7": 70, "39156-5": 25}


@dataclass(frozen=True)
class Template:
    id: str
    category: str
    source: str          # the EHRSQL q_tag it adapts
    build: Builder


def _a(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def _pick_name(files: RecordFiles, entity: str, pid: str, rng: random.Random) -> str | None:
    names = sorted(n for n in set(files.events(entity, pid)["name"]) if askable(n))
    return short_name(files, entity, rng.choice(names)) if names else None


def _year(files: RecordFiles, entity: str, pid: str, rng: random.Random) -> int | None:
    years = sorted(set(files.events(entity, pid)["start"].str[:4]))
    return int(rng.choice(years)) if years else None


def _exists(entity: str, verb: str, window: str) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        name = _pick_name(files, entity, pid, rng)
        year = _year(files, entity, pid, rng)
        if name is None or year is None:
            return None
        if rng.random() < 0.4:    # a name the workspace holds, perhaps not this patient
            name = short_name(files, entity, rng.choice(sorted(n for n in set(files.tables[entity]["name"])
                                                              if askable(n))))
        kw = {"since": year} if window == "since" else {"year": year} if window == "in" else {}
        hit = bool(len(files.events(entity, pid, name, **kw)))   # type: ignore[arg-type]
        if entity == "medications" and window_is_ambiguous(files.events(entity, pid, name), **kw):
            return None
        when = f" since {year}" if window == "since" else f" in {year}" if window == "in" else ""
        said = _a(name) if verb.endswith(" a") else name
        return f"has patient {pid} been {verb.removesuffix(' a')} {said}{when}?", Expect("yesno", hit)
    return build


def _when(entity: str, text: str, last: bool, window: bool = False) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        name = _pick_name(files, entity, pid, rng)
        if name is None:
            return None
        rows = files.events(entity, pid, name)
        when = ""
        if window:
            year = int(rng.choice(sorted(set(rows["start"].str[:4]))))
            rows, when = files.events(entity, pid, name, since=year), f" since {year}"
        day = rows["start"].iloc[-1 if last else 0]
        return text.format(pid=pid, name=name, a_name=_a(name), when=when), Expect("date", day)
    return build


def _name_of(entity: str, text: str, last: bool, in_year: bool) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        year = _year(files, entity, pid, rng) if in_year else None
        rows = files.events(entity, pid, year=year)
        if not len(rows):
            return None
        day = rows["start"].iloc[-1 if last else 0]
        tied = tuple(sorted(set(rows.loc[rows["start"] == day, "name"])))
        return text.format(pid=pid, y=year), Expect("name", None, tied)
    return build


def _count_of(entity: str, text: str) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        name = _pick_name(files, entity, pid, rng)
        if name is None:
            return None
        return text.format(pid=pid, name=name, a_name=_a(name)), Expect("count", len(files.events(entity, pid, name)))
    return build


def _patients_with(entity: str, text: str, **kw: object) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        name = _pick_name(files, entity, pid, rng)
        if name is None:
            return None
        return text.format(name=name, a_name=_a(name)), Expect("count", len(files.who(entity, name, **kw)))   # type: ignore[arg-type]
    return build


def _top(entity: str, text: str) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        n = rng.choice((2, 3, 4, 5, 6, 7, 8))
        readings = top_readings(files, entity, n)
        return (text.format(n=n), Expect("names_any", readings)) if readings else None
    return build


def _visits(klass: str | None, text: str, how: str) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        everything = files.events("encounters", pid)
        if not len(everything):
            return None
        year = int(rng.choice(sorted(set(everything["start"].str[:4]))))
        if how == "count":
            return text.format(pid=pid, y=year), Expect("count", len(files.events("encounters", pid, year=year,
                                                                                   klass=klass)))
        if how == "exists":
            hit = bool(len(files.events("encounters", pid, since=year, klass=klass)))
            return text.format(pid=pid, y=year), Expect("yesno", hit)
        rows = files.events("encounters", pid, klass=klass)
        if not len(rows):
            return None
        return text.format(pid=pid), Expect("date", rows["start"].iloc[-1 if how == "last" else 0])
    return build


def _cohort_visits(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
    year = _year(files, "encounters", pid, rng)
    return (f"count the number of patients who were admitted to the hospital in {year}.",
            Expect("count", len(files.who("encounters", year=year, klass="inpatient"))))


def _demo(what: str) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        person = files.person(pid)
        if what == "gender":
            words = ("female", "f") if person["sex"] == "F" else ("male", "m")
            return f"what is the gender of patient {pid}?", Expect("name", None, words)
        if what == "birth":
            return f"what is the date of birth of patient {pid}?", Expect("date", person["birth"])
        if what == "age":
            seen = files.events("encounters", pid)
            if not len(seen):
                return None
            day = rng.choice(list(seen["start"]))
            return f"what was the age of patient {pid} on {day}?", Expect("count", files.age_on(pid, day))
        if what == "current":
            return "count the number of current patients.", Expect("count", len(files.living()))
        lo = rng.choice((20, 30, 40, 50, 60))
        ages = files.ages(date.today().isoformat())
        return (f"count the number of current patients aged {lo} to {lo + 9}.",
                Expect("count", sum(lo <= a <= lo + 9 for a in ages.values())))
    return build


def _measure(how: str) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        names = {**VITALS, **LABS} if how in ("count", "last", "first", "agg") else VITALS
        codes = [c for c in sorted(names) if len(obs.readings(pid, c)) >= 2]
        if not codes:
            return None
        code = rng.choice(codes)
        r, m = obs.readings(pid, code), names[code]
        oldest = r.sort_values(["at", "value"], ascending=[True, True])
        if how == "last":
            return f"what was the last measured {m} of patient {pid}?", Expect("value", float(r.iloc[0]["value"]))
        if how == "first":
            return f"what was the first measured {m} of patient {pid}?", Expect("value",
                                                                                 float(oldest.iloc[0]["value"]))
        if how == "count":
            return (f"count the number of times that patient {pid} had a {m} measured.", Expect("count", len(r)))
        if how == "when_last":
            return (f"when was the last time that patient {pid} had a {m} measured?",
                    Expect("date", r.iloc[0]["at"][:10]))
        year = rng.choice(sorted({at[:4] for at in r["at"]}))
        in_year = r[r["at"].str.startswith(year)]["value"]
        if how == "agg":
            agg = rng.choice(("maximum", "minimum", "average"))
            value = {"maximum": in_year.max(), "minimum": in_year.min(), "average": statistics.mean(in_year)}[agg]
            return f"what was the {agg} {m} of patient {pid} in {year}?", Expect("value", float(value), tolerance=0.051)
        if how == "change":
            change = float(r.iloc[0]["value"]) - float(oldest.iloc[0]["value"])
            return ((f"what is the change in the {m} of patient {pid} from the last value measured compared to the "
                    f"first value measured?"), Expect("value", change, tolerance=0.051))
        if how == "compare":
            less = float(r.iloc[0]["value"]) < float(oldest.iloc[0]["value"])
            return (f"is the {m} of patient {pid} last measured less than the first value measured?",
                    Expect("yesno", less))
        limit = VITAL_LIMITS[code]
        return (f"has the {m} of patient {pid} been ever greater than {limit} in {year}?",
                Expect("yesno", bool((in_year > limit).any())))
    return build


def _any_of(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
    names = sorted({short_name(files, "medications", n) for n in files.tables["medications"]["name"]})
    if len(names) < 3:
        return None
    three = rng.sample(names, 3)
    hit = any(len(files.events("medications", pid, n)) for n in three)
    return f"has patient {pid} been prescribed {three[0]}, {three[1]}, or {three[2]}?", Expect("yesno", hit)


def _any_event(entity: str, text: str) -> Builder:
    def build(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
        year = _year(files, "encounters", pid, rng)
        if year is None:
            return None
        if entity == "medications" and window_is_ambiguous(files.events(entity, pid), year=year):
            return None
        return text.format(pid=pid, y=year), Expect("yesno", bool(len(files.events(entity, pid, year=year))))
    return build


def _list_ids(files: RecordFiles, obs: Record, rng: random.Random, pid: str) -> Built:
    name = _pick_name(files, "conditions", pid, rng)
    if name is None:
        return None
    ids = files.who("conditions", name)
    return (f"list the ids of patients diagnosed with {name}.",
            Expect("patients", tuple(sorted(ids)), tuple(sorted(files.everyone()))))


T, E = Template, "conditions"
TEMPLATES: tuple[Template, ...] = (
    T("dx_exists", "diagnoses", "has_verb patient {patient_id} been diagnosed with {diagnosis_name} [time_filter_global1]?",
      _exists(E, "diagnosed with", "")),
    T("dx_exists_since", "diagnoses", "(same, with a 'since' window)", _exists(E, "diagnosed with", "since")),
    T("dx_first_time", "diagnoses", "when was the [time_filter_exact1] time that patient {patient_id} was diagnosed "
      "with {diagnosis_name} [time_filter_global1]?",
      _when(E, "when was the first time that patient {pid} was diagnosed with {name}?", last=False)),
    T("dx_last_time", "diagnoses", "(same, last)", _when(E, "when was the last time that patient {pid} was diagnosed "
                                                        "with {name}{when}?", last=True, window=True)),
    T("dx_last_name", "diagnoses", "what was the name of the diagnosis that patient {patient_id} [time_filter_exact1] "
      "received [time_filter_global1]?",
      _name_of(E, "what was the name of the diagnosis that patient {pid} last received in {y}?", True, True)),
    T("dx_first_name", "diagnoses", "(same, first, no window)",
      _name_of(E, "what was the name of the diagnosis that patient {pid} first received?", False, False)),
    T("dx_any", "diagnoses", "has_verb patient {patient_id} received any diagnosis [time_filter_global1]?",
      _any_event(E, "has patient {pid} received any diagnosis in {y}?")),
    T("dx_cohort", "cohort counts", "count the number of patients who were diagnosed with {diagnosis_name} "
      "[time_filter_global1].", _patients_with(E, "count the number of patients who were diagnosed with {name}.")),
    T("dx_list_ids", "cohort counts", "list the ids of patients diagnosed with {diagnosis_name} [time_filter_global1].",
      _list_ids),
    T("dx_top", "cohort counts", "what are_verb the top [n_rank] frequent diagnoses [time_filter_global1]?",
      _top(E, "what are the top {n} frequent diagnoses?")),
    T("rx_exists", "prescriptions", "has_verb patient {patient_id} been prescribed {drug_name} [time_filter_global1]?",
      _exists("medications", "prescribed", "since")),
    T("rx_exists_in", "prescriptions", "(same, in a year)", _exists("medications", "prescribed", "in")),
    T("rx_first_time", "prescriptions", "when was the [time_filter_exact1] time that patient {patient_id} was "
      "prescribed {drug_name} [time_filter_global1]?",
      _when("medications", "when was the first time that patient {pid} was prescribed {name}?", last=False)),
    T("rx_last_time", "prescriptions", "(same, last)",
      _when("medications", "when was the last time that patient {pid} was prescribed {name}?", last=True)),
    T("rx_last_name", "prescriptions", "what was the name of the drug that patient {patient_id} was "
      "[time_filter_exact1] prescribed [time_filter_global1]?",
      _name_of("medications", "what was the name of the drug that patient {pid} was last prescribed in {y}?", True,
               True)),
    T("rx_count", "prescriptions", "count the number of times that patient {patient_id} were prescribed {drug_name} "
      "[time_filter_global1].",
      _count_of("medications", "count the number of times that patient {pid} was prescribed {name}.")),
    T("rx_any_of", "prescriptions", "has_verb patient {patient_id} been prescribed {drug_name1}, {drug_name2}, or "
      "{drug_name3} [time_filter_global1]?", _any_of),
    T("rx_any", "prescriptions", "has_verb patient {patient_id} been prescribed any medication [time_filter_global1]?",
      _any_event("medications", "has patient {pid} been prescribed any medication in {y}?")),
    T("rx_cohort", "cohort counts", "count the number of patients who were prescribed {drug_name} "
      "[time_filter_global1].", _patients_with("medications", "count the number of patients who were prescribed "
                                                              "{name}.")),
    T("rx_top", "cohort counts", "what are_verb the top [n_rank] frequently prescribed drugs [time_filter_global1]?",
      _top("medications", "what are the top {n} frequently prescribed drugs?")),
    T("visit_count", "visits", "count the number of hospital visits of patient {patient_id} [time_filter_global1].",
      _visits(None, "count the number of visits of patient {pid} in {y}.", "count")),
    T("visit_er", "visits", "has_verb patient {patient_id} been to an emergency room [time_filter_global1]?",
      _visits("emergency", "has patient {pid} been to an emergency room since {y}?", "exists")),
    T("visit_admitted", "visits", "has_verb patient {patient_id} been admitted to the hospital [time_filter_global1]?",
      _visits("inpatient", "has patient {pid} been admitted to the hospital since {y}?", "exists")),
    T("visit_last_admission", "dates", "when was the [time_filter_exact1] hospital admission time of patient "
      "{patient_id} [time_filter_global1]?",
      _visits("inpatient", "when was the last hospital admission time of patient {pid}?", "last")),
    T("visit_last", "dates", "(same, any visit)", _visits(None, "when was the last visit of patient {pid}?", "last")),
    T("visit_cohort", "cohort counts", "count the number of patients who were admitted to the hospital "
      "[time_filter_global1].", _cohort_visits),
    T("proc_exists", "procedures", "has_verb patient {patient_id} received a {procedure_name} procedure "
      "[time_filter_global1]?", _exists("procedures", "given a", "")),
    T("proc_last_time", "procedures", "when was the [time_filter_exact1] time that patient {patient_id} received a "
      "{procedure_name} procedure [time_filter_global1]?",
      _when("procedures", "when was the last time that patient {pid} received {a_name} procedure?", last=True)),
    T("proc_count", "procedures", "count the number of times that patient {patient_id} received a {procedure_name} "
      "procedure [time_filter_global1].",
      _count_of("procedures", "count the number of times that patient {pid} received {a_name} procedure.")),
    T("proc_last_name", "procedures", "what was the name of the procedure that patient {patient_id} "
      "[time_filter_exact1] received [time_filter_global1]?",
      _name_of("procedures", "what was the name of the procedure that patient {pid} last received in {y}?", True,
               True)),
    T("proc_cohort", "cohort counts", "count the number of patients who received a {procedure_name} procedure "
      "[time_filter_global1].", _patients_with("procedures", "count the number of patients who received {a_name} "
                                                             "procedure.")),
    T("allergy_name", "diagnoses", "what was the name of the substance that patient {patient_id} was allergic to "
      "[time_filter_global1]? (eICU)",
      _name_of("allergies", "what was the name of the substance that patient {pid} was allergic to?", True, False)),
    T("gender", "demographics", "what is the gender of patient {patient_id}?", _demo("gender")),
    T("birth", "demographics", "what is the date of birth of patient {patient_id}?", _demo("birth")),
    T("age", "demographics", "what is_verb the age of patient {patient_id} [time_filter_global1]?", _demo("age")),
    T("current", "cohort counts", "count the number of current patients.", _demo("current")),
    T("current_aged", "cohort counts", "count the number of current patients aged [age_group].", _demo("aged")),
    T("vital_last", "measurements", "what was the [time_filter_exact1] measured {vital_name} of patient {patient_id} "
      "[time_filter_global1]?", _measure("last")),
    T("vital_first", "measurements", "what was the [time_filter_exact1] measured weight of patient {patient_id} "
      "[time_filter_global1]?", _measure("first")),
    T("vital_agg", "measurements", "what was the [agg_function] {vital_name} of patient {patient_id} "
      "[time_filter_global1]?", _measure("agg")),
    T("vital_when", "dates", "when was the [time_filter_exact1] time that patient {patient_id} had a {vital_name} "
      "measured [time_filter_global1]?", _measure("when_last")),
    T("lab_count", "measurements", "count the number of times that patient {patient_id} received a {lab_name} lab "
      "test [time_filter_global1].", _measure("count")),
    T("vital_change", "comparisons", "what is the change in the {vital_name} of patient {patient_id} from the "
      "[time_filter_exact2] value measured [time_filter_global2] compared to the [time_filter_exact1] value measured "
      "[time_filter_global1]?", _measure("change")),
    T("vital_compare", "comparisons", "is the {vital_name} of patient {patient_id} [time_filter_exact2] measured "
      "[time_filter_global2] [comparison] than the [time_filter_exact1] value measured [time_filter_global1]?",
      _measure("compare")),
    T("vital_ever", "yes/no", "has_verb the {vital_name} of patient {patient_id} been ever [comparison] than "
      "{vital_value} [time_filter_global1]?", _measure("ever")),
)

# What a Synthea export does not hold: each must be declined, never answered.
UNANSWERABLE: tuple[str, ...] = (
    "what was the total volume of intake that patient {pid} received today?",
    "what was the total volume of urine output that patient {pid} had yesterday?",
    "what is the difference between the total volume of intake and output of patient {pid} today?",
    "what was the total volume of iv fluid intake of patient {pid} in the last 24 hours?",
    "what was the drain output of patient {pid} yesterday?",
    "what was the organism name found in the last sputum microbiology test of patient {pid}?",
    "has there been any organism found in the first blood culture microbiology test of patient {pid}?",
    "what was the name of the specimen that patient {pid} was last tested?",
    "has patient {pid} had any urine culture microbiology test result this month?",
    "what is the blood type of patient {pid}?",
    "what is the rh factor of patient {pid}?",
    "what was the last ward of patient {pid}?",
    "what was the first careunit of patient {pid} on the current hospital visit?",
    "which bed is patient {pid} in?",
    "what was the length of icu stay of patient {pid}?",
    "how many hours have passed since patient {pid} was admitted to the icu currently?",
    "what is the current peep setting on the ventilator of patient {pid}?",
    "what is the fio2 setting of the ventilator of patient {pid} right now?",
    "when is the next appointment of patient {pid}?",
    "what test is patient {pid} scheduled to have today?",
    "does patient {pid} have an appointment in another department?",
    "does patient {pid} have a family history of any diseases?",
    "does patient {pid} have a family history of heart disease?",
    "has patient {pid} signed a consent form for the procedure?",
    "has patient {pid} completed a ct scan agreement?",
    "what is the phone number of patient {pid}?",
    "does patient {pid} have a history of overseas travel?",
    "when does the influenza quarantine for patient {pid} end?",
    "does patient {pid} have any remaining tests before hospital discharge?",
    "what is the discharge destination of patient {pid}?",
    "who is the attending nurse of patient {pid} tonight?",
    "what was the glasgow coma scale eye opening score of patient {pid} on the current icu visit?",
    "what is the current infusion rate of the insulin drip of patient {pid}?",
)
