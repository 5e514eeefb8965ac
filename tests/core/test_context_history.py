"""The assistant's context holds the allergies and active medications first, within the budget, and says when
there are none."""

from __future__ import annotations

from pathlib import Path

from desktop.core.assistant.context import build_patient_context
from desktop.core.assistant.verify import VERIFIED, verify_text
from desktop.core.importers import import_paths
from desktop.core.trained import estimate_tokens, patient_context
from desktop.core.workspace.store import Store

from .conftest import write

PATIENTS = """Id,BIRTHDATE,DEATHDATE,PREFIX,FIRST,LAST,GENDER
p-ann,1958-04-02,,Mrs.,Ann1,Alder2,F
p-ben,1962-09-30,,Mr.,Ben1,Birch2,M
"""
OBSERVATIONS = "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n" + "".join(
    f"2023-0{m}-12T09:00:00Z,{p},e,vital-signs,{code},{name},{value},{unit},numeric\n"
    for p in ("p-ann", "p-ben") for m in (1, 2, 3)
    for code, name, value, unit in (("8480-6", "Systolic Blood Pressure", 150 + m, "mm[Hg]"),
                                    ("8462-4", "Diastolic Blood Pressure", 92, "mm[Hg]"),
                                    ("8867-4", "Heart rate", 80 + m, "/min"), ("9279-1", "Respiratory rate", 18, "/min"),
                                    ("8310-5", "Body temperature", 37.1, "Cel"), ("29463-7", "Body Weight", 70 + m, "kg"),
                                    ("2339-0", "Glucose", 101 + m, "mg/dL"), ("38483-4", "Creatinine", 1.0, "mg/dL")))
MEDICATIONS = """START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION
2016-03-01T09:00:00Z,,p-ann,py,e,314076,lisinopril 10 MG Oral Tablet,1,0,12,12,59621000,Essential hypertension (disorder)
2019-03-01T09:00:00Z,2019-03-11T09:00:00Z,p-ann,py,e,308182,Amoxicillin 250 MG Oral Capsule,3,0,1,3,,
"""
ALLERGIES = """START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,DESCRIPTION1,SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2
2010-02-03,,p-ann,e,7984,RxNorm,Penicillin V,allergy,medication,271807003,Eruption of skin (disorder),SEVERE,,,
"""


def _import(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    for name, text in (("patients", PATIENTS), ("observations", OBSERVATIONS), ("medications", MEDICATIONS),
                       ("allergies", ALLERGIES)):
        write(folder / f"{name}.csv", text)
    report = import_paths(store, [folder])
    assert all(f.rows_rejected == 0 for f in report.files), report.to_dict()


def test_allergies_and_medications_come_right_after_the_patient(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path)
    text = patient_context(store, "p-ann")
    lines = text.splitlines()
    assert lines[1] == "Allergies and intolerances:"
    assert lines[2] == ("- Allergy: Penicillin V (medication); reaction Eruption of skin (disorder), severe; "
                        "recorded 2010-02-03")
    assert lines[3] == "Active medications:"
    assert lines[4] == ("- Medication: lisinopril 10 MG Oral Tablet, since 2016-03-01, for Essential hypertension "
                        "(disorder)")
    assert "Amoxicillin" not in text  # stopped in 2019
    assert text.index("Active medications:") < text.index("Vital signs:")


def test_they_survive_a_budget_that_cuts_the_vitals(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path)
    context = build_patient_context(store, patient_id="p-ann", question="", budget_tokens=140,
                                    count_tokens=estimate_tokens)
    assert context.tokens <= 140 and context.left_out > 0
    assert "Penicillin V" in context.text and "lisinopril" in context.text


def test_a_medication_question_puts_them_first(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path)
    context = build_patient_context(store, patient_id="p-ann", question="What medications is she on?",
                                    budget_tokens=2000, count_tokens=estimate_tokens)
    lines = context.text.splitlines()
    asked = lines.index("What the question is about:")
    assert lines[asked + 1].startswith("- Medication: lisinopril 10 MG Oral Tablet")
    assert "Active medications:" not in lines  # listed once, where the question is answered
    # The date the context gives is a date the verifier knows; one it does not give is not.
    assert verify_text("She has taken lisinopril since 2016-03-01.", facts=context.facts).status == VERIFIED
    assert verify_text("She has taken lisinopril since 2014-07-09.", facts=context.facts).status != VERIFIED


def test_none_recorded_is_said(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path)
    text = patient_context(store, "p-ben")
    assert text.splitlines()[0] == ("Patient: Mr. Ben Birch, male, aged 64. Allergies: none recorded. "
                                    "Active medications: none recorded (as of 2023-03-12).")
    assert "Allergies and intolerances:" not in text.splitlines() and "Active medications:" not in text.splitlines()


def test_a_workspace_without_those_files_says_nothing_of_them(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write(folder / "patients.csv", PATIENTS)
    write(folder / "observations.csv", OBSERVATIONS)
    import_paths(store, [folder])
    text = patient_context(store, "p-ann")
    assert "Allergies" not in text and "medications" not in text.lower()
