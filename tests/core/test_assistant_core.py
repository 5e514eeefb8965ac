"""The assistant's exact path on a real workspace built by the real importer from a messy generated cohort:
the plan a phrasing becomes, and the figures DuckDB returns for it, checked against the CSV files."""

from __future__ import annotations

import csv
import statistics
from datetime import date
from pathlib import Path

import pytest

from desktop.core.assistant.ask import answer_question
from desktop.core.assistant.execute import run_plan
from desktop.core.assistant.parse import plan_question
from desktop.core.assistant.plan import (
    CohortFilter,
    Plan,
    PlanError,
    plan_from_dict,
    plan_json_schema,
    validate_plan,
)
from desktop.core.importers import import_paths
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import generate_cohort

TODAY = date(2024, 6, 1)


@pytest.mark.parametrize(("question", "operation", "codes"), [
    ("What is the highest systolic blood pressure ever recorded?", "max", ("8480-6",)),
    ("what was her peak SBP", "max", ("8480-6",)),
    ("How many heart rate readings are there?", "count", ("8867-4",)),
    ("how often has the pulse been taken", "count", ("8867-4",)),
    ("When was her HbA1c last measured?", "last_date", ("4548-4",)),
    ("What is the latest blood pressure?", "latest", ("8480-6", "8462-4")),
    ("current sats?", "latest", ("59408-5",)),
    ("Is her creatinine normal?", "in_range", ("38483-4",)),
    ("Has his weight changed since 2020?", "change", ("29463-7",)),
    ("lowest eGFR", "min", ("33914-3",)),
    ("average blood sugar in the last 6 months", "mean", ("2339-0",)),
    ("median temperature in 2023", "median", ("8310-5",)),
    ("Show all glucose readings in the last year", "readings", ("2339-0",)),
    ("Was the temperature above 38 in 2023?", "above", ("8310-5",)),
    ("first LDL on record", "first", ("18262-6",)),
])
def test_patient_phrasings_become_plans(question: str, operation: str, codes: tuple[str, ...]) -> None:
    plan = plan_question(question, patient_id="p1", today=TODAY)
    assert (plan.kind, plan.subject, plan.operation, plan.measurements) == ("data", "patient", operation, codes)


@pytest.mark.parametrize(("question", "operation", "condition", "sex"), [
    ("What are the average systolic BP levels for patients with diabetes?", "mean", "diabetes", None),
    ("Which patients are at the highest risk for sepsis based on vitals?", "attention", None, None),
    ("Which patients have a systolic above 160?", "which_patients", None, None),
    ("How many women with hypertension?", "count", "hypertension", "F"),
    ("which patients need attention first", "attention", None, None),
])
def test_workspace_phrasings_become_plans(question: str, operation: str, condition: str | None,
                                          sex: str | None) -> None:
    plan = plan_question(question, patient_id=None, today=TODAY)
    assert (plan.subject, plan.operation, plan.cohort.condition, plan.cohort.sex) == ("workspace", operation,
                                                                                       condition, sex)


def test_general_questions_go_to_the_model() -> None:
    assert plan_question("What does HbA1c measure?", patient_id="p1", today=TODAY).kind == "general"
    assert plan_question("hello, who are you?", patient_id="p1", today=TODAY).kind == "general"


def test_windows_count_back_from_the_given_day() -> None:
    plan = plan_question("average pulse in the last year", patient_id="p1", today=TODAY)
    assert plan.window.start == date(2023, 6, 1) and plan.window.text == "in the last year"
    assert plan_question("sbp in 2021", patient_id="p1", today=TODAY).window.end == date(2022, 1, 1)


def test_model_plans_are_validated() -> None:
    assert plan_from_dict({"kind": "data", "subject": "patient", "patient_id": "p", "measurements": ["8480-6"],
                           "operation": "max"}).operation == "max"
    with pytest.raises(PlanError, match="unknown measurement code"):
        plan_from_dict({"kind": "data", "subject": "patient", "patient_id": "p", "measurements": ["nope"],
                        "operation": "max"})
    with pytest.raises(PlanError, match="not one of"):
        plan_from_dict({"kind": "data", "subject": "patient", "patient_id": "p", "measurements": ["8480-6"],
                        "operation": "attention"})
    schema = plan_json_schema()
    assert "8480-6" in schema["properties"]["measurements"]["items"]["enum"]
    validate_plan(plan_question("lowest eGFR", patient_id="p", today=TODAY))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path]:
    folder = tmp_path_factory.mktemp("cohort")
    generate_cohort(folder, patients=30, years=6, seed=11, wide_rows=0)
    store = open_store(folder / "ws.duckdb")
    import_paths(store, [folder / "synthea"])
    yield store, folder
    store.close()


def _csv_values(folder: Path, patient: str, codes: set[str]) -> list[tuple[str, float]]:
    with open(folder / "synthea" / "observations.csv", newline="", encoding="utf-8") as fh:
        return [(r["DATE"], float(r["VALUE"])) for r in csv.DictReader(fh)
                if r["PATIENT"] == patient and r["CODE"] in codes and r.get("TYPE", "numeric") == "numeric"
                and r["VALUE"] not in ("",)]


