"""The executor on a real workspace built by the real importer from a messy generated cohort: answers state
value, unit, date, flag and rule; text values, children and two-part blood pressure; every answer is
serialisable and says how it was computed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from desktop.core.assistant.ask import answer_question
from desktop.core.assistant.execute import run_plan
from desktop.core.assistant.plan import Plan
from desktop.core.importers import import_paths
from desktop.core.queries.summary import PatientNotFound
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import generate_cohort


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder: Path = tmp_path_factory.mktemp("execute")
    generate_cohort(folder, patients=25, years=6, seed=8, wide_rows=0, extra_files=False)
    s = open_store(folder / "ws.duckdb")
    import_paths(s, [folder / "synthea"])
    yield s
    s.close()


def _patient_with(store: Store, code: str, adult: bool | None = None) -> str:
    age = "date_sub('year', p.birth_date, o.observed_at::DATE)"
    where = "" if adult is None else f" AND {age} {'>=' if adult else '<'} 18"
    row = store.con.execute(
        f"SELECT o.patient_id FROM observations o JOIN patients p USING (patient_id) WHERE o.code = ?{where} "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", [code]).fetchone()
    if row is None:
        pytest.fail(f"the generated cohort has no patient with {code} (adult={adult}); choose another seed")
    return row[0]


def test_blood_pressure_is_both_parts_with_flags_and_rules(store: Store) -> None:
    pid = _patient_with(store, "8480-6", adult=True)
    answer = answer_question(store, question="What is the latest blood pressure?", patient_id=pid)
    systolic, diastolic = answer.facts[0], answer.facts[1]
    assert (systolic.label, diastolic.label) == ("Systolic blood pressure", "Diastolic blood pressure")
    newest = store.con.execute("SELECT max(observed_at) FROM observations WHERE patient_id = ? AND code = '8480-6'",
                               [pid]).fetchone()[0]
    assert systolic.observed_at == newest.isoformat()
    assert systolic.unit == "mm[Hg]" and systolic.flag in ("N", "H", "HH", "L", "LL") and "ACC/AHA" in (systolic.rule or "")
    assert f"{systolic.value:g}" in answer.text and newest.date().isoformat() in answer.text


def test_text_values_are_stated_not_judged(store: Store) -> None:
    row = store.con.execute("SELECT patient_id FROM observations WHERE code = '80288-4' LIMIT 1").fetchone()
    if row is None:
        pytest.fail("the generated cohort has no ACVPU rows")
    answer = answer_question(store, question="is the level of consciousness normal?", patient_id=row[0])
    assert isinstance(answer.facts[0].value, str) and answer.facts[0].flag is None
    assert "text value" in answer.text and "not judged" in answer.text


def test_a_childs_reading_is_not_flagged_against_adult_ranges(store: Store) -> None:
    pid = _patient_with(store, "8867-4", adult=False)
    answer = answer_question(store, question="first heart rate on record", patient_id=pid)
    fact = answer.facts[0]
    # Issue 20: a child's heart rate is judged by Fleming 2011's centiles for the age, never the adult range.
    assert "aged" in (fact.rule or "") and "Fleming" in (fact.rule or "") and "MedlinePlus" not in (fact.rule or "")


def test_abnormal_which_patients_carry_their_flags(store: Store) -> None:
    answer = answer_question(store, question="which patients have an abnormal heart rate?", patient_id=None)
    assert answer.plan.comparison == "abnormal" and answer.columns[-1] == "flag"
    assert all(row[-1] not in (None, "N") for row in answer.rows)
    assert answer.facts[0].value == len(answer.rows)


def test_a_window_narrows_the_rows(store: Store) -> None:
    pid = _patient_with(store, "8867-4", adult=True)
    year = store.con.execute("SELECT year(max(observed_at)) FROM observations WHERE patient_id = ? AND code = '8867-4'",
                             [pid]).fetchone()[0]
    answer = answer_question(store, question=f"how many pulse readings in {year}?", patient_id=pid)
    in_year = store.con.execute("SELECT count(*) FROM observations WHERE patient_id = ? AND code = '8867-4' "
                                "AND year(observed_at) = ?", [pid, year]).fetchone()[0]
    assert answer.facts[0].value == in_year == len(answer.rows)
    assert answer.plan.window.start == date(year, 1, 1) and date(year, 1, 1) in answer.params[0]


def test_answers_serialise_and_say_how_they_were_computed(store: Store) -> None:
    pid = _patient_with(store, "8480-6", adult=True)
    for question, who in (("highest systolic since 2020", pid), ("mean BMI for patients with obesity", None),
                          ("which patients need attention first?", None)):
        answer = answer_question(store, question=question, patient_id=who)
        data = json.loads(json.dumps(answer.to_dict()))
        assert data["computed"] and data["plan"]["kind"] == "data" and data["facts"]
        how = answer.how_computed()
        assert how.startswith("Plan: ") and "Rows used:" in how
        assert answer.table_csv().splitlines()[0] == ",".join(answer.columns)


def test_an_unknown_patient_is_an_error_not_an_empty_answer(store: Store) -> None:
    with pytest.raises(PatientNotFound):
        run_plan(store, Plan("data", "patient", "nobody", ("8480-6",), "latest"))


def test_every_plan_validation_accepts_runs_without_raising(store: Store) -> None:
    # The model writes plans the parser never would (a which_patients with only a group used to raise
    # IndexError inside run_plan). Every plan validate_plan lets through must run to an answer.
    import itertools

    from desktop.core.assistant.plan import (
        COHORT_OPERATIONS,
        PATIENT_OPERATIONS,
        CohortFilter,
        PlanError,
        TimeWindow,
        validate_plan,
    )

    pid = _patient_with(store, "8480-6")
    ran = 0
    for subject, ops in (("patient", PATIENT_OPERATIONS), ("workspace", COHORT_OPERATIONS)):
        for op, codes, threshold, comparison, cohort, window in itertools.product(
                ops, ((), ("8480-6",), ("8480-6", "8462-4"), ("33914-3",)), (None, 140.0),
                (None, "above", "below", "abnormal"), (CohortFilter(), CohortFilter("diabetes", "F")),
                (TimeWindow(), TimeWindow(start=date(2020, 1, 1), text="since 2020"))):
            if subject == "patient" and (cohort != CohortFilter() or comparison == "abnormal"):
                continue
            plan = Plan("data", subject, pid if subject == "patient" else None, codes, op, threshold, comparison,
                        window, cohort)
            try:
                validate_plan(plan)
            except PlanError:
                continue
            answer = run_plan(store, plan)
            assert answer.text, plan
            ran += 1
    assert ran > 300
