"""The on-device model as fallback planner: grammar-constrained replies always parse, every literal of a reply
is checked against the question, a reply that does not hold is "not computed", an answer from a model plan
is marked, and the split (parse -> model -> answer) path and the CLI switch behave."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks.eval_assistant import PHRASES, TEMPLATES
from desktop.core.assistant.ask import (
    MODEL_PLANNED,
    answer_parsed,
    answer_question,
    parse_question,
)
from desktop.core.assistant.coverage import unread_words
from desktop.core.assistant.model_plan import (
    OPERATIONS,
    TRAINED_SYSTEM_PROMPT,
    ModelPlanOutcome,
    PlanRejected,
    plan_from_reply,
    plan_prompt_messages,
    plan_reply_json,
    plan_with_model,
    reply_schema,
)
from desktop.core.assistant.parse import plan_question
from desktop.core.assistant.plan import Plan, validate_plan
from desktop.core.llm.engine import GenerationStats
from desktop.core.workspace.store import Store, open_store
from tests.core.llm_support import engine, model_path  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "sample" / "sample-workspace.duckdb"
TODAY = date(2024, 6, 1)


def reply(**fields: Any) -> dict[str, Any]:
    base = {"kind": "data", "subject": "patient", "operation": "max", "measurement": "", "threshold": None,
            "condition": ""}
    return {**base, **fields}


# ------------------------------------------------------------------------------- the real model, grammar
def test_grammar_constrained_replies_always_parse_and_plans_validate(engine: Any) -> None:  # noqa: F811
    questions = [("how high has her systolic ever gone?", "p1"), ("tally up her bmi readings", "p1"),
                 ("anyone with a systolic past 180?", None), ("what does a raised creatinine tell us?", "p1")]
    keys = set(reply_schema()["properties"])
    for question, pid in questions:
        outcome = plan_with_model(engine, question=question, patient_id=pid, today=TODAY, min_confidence=0.0)
        data = json.loads(outcome.reply)  # the grammar admits nothing else
        assert set(data) == keys and data["operation"] in OPERATIONS and data["kind"] in ("data", "general")
        assert outcome.plan is not None or outcome.reason, outcome
        if outcome.plan is not None and outcome.plan.kind == "data":
            assert validate_plan(outcome.plan) is outcome.plan
            assert set(outcome.confidence) == {"kind", "subject", "operation"}
            assert all(0.0 < p <= 1.0 for p in outcome.confidence.values())
        assert outcome.reply_tokens <= 96 and outcome.prompt_tokens > 500


def test_an_unsure_model_is_not_run(engine: Any) -> None:  # noqa: F811
    outcome = plan_with_model(engine, question="tally up her bmi readings", patient_id="p1", today=TODAY,
                              min_confidence=1.01)
    assert outcome.plan is None and "unsure" in outcome.reason


# ------------------------------------------------------------------------------------ the reply checks
def test_a_grounded_reply_becomes_the_plan_with_the_parsers_window_and_cohort() -> None:
    plan = plan_from_reply(reply(measurement="Pulse", operation="max"), question="her pulse at its fastest in 2021",
                           patient_id="p1", today=TODAY)
    assert (plan.operation, plan.measurements, plan.patient_id) == ("max", ("8867-4",), "p1")
    assert (plan.window.start, plan.window.end) == (date(2021, 1, 1), date(2022, 1, 1))
    plan = plan_from_reply(reply(subject="patient", operation="which_patients", measurement="systolic",
                                 threshold=180), question="anyone with a systolic past 180?", patient_id=None,
                           today=TODAY)
    assert (plan.subject, plan.threshold, plan.comparison) == ("workspace", 180, "above")
    plan = plan_from_reply(reply(subject="workspace", operation="mean", measurement="heart rate",
                                 condition="asthma"), question="usual heart rate among asthmatics? asthma",
                           patient_id=None, today=TODAY)
    assert plan.cohort.condition == "asthma"
    assert plan_from_reply(reply(kind="general"), question="what is sepsis", patient_id="p1", today=TODAY).kind == "general"


@pytest.mark.parametrize(("fields", "question", "reason"), [
    ({"measurement": "troponin"}, "her troponin at its highest", "not a measurement the catalog knows"),
    ({"measurement": "heart rate"}, "her pulse at its fastest", "not in the question"),
    ({"operation": "above", "measurement": "pulse", "threshold": 130}, "did her pulse top 120?", "not a number"),
    ({"operation": "above", "measurement": "pulse", "threshold": None}, "did her pulse top 120?", "needs the number"),
    ({"operation": "above", "measurement": "pulse", "threshold": 120}, "was her pulse 120 once?", "above or below"),
    ({"measurement": "pulse"}, "her fastest pulse back in the spring", "time the planner cannot read"),
    ({"subject": "workspace", "operation": "mean", "measurement": "pulse"}, "her usual pulse", "names no patients"),
    ({"measurement": ""}, "her fastest pulse or temperature", "several measurements"),
    ({"operation": "latest", "measurement": ""}, "how is she doing?", "names no measurement"),
])
def test_a_reply_that_does_not_hold_is_rejected(fields: dict[str, Any], question: str, reason: str) -> None:
    with pytest.raises(PlanRejected, match=reason):
        plan_from_reply(reply(**fields), question=question, patient_id="p1", today=TODAY)


class ScriptedEngine:
    """A stand-in for the engine that writes a fixed reply (a unit test of the outcome, not of the model)."""

    def __init__(self, text: str, stop: str = "eos", adapter_path: Path | None = None) -> None:
        self.text, self.stop, self.adapter_path = text, stop, adapter_path
        self.llm = SimpleNamespace(n_vocab=lambda: 8)
        self.rendered: list[Any] = []
        self.chat_template = SimpleNamespace(render=lambda messages, add_generation_prompt:
                                             self.rendered.append(messages) or "prompt")

    def tokenize(self, text: str) -> list[int]:
        return [1, 2, 3]

    def generate(self, tokens: list[int], *, params: Any, on_text: Any, cancel: Any, grammar: Any,
                 on_token: Any) -> GenerationStats:
        on_text(self.text)
        return GenerationStats(len(tokens), 0, 10, 0.0, 0.0, 0.0, self.stop)


def test_cut_or_invalid_json_is_not_computed() -> None:
    outcome = plan_with_model(ScriptedEngine('{"kind": "data", "subj', "max_tokens"), question="her top pulse",
                              patient_id="p1", today=TODAY)
    assert outcome.plan is None and "not complete JSON (max_tokens)" in outcome.reason
    outcome = plan_with_model(ScriptedEngine("[1, 2]"), question="her top pulse", patient_id="p1", today=TODAY)
    assert outcome.plan is None and "not a JSON object" in outcome.reason


# --------------------------------------------------------------------------------- prompt and training
def test_the_prompt_teaches_the_catalog_vocabulary_and_the_reply_format_round_trips() -> None:
    messages = plan_prompt_messages("her top pulse", patient_selected=True)
    assert messages[0].role == "system" and "systolic blood pressure" in messages[0].content
    assert [m.role for m in messages[1:3]] == ["user", "assistant"] and messages[-1].content == "her top pulse"
    assert plan_prompt_messages("x", patient_selected=False)[-1].content.endswith("(no patient selected)")
    for question, pid in [("what was the highest pulse in 2021?", "P"), ("which patients have a systolic above 150",
                                                                          None)]:
        plan = plan_question(question, patient_id=pid, today=TODAY)
        again = plan_from_reply(json.loads(plan_reply_json(plan, question=question)), question=question,
                                patient_id=pid, today=TODAY)
        assert again.to_dict() == plan.to_dict()


def test_the_trained_prompt_is_short_and_is_sent_only_when_the_adapter_is_loaded() -> None:
    trained = plan_prompt_messages("her top pulse", patient_selected=False, trained=True)
    assert [m.role for m in trained] == ["system", "user"] and trained[0].content == TRAINED_SYSTEM_PROMPT
    assert trained[1].content == "her top pulse (no patient selected)"
    plain, tuned = ScriptedEngine("[1]"), ScriptedEngine("[1]", adapter_path=Path("vitalsight-lora.gguf"))
    for e in (plain, tuned):
        plan_with_model(e, question="her top pulse", patient_id="p1", today=TODAY)
    assert len(plain.rendered[0]) > 20 and plain.rendered[0][0].content != TRAINED_SYSTEM_PROMPT  # few-shot
    assert [m.content for m in tuned.rendered[0]] == [TRAINED_SYSTEM_PROMPT, "her top pulse"]


# ------------------------------------------------------------------------------------ coverage marking
def test_the_evaluations_phrasings_are_fully_read_and_unknown_wordings_are_not() -> None:
    for kind, templates in TEMPLATES.items():
        for template in templates:
            question = template.format(m=PHRASES["8480-6"][0], t="140", y="2021", c="diabetes", a=65)
            plan = plan_question(question, patient_id=None if "patients" in question or "who" in question else "p",
                                 today=TODAY)
            assert unread_words(question, plan) == (), (kind, question)
    plan = plan_question("how high has her systolic ever gone?", patient_id="p", today=TODAY)
    assert plan.operation == "latest" and unread_words("how high has her systolic ever gone?", plan) == ("high", "gone")


# ------------------------------------------------------------------------------ the split answer path
@pytest.fixture
def sample(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    copy = tmp_path / "sample.duckdb"
    shutil.copy(SAMPLE, copy)
    store = open_store(copy)
    pid = store.con.execute("SELECT patient_id FROM observations WHERE code = '8867-4' GROUP BY 1 "
                            "ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
    yield store, pid
    store.close()


def test_the_split_path_runs_a_model_plan_marked_and_says_why_one_was_not_run(sample: tuple[Store, str]) -> None:
    store, pid = sample
    question = "her pulse at its fastest, please"
    parsed = parse_question(store, question=question, patient_id=pid)
    assert parsed.wants_model_plan and parsed.unread == ("fastest",)
    plan = plan_from_reply(reply(measurement="pulse"), question=question, patient_id=pid, today=parsed.today)
    answer = answer_parsed(store, parsed, model_plan=ModelPlanOutcome(plan, reply="{}", seconds=0.5))
    top = store.con.execute("SELECT max(value) FROM observations WHERE patient_id = ? AND code = '8867-4'",
                            [pid]).fetchone()[0]
    assert answer.computed and answer.planner == "model" and answer.text.startswith(MODEL_PLANNED)
    assert answer.facts[0].value == top and "made by the on-device model" in answer.how_computed()
    assert answer.to_dict()["planner"] == "model" and answer.to_dict()["model_plan"]["seconds"] == 0.5
    assert answer.source_line().startswith("The on-device model planned the question in 0.5 s (its plan was used)")

    rejected = answer_parsed(store, parse_question(store, question="who is the most unwell right now?",
                                                   patient_id=None),
                             model_plan=ModelPlanOutcome(None, reason="the model was unsure of its plan"))
    assert not rejected.computed and "the model was unsure of its plan" in rejected.text

    unsure = answer_parsed(store, parsed, model_plan=None)  # no model: the parser's guess, marked
    assert unsure.computed and unsure.planner == "parser_unsure" and "did not read every word" in unsure.text
    assert unsure.source_line() == "Computed from the workspace; no model ran"


def test_answer_question_asks_the_fallback_only_when_the_parser_is_unsure(
        sample: tuple[Store, str]) -> None:
    store, pid = sample
    asked: list[str] = []

    def planner(*, question: str, patient_id: str | None, today: date) -> ModelPlanOutcome:
        asked.append(question)
        return ModelPlanOutcome(Plan("general"))

    exact = answer_question(store, question="highest pulse", patient_id=pid, fallback_planner=planner)
    assert exact.computed and exact.planner == "parser" and asked == []
    general = answer_question(store, question="what does a raised creatinine tell us in general?", patient_id=pid,
                              fallback_planner=planner)
    # The one rule (ask.py): a question the parser reads as general goes to the chat model, unplanned.
    assert not general.computed and general.text == "" and asked == []
    unsure = answer_question(store, question="how high has her systolic ever gone?", patient_id=pid,
                             fallback_planner=planner)
    assert unsure.computed and asked == ["how high has her systolic ever gone?"]


def test_cli_says_which_planner_and_the_switch_turns_the_model_off(sample: tuple[Store, str], tmp_path: Path,
                                                                    model_path: Path) -> None:  # noqa: F811
    store, pid = sample
    store.close()
    copy = tmp_path / "sample.duckdb"

    def ask(*extra: str) -> dict[str, Any]:
        run = subprocess.run([sys.executable, "-m", "desktop", "chat", "--workspace", str(copy), "--patient", pid,
                              "--json", "--threads", "1", *extra, "her pulse at its fastest, please"],
                             capture_output=True, text=True, timeout=300, check=False, cwd=REPO)
        assert run.returncode in (0, 1), run.stderr
        return json.loads(run.stdout)

    off = ask("--no-model-planner")
    assert off["planner"] == "parser_unsure" and off["model_plan"] is None and off["computed"]
    on = ask()
    assert on["model_plan"] is not None and on["model_plan"]["reply"]
    assert on["planner"] in ("model", "parser_unsure")


def test_a_stopped_model_plan_is_neither_run_nor_replaced_by_the_parsers_guess(sample: tuple[Store, str]) -> None:
    store, pid = sample
    parsed = parse_question(store, question="her pulse at its fastest, please", patient_id=pid)
    answer = answer_parsed(store, parsed, model_plan=ModelPlanOutcome(None, reason="stopped"))
    assert not answer.computed and answer.text.startswith("Stopped")