def test_patient_figures_match_the_csv(cohort: tuple[Store, Path]) -> None:
    store, folder = cohort
    pid = store.con.execute("SELECT patient_id FROM observations WHERE code = '8480-6' GROUP BY 1 "
                            "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    readings = _csv_values(folder, pid, {"8480-6"})
    answer = answer_question(store, question="highest systolic blood pressure?", patient_id=pid)
    assert answer.computed and answer.facts[0].value == max(v for _, v in readings)
    assert answer.facts[0].flag in ("H", "HH", "N") and "ACC/AHA" in (answer.facts[0].rule or "")
    count = answer_question(store, question="how many systolic readings", patient_id=pid)
    assert f"are {len(readings)} systolic" in count.text
    mean = answer_question(store, question="mean systolic", patient_id=pid)
    assert mean.facts[0].value == pytest.approx(statistics.mean(v for _, v in readings), abs=0.01)
    assert "SELECT" in answer.how_computed() and len(answer.rows) == len(readings)


def test_workspace_answers_carry_the_patients_counted(cohort: tuple[Store, Path]) -> None:
    store, _ = cohort
    answer = answer_question(store, question="how many patients", patient_id=None)
    total, dead = store.con.execute("SELECT count(*), count(death_date) FROM patients").fetchone()
    assert dead > 0  # the messy cohort has deaths: the living are counted by default, and it says so
    assert answer.facts[0].value == total - dead and len(answer.rows) == total - dead
    assert f"{total - dead} living patients; {total} including {dead} who ha" in answer.text
    everyone = answer_question(store, question="how many patients, including the deceased?", patient_id=None)
    assert everyone.facts[0].value == total and len(everyone.rows) == total
    ranked = answer_question(store, question="which patients need attention first?", patient_id=None)
    assert ranked.computed and ranked.columns[0] == "patient_id"
    assert ranked.table_csv().splitlines()[0].startswith("patient_id,name,news2")
    general = answer_question(store, question="what is sepsis?", patient_id=None)
    assert not general.computed and "no patient is selected" in general.text


def test_listing_a_group_without_a_measurement_lists_the_group(cohort: tuple[Store, Path]) -> None:
    # It used to raise IndexError inside run_plan: a which_patients plan with a group and no measurement.
    store, _ = cohort
    women = [r[0] for r in store.con.execute("SELECT patient_id FROM patients WHERE sex = 'F' AND death_date IS NULL "
                                             "ORDER BY 1").fetchall()]
    answer = run_plan(store, validate_plan(Plan("data", "workspace", None, (), "which_patients",
                                                cohort=CohortFilter(sex="F"))))
    assert answer.computed and [r[0] for r in answer.rows] == women  # the living, by default (contracts.md 1)
    assert answer.text.startswith(f"{len(women)} living women")
    with pytest.raises(PlanError, match="needs a measurement or a group"):
        validate_plan(Plan("data", "workspace", None, (), "which_patients"))


def test_a_missing_measurement_is_said_not_invented(cohort: tuple[Store, Path]) -> None:
    store, _ = cohort
    pid = store.con.execute("SELECT patient_id FROM patients ORDER BY patient_id LIMIT 1").fetchone()[0]
    # Troponin is not a measurement the catalog knows: a look-up of it is declined, never the model's guess.
    answer = answer_question(store, question="latest troponin?", patient_id=pid)
    assert answer.computed and answer.declined and not answer.facts
    # Held by the workspace, but not in that year for this patient: said so.
    answer = answer_question(store, question="latest systolic blood pressure in 1900", patient_id=pid)
    assert answer.text.startswith("The record has no systolic blood pressure readings in 1900"), answer.text
    # Held by no patient at all: the workspace does not hold it (declined), not "this patient has none".
    held = store.con.execute("SELECT count(*) FROM observations WHERE code = '1558-6'").fetchone()[0]
    answer = answer_question(store, question="latest fasting glucose in 1990", patient_id=pid)
    if held:
        assert answer.text.startswith("The record has no fasting glucose readings in 1990")
    else:
        assert answer.declined and answer.text.startswith("The record does not hold fasting glucose readings")


def test_cli_answers_a_workspace_question_without_a_patient_and_saves_it(cohort: tuple[Store, Path],
                                                                          tmp_path: Path) -> None:
    import json
    import shutil
    import subprocess
    import sys

    store, folder = cohort
    store.con.execute("CHECKPOINT")
    copy = tmp_path / "copy.duckdb"
    shutil.copy(folder / "ws.duckdb", copy)
    run = subprocess.run([sys.executable, "-m", "desktop", "chat", "--workspace", str(copy), "--json",
                          "how many patients have diabetes?"], capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["computed"] and out["plan"]["subject"] == "workspace" and "SELECT" in out["sql"][0]
    assert out["facts"][0]["value"] == len(out["rows"])
    with open_store(copy) as saved:
        rows = saved.con.execute("SELECT role, model FROM messages ORDER BY message_id").fetchall()
    assert rows == [("user", None), ("assistant", "computed from the workspace (DuckDB)")]
