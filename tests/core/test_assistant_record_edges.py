"""Record questions at the edges of the plan language: what no plan reads is declined, never sent to the model's
prose; workspace counts by a procedure or a vaccine. Expected answers come from the CSV files (pandas)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from desktop.core.assistant.ask import answer_question
from desktop.core.workspace.store import Store


def test_a_question_about_this_patient_that_no_plan_reads_is_declined_not_sent_to_prose(
        world: tuple[Store, dict[str, pd.DataFrame], Path]) -> None:
    """Nothing is guessed about a patient: a record question no plan can read is declined in one sentence,
    while knowledge and interpretation still go to the model, and "how is she doing?" is computed."""
    store, frames, _ = world
    pid = frames["patients"]["Id"].iloc[0]
    for question in ("what is the current PEEP setting on her ventilator?", "has she completed the travel form?",
                     f"has patient {pid} completed a travel form?"):
        answer = answer_question(store, question=question, patient_id=pid)
        assert answer.computed and answer.declined and not answer.facts, (question, answer.text)
    for question in ("what does HbA1c measure?", "is she at risk of a stroke?"):
        answer = answer_question(store, question=question, patient_id=pid)
        assert not answer.computed and not answer.declined, (question, answer.text)
    assert answer_question(store, question="how is she doing?", patient_id=pid).plan.operation == "handover"
    meaning = answer_question(store, question="what does her latest HbA1c mean?", patient_id=pid)
    assert meaning.plan.operation != "mean"   # "what does it mean" is not an average


def test_workspace_counts_by_procedure_and_by_vaccine_in_a_year(world) -> None:  # type: ignore[no-untyped-def]
    """Patients who had a procedure or were given a vaccine (in a year), the living counted and the dead said;
    expected from the CSV files with pandas."""
    store, frames, _ = world
    living = set(frames["patients"].loc[frames["patients"]["DEATHDATE"] == "", "Id"])
    for table, noun in (("procedures", "procedure"), ("immunizations", "vaccine")):
        rows = frames[table]
        name = rows["DESCRIPTION"].value_counts().index[0]
        year = int(rows.loc[rows["DESCRIPTION"] == name, "DATE" if table == "immunizations" else "START"]
                   .str[:4].value_counts().index[0])
        when = rows["DATE" if table == "immunizations" else "START"].str[:4] == str(year)
        who = set(rows.loc[(rows["DESCRIPTION"] == name) & when, "PATIENT"])
        words = re.sub(r"\s*\([^()]*\)\s*$", "", name).lower()
        answer = answer_question(store, question=f"how many patients had the {words} {noun} in {year}?",
                                 patient_id=None)
        assert answer.computed and not answer.declined, answer.text
        assert answer.text.startswith(f"{len(who & living)} living patient"), (answer.text, len(who & living))
        assert f"{len(who)} including" in answer.text or len(who) == len(who & living)


def test_a_full_stop_ending_the_question_leaves_no_word_unread(world) -> None:  # type: ignore[no-untyped-def]
    """"…for a handover." and "…systolic." are read whole: the stop is punctuation, not part of the word."""
    from desktop.core.assistant.ask import parse_question
    store, frames, _ = world
    pid = frames["patients"]["Id"].iloc[0]
    for question, operation in (("Summarise this patient for a handover.", "handover"),
                                ("What is the latest systolic.", "latest")):
        parsed = parse_question(store, question=question, patient_id=pid)
        assert parsed.plan.operation == operation and parsed.unread == (), (question, parsed.unread)


def test_a_drug_asked_about_in_the_present_tense_is_one_taken_now(world) -> None:  # type: ignore[no-untyped-def]
    """"Is the patient taking X?" asks about now: No when every prescription of X has stopped, though X was
    prescribed; "was she ever on X?" asks about the past. Expected from the CSV files."""
    store, frames, _ = world
    meds = frames["medications"]
    open_ = meds.groupby(["PATIENT", "DESCRIPTION"])["STOP"].apply(lambda s: bool((s == "").any()))
    for (pid, name), running in (next((k, v) for k, v in open_.items() if not v),
                                 next((k, v) for k, v in open_.items() if v)):
        words = re.sub(r"\s*\[[^\]]*\]\s*", " ", name).lower().strip()
        for question in (f"is the patient taking {words}?", f"does he take {words}?", f"are they on {words} now?"):
            answer = answer_question(store, question=question, patient_id=pid)
            assert answer.computed and answer.text.startswith("Yes" if running else "No"), (question, answer.text)
        for question in (f"was she ever on {words}?", f"is there a record of her being on {words}?"):
            ever = answer_question(store, question=question, patient_id=pid)
            assert ever.text.startswith("Yes"), (question, ever.text)


def test_a_return_visit_or_a_score_the_record_does_not_hold_is_declined(world) -> None:  # type: ignore[no-untyped-def]
    store, frames, _ = world
    pid = frames["patients"]["Id"].iloc[0]
    for question in ("will the patient need to come back next month?", "when is his review due?",
                     "what is her Braden score?", "what is his pressure ulcer risk score?"):
        answer = answer_question(store, question=question, patient_id=pid)
        assert answer.computed and answer.declined and not answer.facts, (question, answer.text)
    named = answer_question(store, question=f"should patient {pid} be seen again in a month?", patient_id=None)
    assert named.declined and "future appointments" in named.text, named.text   # "patient <id>" read as one
    past = answer_question(store, question="when was her last visit?", patient_id=pid)
    assert past.computed and not past.declined, past.text
    judgement = answer_question(store, question="what is her risk of a fall?", patient_id=pid)
    assert not judgement.computed and not judgement.declined, judgement.text   # interpretation: the model's


def test_names_joined_by_or_are_read_as_any_of_them_and_by_and_are_not(world) -> None:  # type: ignore[no-untyped-def]
    """"Was he given A or B?" is a yes/no over both names; a name the workspace holds nowhere was never
    recorded, so the others still answer; "A and B" (both? either?) stays declined. Expected from the CSVs."""
    store, frames, _ = world
    meds = frames["medications"]
    words = {d: re.sub(r"\s*\[[^\]]*\]\s*", " ", d).lower().split()[0] for d in meds["DESCRIPTION"].unique()}
    single = {w for w in words.values() if sum(v == w for v in words.values()) == 1 and len(w) > 5}
    by_patient = meds.groupby("PATIENT")["DESCRIPTION"].apply(lambda s: {words[d] for d in s})
    pid, own = next((p, names) for p, names in by_patient.items() if names & single and single - names)
    mine = sorted(own & single)[0]
    other = sorted(single - own)[0]
    answer = answer_question(store, question=f"was he ever given {other} or {mine}?", patient_id=pid)
    assert answer.computed and not answer.declined and answer.text.startswith("Yes"), answer.text
    assert mine in answer.text.lower() and other in answer.text.lower()
    none = answer_question(store, question=f"has the patient been prescribed {other} or zyntheroxal?", patient_id=pid)
    assert none.computed and none.text.startswith("No"), none.text
    both = answer_question(store, question=f"has the patient been prescribed {other} and {mine}?", patient_id=pid)
    assert both.declined, both.text


def test_the_ids_of_patients_with_a_diagnosis_are_listed(world) -> None:  # type: ignore[no-untyped-def]
    store, frames, _ = world
    conditions, patients = frames["conditions"], frames["patients"]
    living = set(patients.loc[patients["DEATHDATE"] == "", "Id"])
    name = conditions.loc[conditions["PATIENT"].isin(living), "DESCRIPTION"].value_counts().index[0]
    words = re.sub(r"\s*\([^()]*\)\s*$", "", name).lower()
    answer = answer_question(store, question=f"show me the patient ids of everyone ever diagnosed with {words}", patient_id=None)
    assert answer.computed and not answer.declined, answer.text
    listed = {str(c) for row in answer.rows for c in row}
    expected = set(conditions.loc[conditions["DESCRIPTION"] == name, "PATIENT"]) & living
    assert expected <= listed, (expected - listed, answer.text)
