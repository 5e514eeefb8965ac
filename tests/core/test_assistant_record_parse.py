"""The whole-record parser over many phrasings per operation, against a vocabulary written here (what a Synthea
workspace holds), with no database: the plan each wording becomes."""

from __future__ import annotations

from datetime import date

import pytest

from desktop.core.assistant.decline import not_held
from desktop.core.assistant.record_parse import normalise, plan_record
from desktop.core.assistant.vocabulary import Term, Vocabulary, find_patient, resolve

TODAY = date(2024, 6, 1)


def _terms(entity: str, *pairs: tuple[str, str]) -> tuple[Term, ...]:
    return tuple(Term(entity, d, c) for d, c in pairs)


VOCAB = Vocabulary(
    terms={
        "condition": _terms("condition", ("Essential hypertension (disorder)", "59621000"), ("Hypertension", "38341003"),
                            ("Diabetes mellitus type 2 (disorder)", "44054006"), ("Prediabetes (finding)", "714628002"),
                            ("Acute viral pharyngitis (disorder)", "195662009"), ("Asthma", "195967001"),
                            ("Disease caused by severe acute respiratory syndrome coronavirus 2 (disorder)", "840539006"),
                            ("Body mass index 30+ - obesity (finding)", "162864005")),
        "medication": _terms("medication", ("amLODIPine 2.5 MG Oral Tablet", "308136"),
                             ("amLODIPine 5 MG Oral Tablet", "197361"), ("lisinopril 10 MG Oral Tablet", "314076"),
                             ("Nitrofurantoin 5 MG/ML Oral Suspension", "1648755")),
        "procedure": _terms("procedure", ("Depression screening (procedure)", "171207006"),
                            ("Appendectomy (procedure)", "80146002")),
        "immunization": _terms("immunization", ("Influenza  seasonal  injectable  preservative free", "140"),),
        "allergy": _terms("allergy", ("Penicillin V", "7984"), ("Peanut (substance)", "256349002")),
        "encounter": _terms("encounter", ("Emergency room admission (procedure)", "50849002"),),
        "reason": _terms("reason", ("Essential hypertension (disorder)", None),),
    },
    encounter_classes=("ambulatory", "emergency", "inpatient", "urgentcare", "wellness"),
    patients=(("6e272b4c-1b97-438e-9b7b-52c3055eff7e", "Ms. Mei23 Khan870"), ("p-2", "Mr. Omar Silva")),
)


def plan(question: str, patient: str | None = "p1"):  # type: ignore[no-untyped-def]
    out = plan_record(question, patient_id=patient, today=TODAY, vocab=VOCAB)
    assert out is not None, question
    return out


PATIENT = [
    # (question, entity, operation, a term that must be matched or None)
    ("has the patient been diagnosed with prediabetes?", "condition", "exists", "Prediabetes (finding)"),
    ("Was she ever diagnosed with hypertension?", "condition", "exists", "Hypertension"),
    ("does he have asthma", "condition", "exists", "Asthma"),
    ("is the patient diabetic?", "condition", "exists", "Diabetes mellitus type 2 (disorder)"),
    ("any history of covid?", "condition", "exists", None),
    ("when was the first time the patient was diagnosed with acute viral pharyngitis?", "condition", "first",
     "Acute viral pharyngitis (disorder)"),
    ("earliest pharyngitis diagnosis", "condition", "first", "Acute viral pharyngitis (disorder)"),
    ("what was the last diagnosis in 2013?", "condition", "latest", None),
    ("most recent diagnosis", "condition", "latest", None),
    ("how many times has she had pharyngitis?", "condition", "count", "Acute viral pharyngitis (disorder)"),
    ("list the diagnoses since 2018", "condition", "list", None),
    ("what conditions does she have?", "condition", "list", None),
    ("when was she diagnosed with asthma?", "condition", "when", "Asthma"),
    ("when was the hypertension resolved?", "condition", "stop", "Hypertension"),
    ("when was the first time the patient was prescribed amlodipine 2.5 mg oral tablet?", "medication", "first",
     "amLODIPine 2.5 MG Oral Tablet"),
    ("has the patient been prescribed nitrofurantoin since 2021?", "medication", "exists",
     "Nitrofurantoin 5 MG/ML Oral Suspension"),
    ("is she still taking lisinopril?", "medication", "exists", "lisinopril 10 MG Oral Tablet"),
    ("how many amlodipine prescriptions?", "medication", "count", "amLODIPine 5 MG Oral Tablet"),
    ("when was lisinopril stopped?", "medication", "stop", "lisinopril 10 MG Oral Tablet"),
    ("why was she prescribed lisinopril?", "medication", "reason", "lisinopril 10 MG Oral Tablet"),
    ("what drug was first prescribed in 2015?", "medication", "first", None),
    ("count the visits of the patient in 2016", "encounter", "count", None),
    ("has the patient been to an emergency room in 2016?", "encounter", "exists", None),
    ("how many ER visits since 2020", "encounter", "count", None),
    ("was she admitted to hospital in 2019?", "encounter", "exists", None),
    ("when was the last wellness visit?", "encounter", "latest", None),
    ("what was the reason for the last inpatient visit?", "encounter", "reason", None),
    ("on how many different days did she have a visit in 2020?", "encounter", "count_days", None),
    ("has she had an appendectomy?", "procedure", "exists", "Appendectomy (procedure)"),
    ("list procedures performed in 2022", "procedure", "list", None),
    ("when did she get the flu vaccine?", "immunization", "when",
     "Influenza  seasonal  injectable  preservative free"),
    ("how many vaccinations has he had?", "immunization", "count", None),
    ("is she allergic to peanuts?", "allergy", "exists", "Peanut (substance)"),
    ("how old was the patient on 2019-06-01?", "patient", "age", None),
    ("what was his age on 1 June 2019", "patient", "age", None),
    ("how old is she?", "patient", "age", None),
    ("when was the patient born?", "patient", "birth", None),
    ("date of birth", "patient", "birth", None),
    ("is the patient alive?", "patient", "death", None),
    ("when did the patient die?", "patient", "death", None),
    ("what is the patient's gender?", "patient", "sex", None),
]


