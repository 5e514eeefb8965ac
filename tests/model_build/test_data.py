from __future__ import annotations

import re
from pathlib import Path

import pytest

from model_build.data import adapters, patient_context, synthetic
from model_build.data.clean import clean, normalize, split
from model_build.data.patient_context import format_patient_context

DATA = Path(__file__).parent / "data"


def _clean(rows: list[dict]) -> tuple[list[dict], dict]:
    return clean(rows, min_answer_chars=2, max_prompt_chars=4000, max_answer_chars=2000)


def test_alpaca_adapter_joins_instruction_and_input_then_cleans() -> None:
    rows = list(adapters.read_alpaca(DATA / "alpaca.json", "alpaca"))
    assert len(rows) == 4
    assert rows[0]["messages"][0]["content"].startswith("If you are a doctor")
    assert "\n\nHi doctor," in rows[0]["messages"][0]["content"]
    kept, report = _clean(rows)
    assert report["alpaca"] == {"kept": 2, "duplicate": 1, "empty answer": 1}
    assert kept[0]["messages"][0]["content"].endswith("Hi doctor, I have had a headache for three days.")
    assert kept[0]["answer"] == "A headache for three days can have many causes. Measure your blood pressure."


def test_qa_csv_adapter_and_empty_question() -> None:
    rows = list(adapters.read_qa_csv(DATA / "qa.csv", "qa"))
    kept, report = _clean(rows)
    assert report["qa"] == {"kept": 2, "empty prompt": 1}
    assert kept[1]["answer"] == "Between 60 and 100 beats per minute in adults."
    with pytest.raises(adapters.DataFormatError, match="expected columns"):
        list(adapters.read_qa_csv(DATA / "qa.csv", "qa", question="question"))


def test_pubmedqa_adapter_puts_decision_first() -> None:
    rows = list(adapters.read_pubmedqa(DATA / "pubmedqa.json", "pubmedqa"))
    assert [r["answer"].split(".")[0] for r in rows] == ["Yes", "Maybe"]
    assert rows[0]["messages"][0]["content"].startswith("Context: Adults with hypertension")
    assert "Question: Does regular exercise" in rows[0]["messages"][0]["content"]


def test_chat_jsonl_adapter_keeps_history_and_system() -> None:
    rows = list(adapters.read_chat_jsonl(DATA / "chat.jsonl", "chat"))
    assert rows[0]["system"] == "You are a careful assistant."
    assert [m["role"] for m in rows[1]["messages"]] == ["user", "assistant", "user"]
    assert rows[1]["answer"].startswith("Yes, 38.5 Cel")


def test_bad_rows_fail_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"question": "q", "answer": "a"}]')
    with pytest.raises(adapters.DataFormatError, match="expected keys instruction/input/output"):
        list(adapters.read_alpaca(bad, "x"))
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    with pytest.raises(adapters.DataFormatError, match="no assistant message"):
        list(adapters.read_chat_jsonl(bad, "x"))


def test_length_limits_and_normalize() -> None:
    assert normalize("  a \t b\r\n\n\n\nc  ") == "a b\n\nc"
    rows = list(adapters.read_qa_csv(DATA / "qa.csv", "qa"))
    _, report = clean(rows, min_answer_chars=2, max_prompt_chars=40, max_answer_chars=40)
    assert report["qa"]["prompt too long"] == 1 and report["qa"]["answer too long"] == 1


def test_split_is_seeded_and_keeps_groups_together() -> None:
    rows = synthetic.generate(20, 3, seed=1)
    a = split(rows, val_fraction=0.1, test_fraction=0.2, seed=5)
    b = split(rows, val_fraction=0.1, test_fraction=0.2, seed=5)
    assert [r["id"] for r in a["test"]] == [r["id"] for r in b["test"]]
    groups = {name: {r["group"] for r in part} for name, part in a.items()}
    assert not (groups["train"] & groups["test"]) and not (groups["train"] & groups["val"])
    assert sum(len(p) for p in a.values()) == len(rows) and len(groups["test"]) == 4


