"""The evaluation's own code: the judge (right / wrong / declined), the expected side over hand-written Synthea
files, and the held-out set's RS(10) score and size. No app code is exercised here."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks.eval_assistant_expected import Record
from benchmarks.eval_ehrsql import HeldOutScore, Question, Scored, build_questions
from benchmarks.eval_ehrsql_heldout import TEMPLATES, UNANSWERABLE
from benchmarks.eval_judge import DECLINED, RIGHT, WRONG, Expect, first_count_in_text, judge
from benchmarks.eval_record_files import RecordFiles, clean_name, name_matches

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample" / "synthea"
P1, P2, P3 = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
              "33333333-3333-4333-8333-333333333333")


def answer(text: str = "", facts: list[Any] | None = None, *, computed: bool = True, declined: bool = False,
           rows: list[list[Any]] | None = None) -> SimpleNamespace:
    return SimpleNamespace(text=text, facts=facts or [], computed=computed, declined=declined, rows=rows or [])


def fact(value: Any, observed_at: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(value=value, observed_at=observed_at)


# ------------------------------------------------------------------------------------------------ the judge
def test_yes_no_must_lead_after_the_caution_lines() -> None:
    yes = Expect("yesno", True)
    assert judge(answer("Yes: Hypertension on 2019-03-02."), yes) == RIGHT
    assert judge(answer("Check the plan under ...\nYes, since 2019-03-02."), yes) == RIGHT
    assert judge(answer("No record of hypertension."), yes) == WRONG
    assert judge(answer("1 of 2 readings were above 80"), yes) == WRONG     # never says yes: wrong
    assert judge(answer("Nothing", computed=False), yes) == DECLINED
    assert judge(answer("The record does not hold ...", declined=True), yes) == DECLINED


def test_a_date_must_be_stated_and_lead() -> None:
    when = Expect("date", "2019-03-02")
    first_fact = [fact("Hypertension", "2019-03-02T10:00")]
    assert judge(answer("First on 2019-03-02; again 2021-01-01", first_fact), when) == RIGHT
    assert judge(answer("Diagnosed 2019-03-02 (and 2020-01-01)."), when) == RIGHT
    assert judge(answer("Diagnosed 2020-01-01 (and 2019-03-02)."), when) == WRONG    # leads with another
    assert judge(answer("Since 2018-01-01: first on 2019-03-02", first_fact), when) == RIGHT  # the fact leads
    assert judge(answer("Hypertension is on record", first_fact), when) == WRONG       # the date is not stated


def test_a_count_skips_dates_window_years_and_ids() -> None:
    assert first_count_in_text(f"Patient {P1} had 3 visits in 2016 (first 2016-02-01).") == 3
    assert first_count_in_text("a total of 2016 visits") == 2016
    three = Expect("count", 3)
    assert judge(answer("3 visits in 2016"), three) == RIGHT
    assert judge(answer("a total of 2016 visits", [fact(2016.0)]), three) == WRONG
    assert judge(answer("12 living patients; 15 including 3 who have died", [fact(12), fact(15), fact(3)]),
                 Expect("count", 12)) == RIGHT


def test_a_name_is_a_whole_word_match_and_male_is_not_female() -> None:
    assert judge(answer("The patient is female."), Expect("name", None, ("male", "m"))) == WRONG
    assert judge(answer("Sex: F", [fact("F")]), Expect("name", None, ("female", "f"))) == RIGHT
    drug = Expect("name", None, ("amoxicillin 250 mg oral capsule",))
    amox, ibu = fact("Amoxicillin 250 MG Oral Capsule", "2022-01-01"), fact("Ibuprofen 100 MG Oral Tablet", "2022-01-01")
    assert judge(answer("The last drug in 2022: Amoxicillin 250 MG Oral Capsule on 2022-01-01", [amox]), drug) == RIGHT
    assert judge(answer("x", [amox]), drug) == WRONG                                   # not in the text
    assert judge(answer("Ibuprofen 100 MG Oral Tablet, Amoxicillin 250 MG Oral Capsule, Paracetamol",
                        [ibu, amox, fact("Paracetamol")]), drug) == WRONG            # only somewhere in a list


def test_patients_and_an_unanswerable_question() -> None:
    both = Expect("patients", (P1, P2))
    assert judge(answer("2 patients", rows=[[P1, "x"], [P2, "y"]]), both) == RIGHT
    assert judge(answer("3 patients", rows=[[P1], [P2], [P3]]), both) == WRONG
    decline = Expect("decline")
    assert judge(answer("The record does not hold blood types.", declined=True), decline) == RIGHT
    assert judge(answer("", computed=False), decline) == WRONG        # handed to the model: it would invent
    assert judge(answer("The blood type is A"), decline) == WRONG


# ------------------------------------------------------------------------------------------ the expected side
def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text.strip() + "\n", encoding="utf-8")


@pytest.fixture()
def files(tmp_path: Path) -> RecordFiles:
    _write(tmp_path, "patients.csv", f"""
