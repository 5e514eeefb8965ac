"""The deterministic parser over many phrasings per kind. The "held-out" lists were written after the parser
and never tuned against; a phrasing there that fails is a parser bug, not a test to edit."""

from __future__ import annotations

from datetime import date

import pytest

from desktop.core.assistant.parse import find_measurements, plan_question

TODAY = date(2024, 6, 1)

PATIENT = [
    ("what's her most recent blood pressure", "latest"), ("BP now?", "latest"), ("latest weight please", "latest"),
    ("give me the last recorded pulse", "latest"), ("what was the heart rate at the last visit?", "latest"),
    ("max systolic", "max"), ("what's the highest her sugar has been", "max"), ("tallest height recorded", "max"),
    ("lowest sats ever", "min"), ("what was the minimum temperature in 2022", "min"),
    ("how many A1c results does she have", "count"), ("count the weight measurements", "count"),
    ("how many times has bmi been recorded", "count"),
    ("mean heart rate since 2020", "mean"), ("average diastolic over the past 2 years", "mean"),
    ("on average, what is his pulse?", "mean"),
    ("median glucose", "median"), ("what is the median systolic since 2019", "median"),
    ("how has her weight changed?", "change"), ("is the eGFR trending down", "change"), ("has the BMI gone up", "change"),
    ("first recorded temperature", "first"), ("initial HbA1c", "first"), ("earliest creatinine value", "first"),
    ("when did she last have her cholesterol checked", "last_date"), ("date of last HbA1c", "last_date"),
    ("when was the potassium last taken?", "last_date"),
    ("list all her blood pressure readings", "readings"), ("show me every glucose value since 2021", "readings"),
    ("what were the temperatures in 2023?", "readings"),
    ("is the potassium normal?", "in_range"), ("is her sodium out of range", "in_range"),
    ("is his BMI too high?", "in_range"), ("is the heart rate abnormal", "in_range"),
    ("was the temperature ever above 38?", "above"), ("any glucose readings over 200?", "above"),
    ("how many systolic readings above 140", "above"),
    ("were there sats below 92?", "below"), ("any heart rate under 50", "below"),
    ("how many potassium values less than 3.5", "below"),
]

HELD_OUT_PATIENT = [
    ("What's the most recent SpO2?", "latest", "59408-5"),
    ("peak temperature this year", "max", "8310-5"),
    ("how often was her weight taken since 2020", "count", "29463-7"),
    ("typical resting pulse", "mean", "8867-4"),
    ("is her A1c improving?", "change", "4548-4"),
    ("baseline eGFR", "first", "33914-3"),
    ("When was LDL last checked?", "last_date", "18262-6"),
    ("is the creatinine elevated", "in_range", "38483-4"),
    ("did the temperature exceed 38.5 in 2023", "above", "8310-5"),
    ("were any potassium results lower than 3.5?", "below", "6298-4"),
    ("average weight across all readings", "mean", "29463-7"),  # "across" alone does not mean the workspace
    ("was he ever febrile above 38", "above", "8310-5"),
    ("Is the A1c above target?", "in_range", "4548-4"),
    ("show me the weights", "readings", "29463-7"),
    ("show the latest sats", "latest", "59408-5"),
]


@pytest.mark.parametrize(("question", "operation"), PATIENT)
def test_patient_phrasings(question: str, operation: str) -> None:
    plan = plan_question(question, patient_id="p1", today=TODAY)
    assert (plan.kind, plan.subject, plan.operation) == ("data", "patient", operation)
    assert plan.measurements


@pytest.mark.parametrize(("question", "operation", "code"), HELD_OUT_PATIENT)
def test_held_out_patient_phrasings(question: str, operation: str, code: str) -> None:
    plan = plan_question(question, patient_id="p1", today=TODAY)
    assert (plan.kind, plan.operation, plan.measurements[0]) == ("data", operation, code)


WORKSPACE = [
    ("how many patients are there?", "count", None, None),
    ("how many patients with hypertension", "count", "hypertension", None),
    ("count the women with diabetes", "count", "diabetes", "F"),
    ("How many patients have diabetes?", "count", "diabetes", None),
    ("how many men have hypertension?", "count", "hypertension", "M"),
    ("how many patients aged over 65 have hypertension", "count", "hypertension", None),
    ("how many people have asthma", "count", "asthma", None),
    ("average BMI of patients with obesity", "mean", "obesity", None),
    ("what's the mean heart rate across all patients", "mean", None, None),
    ("median systolic for men", "median", None, "M"),
    ("highest glucose among patients with diabetes", "max", "diabetes", None),
    ("lowest sats across the cohort", "min", None, None),
    ("which patients have a heart rate over 100", "which_patients", None, None),
    ("who has a systolic above 180?", "which_patients", None, None),
    ("how many patients have a systolic above 140?", "which_patients", None, None),
    ("list patients with diabetes", "which_patients", "diabetes", None),
    ("which patients have an abnormal potassium", "which_patients", None, None),
    ("which patients are deteriorating", "attention", None, None),
    ("who should I see first?", "attention", None, None),
    ("patients with sbp below 90", "which_patients", None, None),
]


@pytest.mark.parametrize(("question", "operation", "condition", "sex"), WORKSPACE)
def test_workspace_phrasings(question: str, operation: str, condition: str | None, sex: str | None) -> None:
    plan = plan_question(question, patient_id=None, today=TODAY)
    assert (plan.kind, plan.subject, plan.operation) == ("data", "workspace", operation)
    assert (plan.cohort.condition, plan.cohort.sex) == (condition, sex)


def test_a_threshold_and_an_age_are_told_apart() -> None:
    plan = plan_question("how many patients aged over 65 have hypertension", patient_id=None, today=TODAY)
    assert plan.cohort.age_min == 66 and plan.threshold is None  # completed years: over 65 is 66 or more
    assert plan_question("patients aged 65 or over", patient_id=None, today=TODAY).cohort.age_min == 65
    assert plan_question("how many patients younger than 18", patient_id=None, today=TODAY).cohort.age_max == 17
    assert plan_question("how many patients aged 40 to 60", patient_id=None, today=TODAY).cohort.age_max == 60
    plan = plan_question("which patients have a systolic above 160?", patient_id=None, today=TODAY)
    assert (plan.threshold, plan.comparison, plan.cohort.age_min) == (160, "above", None)


def test_windows() -> None:
    assert plan_question("mean pulse since 2020", patient_id="p", today=TODAY).window.start == date(2020, 1, 1)
    plan = plan_question("average diastolic over the past 2 years", patient_id="p", today=TODAY)
    assert plan.window.start == date(2022, 6, 1) and plan.window.end is None
    plan = plan_question("what was the heart rate at the last visit?", patient_id="p", today=TODAY)
    assert plan.window.last_visit and plan.operation == "latest"


def test_plurals_name_measurements_but_short_codes_do_not_grow() -> None:
    assert find_measurements("what were the temperatures") == ("8310-5",)
    assert find_measurements("in the last 24 hrs") == ()  # "hrs" is hours, not heart rates


@pytest.mark.parametrize("question", ["What does HbA1c measure?", "what is sepsis?", "hello", "thanks!",
                                      "what is a normal heart rate?"])
def test_not_data_questions_go_to_the_model(question: str) -> None:
    assert plan_question(question, patient_id="p1", today=TODAY).kind == "general"
