"""The verifier on realistic model outputs: every number, unit, date, flag word, sex and age is verified,
unverified or contradicted against the facts the model was given; streaming gives the same verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.core.assistant.answer import Fact
from desktop.core.assistant.ask import answer_question
from desktop.core.assistant.verify import CONTRADICTED, UNVERIFIED, VERIFIED, StreamingVerifier, verify_text
from desktop.core.importers import import_paths
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import generate_cohort

# A woman whose 170/100 is flagged high (the README's screenshot), as patient_summary() shapes it.
SUMMARY = {
    "patient": {"id": "p1", "name": "Ann Lee", "sex": "F", "age": 58.4, "birth_date": "1965-09-01",
                "deceased": None, "conditions": ["Essential hypertension (disorder)"]},
    "latest": [
        {"code": "8480-6", "name": "Systolic blood pressure", "category": "vital", "value": 170.0, "unit": "mm[Hg]",
         "flag": "H", "observed_at": "2024-02-05T10:12:00", "count": 12, "age_at_reading": 58.4,
         "rule": "H: >= 130 mm[Hg] (ACC/AHA 2017)",
         "reference": {"limits": {"high": {"value": 130, "inclusive": True}}}},
        {"code": "8462-4", "name": "Diastolic blood pressure", "category": "vital", "value": 100.0, "unit": "mm[Hg]",
         "flag": "H", "observed_at": "2024-02-05T10:12:00", "count": 12, "rule": "H: >= 80 mm[Hg] (ACC/AHA 2017)"},
        {"code": "8310-5", "name": "Body temperature", "category": "vital", "value": 36.85, "unit": "Cel",
         "flag": "N", "observed_at": "2024-02-05T10:12:00", "count": 3},
        {"code": "29463-7", "name": "Body weight", "category": "vital", "value": 72.5, "unit": "kg", "flag": None,
         "observed_at": "2024-02-05T10:12:00", "count": 9},
        {"code": "2339-0", "name": "Glucose", "category": "lab", "value": 99.0, "unit": "mg/dL", "flag": "N",
         "observed_at": "2023-11-20T08:00:00", "count": 4},
        {"code": "59408-5", "name": "Oxygen saturation", "category": "vital", "value": 93.0, "unit": "%", "flag": "L",
         "observed_at": "2024-02-05T10:12:00", "count": 5},
    ],
    "news2": {"score": 3, "observed_at": "2024-02-05T10:12:00"},
}
README_ANSWER = ("The patient's blood pressure is 170/100 mmHg, which is within the normal range for a healthy "
                 "adult male.")


def _by_text(text: str, **kwargs: object) -> dict[str, str]:
    return {s.text: s.status for s in verify_text(text, **kwargs).spans}  # type: ignore[arg-type]


def test_the_readme_answer_is_contradicted_where_it_is_wrong() -> None:
    verdict = verify_text(README_ANSWER, summary=SUMMARY)
    spans = {s.text: s for s in verdict.spans}
    assert spans["170"].status == spans["100"].status == spans["mmHg"].status == VERIFIED
    assert spans["within the normal range"].status == CONTRADICTED
    assert "flags it H" in spans["within the normal range"].reason
    assert spans["male"].status == CONTRADICTED and "female" in spans["male"].reason
    assert verdict.status == CONTRADICTED
    marked = verdict.marked(README_ANSWER)
    assert "[contradicted: within the normal range]" in marked and "[contradicted: male]" in marked
    assert "170/100 mmHg" in marked  # verified figures are left as they are


def test_a_correct_answer_is_verified_throughout() -> None:
    text = ("Her latest blood pressure, taken on 2024-02-05, is 170/100 mmHg, which is high. Her temperature was "
            "36.9 °C and her oxygen saturation is low at 93%. She is 58 years old. NEWS2 is 3.")
    verdict = verify_text(text, summary=SUMMARY)
    assert verdict.status == VERIFIED, [s for s in verdict.spans if s.status != VERIFIED]
    kinds = {s.kind for s in verdict.spans}
    assert {"number", "unit", "date", "flag", "sex", "age"} <= kinds


def test_converted_units_and_rounding_are_accepted() -> None:
    assert _by_text("Her temperature is 98.3 °F.", summary=SUMMARY)["98.3"] == VERIFIED      # 36.85 °C
    assert _by_text("She weighs 159.8 lb.", summary=SUMMARY)["159.8"] == VERIFIED            # 72.5 kg
    assert _by_text("Her glucose was 5.5 mmol/L.", summary=SUMMARY)["5.5"] == VERIFIED       # 99 mg/dL
    assert _by_text("Her glucose was 5.5 mg/dL.", summary=SUMMARY)["5.5"] == CONTRADICTED    # wrong unit
    assert _by_text("Her temperature is 37 °C.", summary=SUMMARY)["37"] == VERIFIED         # 36.85 rounded
    assert _by_text("Her temperature is 37.2 °C.", summary=SUMMARY)["37.2"] == CONTRADICTED


def test_a_number_the_record_does_not_hold() -> None:
    # The example: asked for the highest systolic pressure, the model answered "16.3 mmHg".
    spans = _by_text("The highest systolic pressure recorded is 16.3 mmHg.", summary=SUMMARY)
    assert spans["16.3"] == CONTRADICTED
    # A number nothing in the sentence ties to a measurement is unverified, not contradicted.
    assert _by_text("About 42 is the answer.", summary=SUMMARY)["42"] == UNVERIFIED


def test_flag_words_follow_the_reading_they_describe() -> None:
    spans = _by_text("Her temperature is normal but her sats are low.", summary=SUMMARY)
    assert spans["normal"] == VERIFIED and spans["low"] == VERIFIED
    spans = _by_text("Her oxygen saturation of 93% is within the normal range.", summary=SUMMARY)
    assert spans["within the normal range"] == CONTRADICTED
    # A range described is not a claim about the reading.
    assert "normal" not in _by_text("Systolic 170 mmHg (normal < 120).", summary=SUMMARY)


def test_dates_ages_and_sex() -> None:
    spans = _by_text("Measured on 5 February 2024; the glucose on 2023-11-21 was fine.", summary=SUMMARY)
    assert spans["5 February 2024"] == VERIFIED and spans["2023-11-21"] == UNVERIFIED
    assert _by_text("She is a 45-year-old woman.", summary=SUMMARY) == {"45-year-old": CONTRADICTED,
                                                                        "She": VERIFIED, "woman": VERIFIED}
    assert _by_text("His pressure is high.", summary=SUMMARY)["His"] == CONTRADICTED


def test_figures_glued_to_units_are_judged_but_ids_are_not() -> None:
    # Written by the real model: "(23-mmHg)".
    assert _by_text("Her resting blood pressure is 100 mmHg (23-mmHg).", summary=SUMMARY)["23"] == CONTRADICTED
    spans = _by_text("Patient c0087a04-8b86-4aed-4976-cbaf1dca032d has a systolic of 170 mmHg.", summary=SUMMARY)
    assert "4976" not in spans and spans["170"] == VERIFIED


def test_names_and_list_markers_are_not_figures() -> None:
    spans = _by_text("1. She has type 2 diabetes and her SpO2 and HbA1c were checked.", summary=SUMMARY)
    assert not any(text in spans for text in ("1", "2"))


def test_streaming_gives_the_whole_text_verdict_piece_by_piece() -> None:
    text = (README_ANSWER + " Her temperature was 36.85 °C on 2024-02-05.\nHer SpO2 was 93%, low. Mrs. Lee is "
            "58 years old.")
    whole = verify_text(text, summary=SUMMARY)
    for size in (1, 3, 7, 50):
        verifier = StreamingVerifier(summary=SUMMARY)
        seen = []
        for i in range(0, len(text), size):
            seen += verifier.feed(text[i:i + size])
        seen += verifier.finish()
        assert seen == whole.spans == verifier.verdict.spans
    # A sentence is judged as soon as it ends: "36." may still become "36.8".
    verifier = StreamingVerifier(summary=SUMMARY)
    assert verifier.feed("Her temperature was 36.") == []
    assert verifier.feed("85 °C. ") and all(s.status == VERIFIED for s in verifier.verdict.spans)


def test_the_verdict_is_serialisable() -> None:
    data = json.loads(json.dumps(verify_text(README_ANSWER, summary=SUMMARY).to_dict()))
    assert data["status"] == CONTRADICTED and data["counts"][CONTRADICTED] == 2
    assert {"start", "end", "text", "kind", "status", "reason"} <= set(data["spans"][0])


def test_facts_alone_judge_text_about_a_cohort() -> None:
    facts = [Fact("number of patients", 3.0), Fact("Systolic blood pressure", 182.0, "mm[Hg]", "2024-05-01T09:00:00",
                                                   "HH", None, "a"),
             Fact("threshold", 160.0, "mm[Hg]")]
    spans = _by_text("3 patients have a systolic above 160 mmHg; the highest is 182 mmHg, critically high.",
                     facts=facts)
    assert spans["3"] == spans["160"] == spans["182"] == spans["critically high"] == VERIFIED
    assert "she" not in spans  # no patient summary: sex is not judged


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("verify")
    generate_cohort(folder, patients=12, years=5, seed=21, wide_rows=0, extra_files=False)
    store = open_store(folder / "ws.duckdb")
    import_paths(store, [folder / "synthea"])
    yield store
    store.close()


def test_the_real_summary_and_computed_answers(workspace: Store) -> None:
    pid = workspace.con.execute("SELECT patient_id FROM observations WHERE code = '8480-6' GROUP BY 1 "
                                "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    summary = patient_summary(workspace, pid)
    systolic = next(i for i in summary["latest"] if i["code"] == "8480-6")
    wrong_sex = "male" if summary["patient"]["sex"] == "F" else "female"
    text = f"The latest systolic blood pressure is {systolic['value']:g} mmHg. This is a {wrong_sex} patient."
    spans = _by_text(text, summary=summary)
    assert spans[f"{systolic['value']:g}"] == VERIFIED and spans[wrong_sex] == CONTRADICTED
    for question in ("highest systolic?", "how many heart rate readings", "mean weight", "is the pulse normal?",
                     "which patients have a systolic above 130?"):
        answer = answer_question(workspace, question=question, patient_id=None if "patients" in question else pid)
        verdict = verify_text(answer.text, facts=answer.facts)
        assert verdict.counts()[CONTRADICTED] == 0, (answer.text, verdict.to_dict())


def test_no_file_left_behind(tmp_path: Path) -> None:
    # verify_text is pure: it needs no workspace and writes nothing.
    verify_text(README_ANSWER, summary=SUMMARY)
    assert list(tmp_path.iterdir()) == []


def test_codes_and_drug_strengths_in_a_computed_answer_are_names_not_readings() -> None:
    """A code in parentheses and a drug's strength are not readings of the measurement the sentence names."""
    text = ("The mean latest diastolic blood pressure among 5 living patients with hypertension (matched: "
            "Hypertension (38341003)) is 92.4 mm[Hg]; Amoxicillin 250 MG Oral Capsule (308182): 7 patients; "
            "SARS-COV-2 vaccine 30 mcg/0.3mL dose; 1 in all.")
    facts = [Fact("mean Diastolic blood pressure", 92.4, "mm[Hg]"), Fact("patients counted", 5),
             Fact("patients with Amoxicillin 250 MG Oral Capsule", 7), Fact("number of prescriptions", 1)]
    spans = {s.text: s for s in verify_text(text, facts=facts).spans}
    assert spans["38341003"].kind == "code" and spans["38341003"].status == "unverified"
    assert spans["250 MG"].kind == "dose" and spans["250 MG"].status == "verified"
    assert spans["30 mcg/0.3mL"].kind == "dose" and spans["30 mcg/0.3mL"].status == "unverified"
    assert spans["92.4"].status == "verified" and spans["1"].status == "verified"
    assert not any(s.status == "contradicted" for s in spans.values())
    # A wrong reading beside a code is still caught, and a reading unit is never a strength.
    wrong = verify_text("Her systolic blood pressure was 150 mmHg (12345).",
                        facts=[Fact("Systolic blood pressure", 140.0, "mm[Hg]", "2025-06-28")])
    assert [s.text for s in wrong.spans if s.status == "contradicted"] == ["150"]
    glucose = verify_text("Her glucose was 250 mg/dL.", facts=[Fact("Glucose", 120.0, "mg/dL", "2025-06-28")])
    assert [s.kind for s in glucose.spans if s.status == "contradicted"] == ["number"]