Id,BIRTHDATE,DEATHDATE,FIRST,LAST,GENDER
{P1},1950-06-15,,Ann,A,F
{P2},1980-01-01,2020-05-05,Bob,B,M
{P3},2015-03-03,,Cy,C,M""")
    _write(tmp_path, "conditions.csv", f"""
START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION
2010-01-01,,{P1},e1,SNOMED-CT,44054006,Diabetes mellitus type 2 (disorder)
2012-01-01,,{P2},e2,SNOMED-CT,714628002,Prediabetes (finding)
2014-01-01,,{P2},e2,SNOMED-CT,59621000,Essential hypertension (disorder)
2019-01-01,2019-01-20,{P3},e3,SNOMED-CT,444814009,Viral sinusitis (disorder)""")
    _write(tmp_path, "procedures.csv", f"""
DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION
2018-04-04T10:00:00Z,{P1},e1,430193006,Medication reconciliation (procedure),10,,""")
    _write(tmp_path, "encounters.csv", f"""
Id,START,STOP,PATIENT,ENCOUNTERCLASS,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION
e1,2010-01-01T09:00:00Z,2010-01-01T09:30:00Z,{P1},ambulatory,1,Encounter for problem,,
e4,2016-02-02T09:00:00Z,2016-02-04T09:30:00Z,{P1},inpatient,1,Admission,,""")
    return RecordFiles.read(tmp_path)


def test_names_are_matched_by_whole_words_and_adjectives(files: RecordFiles) -> None:
    assert clean_name("Essential hypertension (disorder)") == "essential hypertension"
    assert name_matches("diabetes mellitus type 2", "diabetes") and not name_matches("prediabetes", "diabetes")
    assert name_matches("essential hypertension", "hypertensive")
    assert files.who("conditions", "diabetes", living=False) == {P1}
    assert files.who("conditions", "hypertension") == set()                # its only patient has died
    assert files.who("conditions", "hypertension", living=False) == {P2}
    assert files.who("conditions", "sinusitis", active=True, living=False) == set()   # it has a STOP date


def test_older_layouts_missing_files_ages_and_the_living(files: RecordFiles) -> None:
    assert list(files.events("procedures", P1)["start"]) == ["2018-04-04"]   # DATE instead of START
    assert files.tables["medications"].empty                                  # no medications.csv
    assert files.living() == {P1, P3}
    assert files.age_on(P1, "2020-06-14") == 69 and files.age_on(P1, "2020-06-15") == 70
    assert list(files.events("encounters", P1, klass="inpatient")["start"]) == ["2016-02-02"]
    assert files.top_names("conditions", 1) is None                           # four names, one row each: a tie


# ------------------------------------------------------------------------------------------- the held-out set
def test_rs10_scores_right_declined_and_wrong() -> None:
    def row(answerable: bool, outcome: str) -> Scored:
        q = Question("t", "c", "q?", None, Expect("count", 1) if answerable else Expect("decline"))
        return Scored(q, outcome, True, 0.01, "", "sample")

    score = HeldOutScore([row(True, RIGHT)] * 8 + [row(True, DECLINED), row(False, WRONG)])
    assert score.rs() == pytest.approx(100 * (8 + 0 - 10) / 10)
    assert score.answerable_right() == pytest.approx(8 / 9) and not score.goals_met()
    assert HeldOutScore([row(True, RIGHT)] * 9 + [row(False, RIGHT)]).goals_met()


def test_the_held_out_set_is_large_enough_on_the_sample() -> None:
    questions = build_questions(RecordFiles.read(SAMPLE), Record.read(SAMPLE), seed=11, per_template=3)
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 120 and len({q.template for q in answerable}) >= 30
    assert len([q for q in questions if not q.answerable]) == len(UNANSWERABLE) >= 30
    assert len(TEMPLATES) >= 30
    assert any(q.patient_id is None and "patient " in q.text for q in answerable)   # the id must be read


def test_the_bedside_set_names_a_selected_patient_in_pronouns_and_any_other_by_id() -> None:
    from benchmarks import eval_bedside_heldout as bedside

    questions = build_questions(RecordFiles.read(SAMPLE), Record.read(SAMPLE), seed=11, per_template=3,
                                question_set="bedside")
    answerable = [q for q in questions if q.answerable]
    assert len({q.template for q in answerable}) == len(bedside.TEMPLATES) >= 20
    assert len([q for q in questions if not q.answerable]) == len(bedside.UNANSWERABLE) >= 20
    for q in questions:
        if q.patient_id is None:
            assert q.template.startswith("cohort") or re.search(r"patient [0-9a-f]{8}-[0-9a-f-]{27}", q.text), q.text
        else:
            assert q.patient_id not in q.text and "patient " not in q.text, q.text
    selected = [q for q in answerable if q.patient_id is not None]
    assert selected and all(any(f" {p} " in f" {q.text.rstrip('?')} " for p in ("she", "he", "her", "his", "him"))
                            or q.text.startswith(("any history", "latest", "what's the most", "when was"))
                            for q in selected)


# ------------------------------------------------------------------------------- the evaluation's cohorts
def test_history_changes_add_renewals_switches_and_other_visit_classes_and_nothing_else(tmp_path: Path) -> None:
    from devtools.synthetic import generate_cohort

    small = {"patients": 24, "years": 8, "seed": 5, "wide_rows": 0, "snapshot": False}
    generate_cohort(tmp_path / "plain", **small)
    generate_cohort(tmp_path / "messy", history_changes=True, **small)
    plain, messy = tmp_path / "plain" / "synthea", tmp_path / "messy" / "synthea"
    for same in ("patients.csv", "conditions.csv", "observations.csv", "allergies.csv", "immunizations.csv"):
        assert (plain / same).read_bytes() == (messy / same).read_bytes(), same
    files = RecordFiles.read(messy)
    meds = files.tables["medications"]
    per = meds.groupby(["patient", "name"]).size()
    assert per.max() >= 3                                       # a chronic drug re-issued year after year
    assert (meds["reason"] == "").any() and (meds["stop"] == "").any() and (meds["stop"] != "").any()
    assert {"outpatient", "virtual", "home"} & set(files.tables["encounters"]["klass"])
    assert {"emergency", "inpatient", "urgentcare", "wellness", "ambulatory"} <= set(files.tables["encounters"]["klass"])


def test_a_drug_started_before_a_window_and_still_running_is_not_asked_about_that_window(files: RecordFiles) -> None:
    import pandas as pd

    from benchmarks.eval_record_files import window_is_ambiguous

    rows = pd.DataFrame({"start": ["2015-01-01"], "stop": [""]})
    assert window_is_ambiguous(rows, since=2021) and window_is_ambiguous(rows, year=2020)
    assert not window_is_ambiguous(rows, year=2014)                    # neither reading says yes
    stopped = pd.DataFrame({"start": ["2015-01-01", "2021-03-03"], "stop": ["2016-01-01", "2021-04-01"]})
    assert not window_is_ambiguous(stopped, since=2021) and not window_is_ambiguous(stopped, year=2018)
    encounter = "44444444-4444-4444-8444-444444444444"
    assert judge(answer("2 patients", rows=[[encounter, P1], [encounter, P2]]),
                 Expect("patients", (P1, P2), (P1, P2, P3))) == RIGHT
    assert judge(answer("x", rows=[[P3, P1]]), Expect("patients", (P1,), (P1, P2, P3))) == WRONG


def test_top_k_is_right_under_any_untied_reading_of_most_frequent() -> None:
    readings = Expect("names_any", (("asthma", "otitis media"), ("asthma", "stress")))
    assert judge(answer("Top 2: Asthma (12), Stress (9)"), readings) == RIGHT
    assert judge(answer("Top 2: Asthma (12), Otitis media (9)"), readings) == RIGHT
    assert judge(answer("Top 2: Asthma (12), Viral sinusitis (9)"), readings) == WRONG