@pytest.mark.parametrize(("question", "entity", "operation", "term"), PATIENT)
def test_patient_record_phrasings(question: str, entity: str, operation: str, term: str | None) -> None:
    p = plan(question)
    assert (p.kind, p.subject, p.entity, p.operation) == ("data", "patient", entity, operation), p
    if term is not None:
        assert term in p.terms and p.matched.startswith("matched: ")


def test_windows_with_dates() -> None:
    assert plan("has the patient been to an emergency room in 2016?").window.start == date(2016, 1, 1)
    p = plan("how many visits between 2019-03-01 and 2019-06-30?")
    assert (p.window.start, p.window.end) == (date(2019, 3, 1), date(2019, 7, 1))
    assert plan("any diagnoses before 2020-02-01?").window.end == date(2020, 2, 1)
    assert plan("visits in march 2021").window.end == date(2021, 4, 1)
    assert plan("how old was she on 2019-06-01?").on_date == date(2019, 6, 1)
    assert plan("prescriptions after 2018").window.start == date(2019, 1, 1)


def test_names_resolve_against_the_vocabulary_and_diabetes_is_not_prediabetes() -> None:
    res = resolve(VOCAB, "condition", "diabetes")
    assert res.descriptions == ("Diabetes mellitus type 2 (disorder)",) and "not counted: Prediabetes" in res.shown()
    assert set(resolve(VOCAB, "condition", "hypertensive").descriptions) == {"Essential hypertension (disorder)",
                                                                             "Hypertension"}
    assert resolve(VOCAB, "condition", "38341003").descriptions == ("Hypertension",)
    assert resolve(VOCAB, "medication", "amlodipine").descriptions == ("amLODIPine 2.5 MG Oral Tablet",
                                                                       "amLODIPine 5 MG Oral Tablet")
    assert resolve(VOCAB, "medication", "amlodipine 5 mg").descriptions == ("amLODIPine 5 MG Oral Tablet",)
    spelt = resolve(VOCAB, "condition", "hypertenson")
    assert not spelt.matched and spelt.candidates
    assert resolve(VOCAB, "condition", "glorbitis") == resolve(VOCAB, "condition", "glorbitis") and \
        not resolve(VOCAB, "condition", "glorbitis").candidates


def test_misspelt_names_are_asked_back_and_unknown_ones_answer_no() -> None:
    asked = plan("has the patient been diagnosed with hypertenson?")
    assert asked.kind == "declined" and "Hypertension" in asked.decline
    unknown = plan("has she been diagnosed with glorbitis?")
    assert unknown.operation == "exists" and not unknown.terms and "no name" in unknown.matched