def test_a_unit_is_judged_against_the_measurement_of_its_own_clause() -> None:
    text = "Heart rate 59 /min L low (2025-06-28); eGFR 44.7 mL/min/1.73m² L low (2025-06-04)."
    spans = verify_text(text, facts=[Fact("Heart rate", 59.0, "/min", "2025-06-28", "L")]).spans
    assert not any(s.status == "contradicted" for s in spans)
    bad = verify_text("Heart rate 59 mmHg.", facts=[Fact("Heart rate", 59.0, "/min", "2025-06-28", "L")]).spans
    assert "unit" in [s.kind for s in bad if s.status == "contradicted"]


def test_a_bound_inside_a_name_is_not_a_reading_and_equal_readings_are_told_apart_by_their_day() -> None:
    text = ("The mean latest heart rate among 3 living patients with obesity (matched: Body mass index 30+ - obesity "
            "(162864005)) is 84 /min.")
    spans = verify_text(text, facts=[Fact("mean Heart rate", 84.0, "/min"), Fact("patients counted", 3)]).spans
    assert not any(s.status == "contradicted" for s in spans)
    assert next(s for s in spans if s.text == "30+").kind == "bound"
    # Two readings of 22 /min: an adult's flagged H, a child's normal; the day said with each decides.
    facts = [Fact("Respiratory rate", 22.0, "/min", "2024-02-25", "H"), Fact("Respiratory rate", 22.0, "/min", "2016-02-25", "N")]
    text = ("22 /min on 2024-02-25 (above the healthy range); 22 /min on 2016-02-25 (within the healthy range).")
    assert not any(s.status == "contradicted" for s in verify_text(text, facts=facts).spans)
    wrong = "22 /min on 2024-02-25 (within the healthy range)."
    assert [s.kind for s in verify_text(wrong, facts=facts).spans if s.status == "contradicted"] == ["flag"]
