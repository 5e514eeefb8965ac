"""The computed SBAR handover: on the sample's longest record and on a patient who died after a final
emergency or inpatient visit (generated cohort). Nothing says a dead patient is alive, ages are right (at
death for the dead), no social finding is listed as a problem, and every line checks against the record."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from desktop.core.assistant.handover import handover_answer, handover_summary
from desktop.core.assistant.parse import plan_question
from desktop.core.assistant.plan import Plan
from desktop.core.assistant.verify import CONTRADICTED, verify_text
from desktop.core.assistant.verify_record import record_book
from desktop.core.importers import import_paths
from desktop.core.queries.patients import age_years
from desktop.core.queries.summary import PatientNotFound, patient_summary
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import generate_cohort

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample" / "synthea"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("handover")
    generate_cohort(folder, patients=20, years=8, seed=7, wide_rows=0, snapshot=False)
    store = open_store(folder / "ws.duckdb")
    import_paths(store, [folder / "synthea"])
    yield store
    store.close()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(tmp_path_factory.mktemp("sample") / "ws.duckdb")
    import_paths(store, [SAMPLE])
    yield store
    store.close()


def _plan(pid: str) -> Plan:
    return Plan("data", "patient", pid, (), "handover")


def _checked(store: Store, pid: str) -> str:
    """The handover's text, which the verifier (given the record) must find nothing wrong in."""
    answer = handover_answer(store, _plan(pid))
    verdict = verify_text(answer.text, facts=answer.facts, summary=patient_summary(store, pid),
                          record=record_book(store, pid))
    wrong = [(s.text, s.reason) for s in verdict.spans if s.status == CONTRADICTED]
    assert wrong == [], wrong
    return answer.text


def _no_social_problems(text: str, store: Store, pid: str) -> None:
    problems = next(line for line in text.splitlines() if "active problems" in line.lower())
    for (description,) in store.con.execute("SELECT DISTINCT description FROM conditions WHERE patient_id = ?",
                                            [pid]).fetchall():
        if re.search(r"employ|labor force|education|stress|social|criminal|violence|housing|transport|abuse|"
                     r"medication review|risk activity|misuses", description, re.IGNORECASE):
            assert description not in problems


def test_a_patient_who_died_after_a_final_admission(cohort: Store) -> None:
    row = cohort.con.execute(
        "SELECT p.patient_id, p.birth_date, p.death_date, max(e.started_at) FROM patients p JOIN encounters e "
        "USING (patient_id) WHERE p.death_date IS NOT NULL AND e.encounter_class IN ('inpatient', 'emergency') "
        "GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 1").fetchone()
    assert row is not None, "the generated cohort has a patient who died after an emergency or inpatient visit"
    pid, birth, died, admitted = row
    text = _checked(cohort, pid)
    assert f"aged {age_years(birth, died):g} at death" in text
    assert f"died on {died.isoformat()}" in text
    assert re.search(r"\b(alive|currently|is receiving|undergoing)\b", text, re.IGNORECASE) is None
    assert admitted.date().isoformat() in text.split("Background:")[0]   # the final admission, with its date
    recommendation = text.split("Recommendation:")[1]
    assert "died" in recommendation and "review" not in recommendation
    _no_social_problems(text, cohort, pid)


def test_the_samples_longest_record(sample: Store) -> None:
    pid, _n = sample.con.execute("SELECT patient_id, count(*) FROM observations GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
                                ).fetchone()
    h = handover_summary(sample, pid)
    text = _checked(sample, pid)
    sex, birth, died = sample.con.execute("SELECT sex, birth_date, death_date FROM patients WHERE patient_id = ?",
                                          [pid]).fetchone()
    age = age_years(birth, died or date.today())
    assert f"{ {'F': 'female', 'M': 'male'}[sex]}, aged {age:g}" in text
    assert ("Deceased" in text) == (died is not None)
    _no_social_problems(text, sample, pid)
    # Every active medication and current allergy the app's own query gives is in Background.
    for (description,) in sample.con.execute(
            "SELECT description FROM medications WHERE patient_id = ? AND stopped_at IS NULL", [pid]).fetchall():
        assert description in "\n".join(h.background)
    # Latest vitals carry flags with their limit and authority; each reading is dated.
    assessment = "\n".join(h.assessment)
    assert "Latest vital signs:" in assessment and re.search(r"on \d{4}-\d{2}-\d{2}", assessment)
    assert all(rule_named for rule_named in re.findall(r"\((?:above|below) the healthy range; ([^)]*)", assessment))
    assert "NEWS2" in assessment
    # Every figure stated is a fact; every query that ran is listed for "How this was computed".
    answer = handover_answer(sample, _plan(pid))
    assert answer.computed and answer.rows and len(answer.sql) == len(answer.params) >= 5
    assert "SBAR handover" in answer.how_computed()
    for fact in answer.facts:
        if isinstance(fact.value, float) and fact.label != "age":
            assert f"{fact.observed_at[:10]}" in text, fact


def test_the_recommendation_only_names_what_the_record_supports(sample: Store) -> None:
    pid = sample.con.execute("SELECT patient_id FROM observations GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
                             ).fetchone()[0]
    h = handover_summary(sample, pid)
    for line in h.recommendation:
        assert re.search(r"\b(start|stop|increase|decrease|prescribe|refer|give|administer)\b", line, re.IGNORECASE) is None
        for name in re.findall(r"([A-Z][\w -]+?) on \d{4}-\d{2}-\d{2}", line):
            assert name.strip() in "\n".join(h.assessment)


def test_handover_questions_are_planned_as_handovers() -> None:
    today = date(2024, 1, 1)
    for question in ("Summarise this patient for a handover", "SBAR please", "give me a handover",
                     "summarize the patient"):
        plan = plan_question(question, patient_id="p1", today=today)
        assert (plan.kind, plan.operation) == ("data", "handover"), question
        assert "SBAR" in plan.in_words()
    # Summarising one measurement, or the medications, is not a handover.
    assert plan_question("summarise her blood pressure readings", patient_id="p1", today=today).operation != "handover"
    assert plan_question("summarise this patient's medications", patient_id="p1", today=today).operation != "handover"
    # With no patient selected there is nothing to hand over.
    assert plan_question("Summarise this patient for a handover", patient_id=None, today=today).operation != "handover"


def test_an_unknown_patient(cohort: Store) -> None:
    with pytest.raises(PatientNotFound):
        handover_answer(cohort, _plan("no-such-patient"))


def test_every_line_checks_against_the_record_for_the_dead_and_the_longest(sample: Store) -> None:
    pids = [r[0] for r in sample.con.execute(
        "(SELECT patient_id FROM patients WHERE death_date IS NOT NULL) UNION "
        "(SELECT patient_id FROM observations GROUP BY 1 ORDER BY count(*) DESC LIMIT 5)").fetchall()]
    assert len(pids) >= 8
    for pid in pids:
        text = _checked(sample, pid)
        died = sample.con.execute("SELECT death_date FROM patients WHERE patient_id = ?", [pid]).fetchone()[0]
        assert ("at death" in text) == (died is not None)
        _no_social_problems(text, sample, pid)