def test_patient_context_is_the_apps_own_text() -> None:
    """Training text comes from the app's one context builder (desktop.core.trained): the same lines the app
    sends for the same facts."""
    from desktop.core.trained import context_from_summary

    patient = {
        "name": "Jane Doe", "sex": "F", "age": 54, "conditions": ["Hypertension", "Type 2 diabetes"],
        "latest": [
            {"label": "Systolic blood pressure", "value": 152, "unit": "mm[Hg]", "flag": "H", "date": "2024-03-02"},
            {"label": "Heart rate", "value": 88, "unit": "/min", "flag": "N", "date": "2024-03-02"},
            {"label": "Glucose", "value": 182, "unit": "mg/dL", "flag": "H", "date": "2024-03-02"}],
        "bp_category": "Hypertension stage 2",
        "news2": {"score": 1, "missing": ["SpO2", "temperature", "consciousness", "supplemental oxygen"]},
        "trends": [{"label": "Systolic blood pressure", "from": 138, "to": 152, "unit": "mm[Hg]", "months": 12}],
    }
    text = format_patient_context(patient)
    assert text.startswith("Patient: Jane Doe, female, aged 54.\nVital signs:\n")
    assert "- Systolic blood pressure: 152 mm[Hg] on 2024-03-02, flagged H" in text
    assert "- Glucose: 182 mg/dL on 2024-03-02, flagged H" in text
    assert "- Blood pressure category: Hypertension stage 2" in text
    assert "- Systolic blood pressure rose from 138 mm[Hg] on 2023-03-03 to 152 mm[Hg] on 2024-03-02" in text
    assert context_from_summary(patient_context.app_summary(patient)) == text


def test_synthetic_answers_quote_numbers_from_the_summary() -> None:
    rows = synthetic.generate(30, 4, seed=3)
    assert rows == synthetic.generate(30, 4, seed=3)  # seeded
    assert len(rows) == 120 and len({r["group"] for r in rows}) == 30
    for r in rows:
        summary = r["system"].split("\n\n", 1)[1]
        assert summary.startswith("Patient: ")
        for number in re.findall(r"\d+(?:\.\d+)?", r["answer"]):
            assert number in summary, (number, r["answer"], summary)


def test_synthetic_flags_scores_are_the_apps() -> None:
    """Flags, BP category and NEWS2 in training data come from the app's own ranges and scores."""
    import random

    from desktop.core.clinical.measurements import load_catalog
    from desktop.core.clinical.ranges import flag, load_ranges
    from desktop.core.clinical.scores import bp_category

    rng = random.Random(5)
    for i in range(50):
        p = synthetic.make_patient(rng, i)
        values = {v["label"]: v["value"] for v in p["latest"]}
        assert p["bp_category"] == bp_category(values["Systolic blood pressure"], values["Diastolic blood pressure"])
        for v in p["latest"]:
            code = load_catalog().by_name(v["label"]).code  # type: ignore[union-attr]
            assert v["flag"] == flag(float(v["value"]), load_ranges().for_patient(code, p["sex"], p["age"]))
        assert p["news2"]["missing"]  # consciousness and supplemental oxygen are never in these summaries



def test_public_rows_carry_the_apps_system_prompt(tmp_path: Path) -> None:
    from desktop.core.chat.session import SYSTEM_PROMPT
    from model_build.config import config_from_dict
    from model_build.prepare import load_sources

    cfg = config_from_dict({"name": "p", "out_dir": str(tmp_path), "model": {"base": "x"},
                            "data": {"synthetic_patients": 0, "plans_per_template": 0,
                                     "sources": [{"format": "alpaca", "path": str(DATA / "alpaca.json")},
                                                 {"format": "chat_jsonl", "path": str(DATA / "chat.jsonl")}]}})
    records, _ = load_sources(cfg)
    alpaca = [r for r in records if r["source"].startswith("alpaca")]
    assert alpaca and all(r["system"] == SYSTEM_PROMPT for r in alpaca)
    # A file that brings its own system turn keeps it.
    chat = [r for r in records if r["source"].startswith("chat_jsonl")]
    assert any(r["system"] != SYSTEM_PROMPT for r in chat)
