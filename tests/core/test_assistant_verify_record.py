"""The verifier on record claims in a model's prose: diagnoses, drugs, visits, procedures, vaccines,
allergies, counts of events, alive or dead, and a leading Yes/No, checked against a messy generated cohort
(the sentences are those the issue saw the real model write)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from desktop.core.assistant.verify import CONTRADICTED, UNVERIFIED, VERIFIED, StreamingVerifier, verify_text
from desktop.core.assistant.verify_record import RecordBook, record_book
from desktop.core.clinical.social_findings import is_social_finding
from desktop.core.importers import import_paths
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import generate_cohort


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder: Path = tmp_path_factory.mktemp("verify_record")
    generate_cohort(folder, patients=20, years=8, seed=7, wide_rows=0, snapshot=False)
    store = open_store(folder / "ws.duckdb")
    import_paths(store, [folder / "synthea"])
    yield store
    store.close()


def _dead(store: Store) -> str:
    row = store.con.execute("SELECT patient_id FROM patients WHERE death_date IS NOT NULL ORDER BY patient_id").fetchone()
    assert row is not None, "the generated cohort has a patient who died"
    return str(row[0])


def _busiest_living(store: Store) -> str:
    row = store.con.execute(
        "SELECT p.patient_id FROM patients p JOIN encounters e USING (patient_id) WHERE p.death_date IS NULL "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
    assert row is not None
    return str(row[0])


def _spans(text: str, store: Store, pid: str, *, with_record: bool = True) -> dict[str, tuple[str, str, str]]:
    verdict = verify_text(text, summary=patient_summary(store, pid),
                          record=record_book(store, pid) if with_record else None)
    return {s.text: (s.status, s.kind, s.reason) for s in verdict.spans}


def _diagnosis_never_held(store: Store, pid: str) -> str:
    """A diagnosis the workspace knows (someone has it) that this patient never had."""
    rows = store.con.execute(
        "SELECT DISTINCT description FROM conditions WHERE description NOT IN "
        "(SELECT description FROM conditions WHERE patient_id = ?) ORDER BY 1", [pid]).fetchall()
    names = [r[0] for r in rows if not is_social_finding(r[0]) and "(disorder)" in r[0] and "pregnan" not in r[0].lower()]
    held = {d.lower() for (d,) in store.con.execute("SELECT description FROM conditions WHERE patient_id = ?", [pid]).fetchall()}
    for name in names:
        word = name.split(" (")[0].split()[-1].lower()
        if not any(word in h for h in held):
            return name.split(" (")[0]
    raise AssertionError("every diagnosis of the workspace is this patient's")


def test_a_diagnosis_the_patient_never_had_is_contradicted_with_its_yes(workspace: Store) -> None:
    pid = _busiest_living(workspace)
    text = f"Yes, patient {pid} has been diagnosed with prediabetes."
    held = workspace.con.execute("SELECT count(*) FROM conditions WHERE patient_id = ? AND lower(description) "
                                 "LIKE '%prediabetes%'", [pid]).fetchone()[0]
    spans = _spans(text, workspace, pid)
    expected = VERIFIED if held else CONTRADICTED
    assert spans["prediabetes"][:2] == (expected, "diagnosis")
    assert spans["Yes"][:2] == (expected, "answer")
    never = _diagnosis_never_held(workspace, pid)
    spans = _spans(f"The patient was diagnosed with {never}.", workspace, pid)
    assert spans[never][0] == CONTRADICTED and "no diagnosis" in spans[never][2]
    # Said the other way round, the same fact is verified, and so is the "No" it answers with.
    spans = _spans(f"No, she has never been diagnosed with {never}.", workspace, pid)
    assert spans[never][0] == VERIFIED and spans["No"][0] == VERIFIED


def test_a_diagnosis_the_patient_has_is_verified_and_its_year_checked(workspace: Store) -> None:
    pid, description, onset = workspace.con.execute(
        "SELECT patient_id, description, onset FROM conditions WHERE description LIKE '%(disorder)' "
        "ORDER BY onset DESC, patient_id LIMIT 1").fetchone()
    name = description.split(" (")[0]
    spans = _spans(f"The patient was diagnosed with {name} in {onset.year}.", workspace, pid)
    assert spans[name][0] == VERIFIED and onset.isoformat() in spans[name][2]
    years = {r[0].year for r in workspace.con.execute(
        "SELECT onset FROM conditions WHERE patient_id = ? AND description = ?", [pid, description]).fetchall()}
    wrong = next(y for y in range(onset.year - 1, 1990, -1) if y not in years)
    spans = _spans(f"She was first diagnosed with {name} in {wrong}.", workspace, pid)
    assert spans[name][0] == CONTRADICTED and f"none in {wrong}" in spans[name][2]


def test_drugs_are_checked_against_the_prescriptions(workspace: Store) -> None:
    pid, description, started = workspace.con.execute(
        "SELECT patient_id, description, started_at FROM medications ORDER BY started_at, patient_id LIMIT 1").fetchone()
    ingredient = description.split()[0] if not description[0].isdigit() else description.split()[2]
    spans = _spans(f"The patient was prescribed {ingredient} on {started.date().isoformat()}.", workspace, pid)
    assert spans[ingredient][:2] == (VERIFIED, "medication")
    taken = " ".join(d.lower() for (d,) in workspace.con.execute(
        "SELECT description FROM medications WHERE patient_id = ?", [pid]).fetchall())
    drug = next(d for d in ("nitrofurantoin", "amlodipine", "warfarin") if d not in taken)
    spans = _spans(f"Yes, patient {pid} has been prescribed {drug} since 2021.", workspace, pid)
    assert spans[drug][:2] == (CONTRADICTED, "medication") and spans["Yes"][0] == CONTRADICTED


def test_counts_of_visits_and_visit_classes(workspace: Store) -> None:
    pid = _busiest_living(workspace)
    total, = workspace.con.execute("SELECT count(*) FROM encounters WHERE patient_id = ?", [pid]).fetchone()
    # The issue: "count the visits of patient X in 2016" got "a total of 2016 visits".
    spans = _spans("The patient had a total of 2016 visits.", workspace, pid)
    assert spans["2016"][:2] == (CONTRADICTED, "count") and f"{total} visits" in spans["2016"][2]
    assert _spans(f"The patient had {total} visits in all.", workspace, pid)[str(total)][0] == VERIFIED
    year, n = workspace.con.execute(
        "SELECT year(started_at), count(*) FROM encounters WHERE patient_id = ? GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
        [pid]).fetchone()
    assert _spans(f"She had {n} visits in {year}.", workspace, pid)[str(n)][0] == VERIFIED
    assert _spans(f"She had {n + 3} visits in {year}.", workspace, pid)[str(n + 3)][0] == CONTRADICTED
    # "has patient X been to an emergency room in 2016?" got "Yes" with no such visit.
    er_years = {r[0] for r in workspace.con.execute(
        "SELECT year(started_at) FROM encounters WHERE patient_id = ? AND encounter_class = 'emergency'", [pid]).fetchall()}
    no_er = next(y for y in range(2024, 1990, -1) if y not in er_years)
    spans = _spans(f"Yes, the patient has been to an emergency room in {no_er}.", workspace, pid)
    assert spans["emergency room"][:2] == (CONTRADICTED, "visit") and spans["Yes"][0] == CONTRADICTED
    if er_years:
        spans = _spans(f"He went to the emergency department in {max(er_years)}.", workspace, pid)
        assert spans["emergency department"][0] == VERIFIED


def test_a_dead_patient_is_not_alive_or_undergoing_treatment(workspace: Store) -> None:
    pid = _dead(workspace)
    died = workspace.con.execute("SELECT death_date FROM patients WHERE patient_id = ?", [pid]).fetchone()[0]
    summary = patient_summary(workspace, pid)
    # The handover the issue saw, for a woman who had died.
    text = ("The patient is a 20-year-old male female, currently undergoing treatment for COVID-19 and was referred "
            "to the hospital's acute respiratory distress syndrome unit, receiving a transplant of bone marrow from a "
            "donor who was diagnosed with sickle cell disease.")
    verdict = verify_text(text, summary=summary, record=record_book(workspace, pid))
    by_text = {s.text: s for s in verdict.spans}
    assert by_text["currently"].status == CONTRADICTED and died.isoformat() in by_text["currently"].reason
    assert by_text["20-year-old"].status == CONTRADICTED
    for invented in ("acute respiratory distress syndrome", "transplant", "sickle cell disease"):
        assert by_text[invented].status == CONTRADICTED, invented
    assert _spans("She is alive and well.", workspace, pid)["is alive"][0] == CONTRADICTED
    assert _spans(f"The patient died on {died.isoformat()}.", workspace, pid)["died"][0] == VERIFIED
    living = _busiest_living(workspace)
    assert _spans("The patient has died.", workspace, living)["has died"][0] == CONTRADICTED
    # The summary alone (no record given) knows the death too.
    assert _spans("He is currently stable.", workspace, pid, with_record=False)["currently"][0] == CONTRADICTED


def test_data_the_record_does_not_hold_is_contradicted(workspace: Store) -> None:
    pid = _busiest_living(workspace)
    spans = _spans("The organism was Mycobacterium 7.", workspace, pid)
    assert spans["organism"][0] == spans["Mycobacterium"][0] == CONTRADICTED
    assert "microbiology" in spans["organism"][2]
    assert _spans("Her blood type is A.", workspace, pid)["blood type"][0] == CONTRADICTED
    # A decline is not a claim.
    assert "blood type" not in _spans("The record does not hold her blood type.", workspace, pid)


def test_allergies_immunizations_and_procedures(workspace: Store) -> None:
    pid, substance = workspace.con.execute(
        "SELECT patient_id, description FROM allergies WHERE description NOT LIKE 'Allergy to%' ORDER BY 1 LIMIT 1"
    ).fetchone()
    word = substance.split(" (")[0].split()[0]
    assert _spans(f"She is allergic to {word}.", workspace, pid)[word][:2] == (VERIFIED, "allergy")
    assert _spans("She has no known allergies.", workspace, pid)["no known allergies"][0] == CONTRADICTED
    none = workspace.con.execute("SELECT patient_id FROM patients WHERE patient_id NOT IN "
                                 "(SELECT patient_id FROM allergies) ORDER BY 1 LIMIT 1").fetchone()[0]
    assert _spans("He has no known allergies.", workspace, none)["no known allergies"][0] == VERIFIED
    assert _spans("She is allergic to peanuts.", workspace, none)["peanuts"][0] == CONTRADICTED
    pid = workspace.con.execute("SELECT patient_id FROM immunizations GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
                                ).fetchone()[0]
    n, = workspace.con.execute("SELECT count(*) FROM immunizations WHERE patient_id = ?", [pid]).fetchone()
    assert _spans(f"The patient received {n} immunizations.", workspace, pid)[str(n)][0] == VERIFIED
    assert _spans(f"The patient received {n + 5} immunizations.", workspace, pid)[str(n + 5)][0] == CONTRADICTED
    assert _spans("She underwent dialysis.", workspace, pid)["dialysis"][:2] == (CONTRADICTED, "procedure")


def test_without_a_record_claims_are_marked_unverified_never_passed(workspace: Store) -> None:
    pid = _busiest_living(workspace)
    spans = _spans("Yes, the patient has been diagnosed with prediabetes and takes metformin.", workspace, pid,
                   with_record=False)
    assert spans["prediabetes"][0] == UNVERIFIED and spans["metformin"][0] == UNVERIFIED
    assert spans["Yes"][0] == UNVERIFIED
    # General knowledge states nothing about this record.
    assert verify_text("Hypertension is a common condition in older adults.",
                       record=record_book(workspace, pid)).spans == []


def test_streaming_gives_the_same_record_verdict(workspace: Store) -> None:
    pid = _dead(workspace)
    summary, record = patient_summary(workspace, pid), record_book(workspace, pid)
    text = ("Yes, the patient has been diagnosed with prediabetes. She had a total of 2016 visits. The organism was "
            "Mycobacterium. She is currently undergoing treatment.\nShe has no known allergies.")
    whole = verify_text(text, summary=summary, record=record)
    assert whole.counts()[CONTRADICTED] >= 5
    for size in (1, 5, 40):
        verifier = StreamingVerifier(summary=summary, record=record)
        seen = []
        for i in range(0, len(text), size):
            seen += verifier.feed(text[i:i + size])
        seen += verifier.finish()
        assert seen == whole.spans


def test_the_record_book_is_plain_data(workspace: Store) -> None:
    pid = _dead(workspace)
    book = record_book(workspace, pid)
    assert isinstance(book, RecordBook) and book.death is not None and book.death <= date.today()
    assert {e.kind for e in book.events} >= {"diagnosis", "visit"}
    assert "prediabetes" in book.vocabulary and "sickle cell disease" in book.vocabulary
    with pytest.raises(LookupError):
        record_book(workspace, "no-such-patient")


def test_doses_first_times_and_ages_on_a_date(workspace: Store) -> None:
    pid, description, _started = workspace.con.execute(
        "SELECT patient_id, description, started_at FROM medications WHERE regexp_matches(description, '^[A-Za-z]') "
        "AND regexp_matches(description, ' [0-9]+ MG ') ORDER BY started_at, patient_id LIMIT 1").fetchone()
    ingredient = description.split()[0]
    strength = next(w for w in description.split() if w.isdigit())
    spans = _spans(f"She was prescribed {ingredient} {strength} mg.", workspace, pid)
    assert spans[ingredient][0] == VERIFIED and spans[f"{strength} mg"][:2] == (VERIFIED, "dose")
    wrong = str(int(strength) * 3 + 1)
    assert _spans(f"She was prescribed {ingredient} {wrong} mg.", workspace, pid)[f"{wrong} mg"][0] == CONTRADICTED
    # "When was the first time ... diagnosed with X?": the first episode's year, not any episode's.
    row = workspace.con.execute(
        "SELECT patient_id, description, min(onset), max(onset) FROM conditions WHERE description LIKE '%(disorder)' "
        "GROUP BY 1, 2 HAVING year(min(onset)) < year(max(onset)) ORDER BY 1, 2 LIMIT 1").fetchone()
    assert row is not None, "the cohort has a patient with a recurring diagnosis"
    pid2, condition, first, last = row
    name = condition.split(" (")[0]
    assert _spans(f"She was first diagnosed with {name} in {first.year}.", workspace, pid2)[name][0] == VERIFIED
    assert _spans(f"She was first diagnosed with {name} in {last.year}.", workspace, pid2)[name][0] == CONTRADICTED
    # "How old was patient X on 2019-06-01?"
    living = _busiest_living(workspace)
    birth = workspace.con.execute("SELECT birth_date FROM patients WHERE patient_id = ?", [living]).fetchone()[0]
    day = date(birth.year + 40, 6, 1)
    right = 40 if (6, 1) >= (birth.month, birth.day) else 39
    assert _spans(f"The patient was {right} years old on {day.isoformat()}.", workspace, living)[
        f"{right} years old"][0] == VERIFIED
    assert _spans(f"The patient was {right + 2} years old on {day.isoformat()}.", workspace, living)[
        f"{right + 2} years old"][0] == CONTRADICTED


def test_a_computed_answers_own_counts_and_names_are_not_marked(workspace: Store) -> None:
    from desktop.core.assistant.answer import Fact

    facts = [Fact("number of visits", 12.0), Fact("Hypertension", "Hypertension", "", "2020-01-01")]
    verdict = verify_text("The patient had 12 visits and was diagnosed with hypertension.", facts=facts)
    assert {s.text: s.status for s in verdict.spans} == {"12": VERIFIED, "hypertension": VERIFIED}


def test_an_age_now_beside_another_date_is_judged_as_the_age_now(workspace: Store) -> None:
    pid = _busiest_living(workspace)
    summary = patient_summary(workspace, pid)
    age = int(summary["patient"]["age"])  # type: ignore[index]
    spans = _spans(f"The patient is {age} years old; the last visit was on 2020-03-01.", workspace, pid)
    assert spans[f"{age} years old"][0] == VERIFIED


def test_general_knowledge_is_not_a_claim_about_the_record(workspace: Store) -> None:
    record = record_book(workspace, _busiest_living(workspace))
    for text in ("Diabetes affects how the body uses glucose.",
                 "Treatment of hypertension includes lifestyle changes and medications such as amlodipine.",
                 "Patients with asthma should carry an inhaler.",
                 "Taking metformin can cause stomach upset."):
        assert [s for s in verify_text(text, record=record).spans if s.kind != "number"] == [], text


def test_the_patient_verifier_reads_summary_and_record_in_one_go(workspace: Store) -> None:
    from desktop.core.assistant.verify_patient import patient_verifier, verify_for_patient

    pid = _dead(workspace)
    verdict = verify_for_patient(workspace, "Yes, she is currently alive and has prediabetes.", patient_id=pid)
    assert {s.text: s.status for s in verdict.spans}["Yes"] == CONTRADICTED
    verifier = patient_verifier(workspace, pid)
    assert verifier.subject.record is not None and verifier.book.sex is not None
    assert patient_verifier(workspace, None).subject.record is None


def test_a_diagnosis_named_as_a_value_must_be_one_the_record_holds(workspace: Store) -> None:
    pid, description, onset = workspace.con.execute(
        "SELECT patient_id, description, onset FROM conditions WHERE description LIKE '%(disorder)' "
        "ORDER BY onset DESC, patient_id LIMIT 1").fetchone()
    # The issue: "the last diagnosis in 2013" answered with a reference range's rule text.
    spans = _spans(f"The last diagnosis in {onset.year} was 'H: >= 25 kg/m2, WHO TRS 894'.", workspace, pid)
    assert spans["H: >= 25 kg/m2, WHO TRS 894"][:2] == (CONTRADICTED, "diagnosis")
    name = description.split(" (")[0]
    spans = _spans(f"The last diagnosis in {onset.year} was {name.lower()}.", workspace, pid)
    assert spans[name.lower()][0] == VERIFIED