def test_a_patient_is_found_by_id_or_by_name() -> None:
    assert find_patient(VOCAB, "latest weight of patient 6e272b4c-1b97-438e-9b7b-52c3055eff7e")[0] == \
        "6e272b4c-1b97-438e-9b7b-52c3055eff7e"
    assert find_patient(VOCAB, "has Mei Khan been prescribed lisinopril?")[0] == "6e272b4c-1b97-438e-9b7b-52c3055eff7e"
    assert find_patient(VOCAB, "how old is Mr. Omar Silva?")[0] == "p-2"
    assert find_patient(VOCAB, "how old is Omar?")[0] is None


WORKSPACE = [
    ("how many patients have diabetes?", "count", "condition_terms"),
    ("how many diabetics are there?", "count", "condition_terms"),
    ("which patients have asthma?", "which_patients", "condition_terms"),
    ("list the patients prescribed lisinopril", "which_patients", "medication_terms"),
    ("how many patients are on amlodipine?", "count", "medication_terms"),
    ("how many patients had an emergency visit in 2016?", "count", "encounter_class"),
    ("how many women with hypertension, including the deceased?", "count", "condition_terms"),
]


@pytest.mark.parametrize(("question", "operation", "group"), WORKSPACE)
def test_workspace_record_phrasings(question: str, operation: str, group: str) -> None:
    p = plan(question, None)
    assert (p.subject, p.operation) == ("workspace", operation) and getattr(p.cohort, group), p


def test_populations_and_top_and_age_groups() -> None:
    assert plan("how many patients have diabetes?", None).population == "living"
    assert plan("how many patients have diabetes, dead or alive?", None).population == "all"
    assert plan("how many patients with asthma including the deceased", None).population == "all"
    died = plan("how many patients have died?", None)
    assert (died.operation, died.population) == ("count", "deceased")
    top = plan("what are the top 10 conditions?", None)
    assert (top.operation, top.entity, top.limit) == ("top", "condition", 10)
    assert plan("most commonly prescribed drugs", None).entity == "medication"
    assert plan("how many patients in each age group?", None).operation == "age_groups"


@pytest.mark.parametrize("question", [
    "what is the patient's blood type?", "ABO group?", "what was the urine output over the last 24 hours?",
    "total fluid intake today", "which organism grew in the blood culture?", "any microbiology results?",
    "which ward is she on?", "what room is the patient in?", "when is his next appointment?",
    "any upcoming visits scheduled?", "does she have a family history of diabetes?", "did the patient give consent?",
    "what is the code status?", "is there a DNR order?", "what did the last visit cost?",
    "which doctor saw him last?", "what is the patient's marital status?", "where was she discharged to?",
    "what does the last chest x-ray report say?"])
def test_what_the_record_does_not_hold_is_declined(question: str) -> None:
    sentence = not_held(normalise(question))
    assert sentence is not None and sentence.startswith("The record does not hold"), question
    assert plan(question).kind == "declined"


@pytest.mark.parametrize("question", ["what is a blood type?", "explain what a microbiology culture is",
                                      "what does consent mean?", "has she been to the emergency room?"])
def test_knowledge_and_visits_are_not_declined_as_not_held(question: str) -> None:
    assert not_held(normalise(question)) is None


@pytest.mark.parametrize("question", ["was she prescribed any antibiotics?", "is he on a statin?",
                                      "how many days have passed since she was last diagnosed with asthma?",
                                      "how long was the last hospital stay?", "has she had any infections?",
                                      "what was her age when first diagnosed with asthma?"])
def test_classes_elapsed_time_and_two_step_questions_are_declined(question: str) -> None:
    assert plan(question).kind == "declined"


def test_codes_and_changed_endings_resolve() -> None:
    assert plan("has she been diagnosed with 38341003?").terms == ("Hypertension",)
    assert plan("was she prescribed 314076?").terms == ("lisinopril 10 MG Oral Tablet",)
    vocab = Vocabulary({**VOCAB.terms, "condition": _terms("condition", ("Urinary tract infectious disease (disorder)",
                                                                          "68566005"))}, (), ())
    uti = plan_record("did she have a urinary tract infection?", patient_id="p1", today=TODAY, vocab=vocab)
    assert uti is not None and uti.terms == ("Urinary tract infectious disease (disorder)",)


def test_a_name_with_words_no_match_holds_is_declined_not_answered() -> None:
    # "passed" is in no description: the match would silently drop it.
    assert plan("has she been diagnosed with passed asthma?").kind == "declined"

