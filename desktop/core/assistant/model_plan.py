"""The on-device model as the fallback planner: when the deterministic parser declines a question, the model
writes a small JSON reply under a grammar (llama.cpp's JSON-schema support), and that reply becomes a
:class:`Plan` only after every part of it is checked against the question.

Why a small reply and not the whole plan: a 135M model cannot be trusted with catalog codes, dates or numbers.
It chooses what the parser's patterns could not: the operation, the subject and which words of the question
name the measurement. Everything literal is grounded: the measurement words must occur in the question and
resolve through the parser's vocabulary (:func:`find_measurements`); a threshold must be a number the question
states; the time window and the cohort come from the parser's own readers, and a question with time words they
cannot read is refused. A reply the grammar let through but these checks do not, or one the model itself gave
low probability, becomes an honest "not computed", never a figure. An answer from a model plan is marked as
such (``ask.py``), because a plausible plan may still be the wrong one.

The prompt and the reply format are the planner's trained contract (``desktop/core/trained/planner.py``,
re-exported here): ``model_build`` builds the adapter's training data from the same functions.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from desktop.core.assistant.parse import (
    DIASTOLIC,
    SYSTOLIC,
    cohort_filter,
    find_measurements,
    names_people,
    normalise,
    time_window,
)
from desktop.core.assistant.plan import (
    CohortFilter,
    Plan,
    PlanError,
    validate_plan,
)
from desktop.core.trained.planner import (
    NO_PATIENT,
    PLANNER_N_CTX,
    PLANNER_OPERATIONS,
    TRAINED_SYSTEM_PROMPT,
    plan_prompt_messages,
    plan_reply_json,
    reply_schema,
)

__all__ = ["MIN_CONFIDENCE", "NO_PATIENT", "PLANNER_N_CTX", "TRAINED_SYSTEM_PROMPT", "GrammarNotConverted",
           "ModelPlanOutcome", "PlanRejected", "checked_grammar", "plan_from_reply", "plan_prompt_messages",
           "plan_reply_json", "plan_with_model", "reply_grammar", "reply_schema"]

# The model may plan with these choices only when it is this sure of them (measured on the held-out phrasings,
# benchmarks/eval_assistant_heldout.py: see the report there for what it lets through and what it stops).
MIN_CONFIDENCE = 0.5
MAX_REPLY_TOKENS = 96
OPERATIONS = PLANNER_OPERATIONS

# Words for time the parser's window reader must have understood; if it read none, a model plan would count
# over the whole record while the question meant a part of it.
_TIME_WORDS = (r"\b(19|20)\d\d\b|\b(day|days|week|weeks|month|months|year|years|yesterday|today|ago|since|"
               r"until|before|after|during|between|recent visit|last visit|this (morning|week|month|year)|"
               r"january|february|march|april|may|june|july|august|september|october|november|december|"
               r"spring|summer|autumn|fall|winter)\b")
_ABOVE_WORDS = r"\b(above|over|more than|greater than|higher than|exceed\w*|past|beyond|at least|topp?\w*)\b|>"
_BELOW_WORDS = r"\b(below|under|less than|lower than|beneath|at most|dropp?\w*|fell|fall\w*|dipp?\w*)\b|<"
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


class GrammarNotConverted(RuntimeError):
    """llama-cpp-python turned the schema into a grammar that does not encode it (it falls back silently)."""


def checked_grammar(schema: dict[str, Any]) -> tuple[Any, str]:
    """The llama.cpp grammar for a JSON schema and its GBNF text, checked: llama-cpp-python's converter
    falls back silently to generic JSON for a schema it cannot handle (and ``from_string`` only stores the
    text until sampling starts), which would let any reply through. The GBNF must name every top-level
    property of the schema and every operation. Shared with model_build's plan evaluation."""
    from llama_cpp import LlamaGrammar

    grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    gbnf = str(getattr(grammar, "_grammar", ""))
    missing = [f"{key}-kv" for key in schema["properties"] if f"{key}-kv" not in gbnf]
    missing += [op for op in OPERATIONS if f'\\"{op}\\"' not in gbnf]
    if "root ::=" not in gbnf or missing:
        raise GrammarNotConverted(f"the grammar from the schema lacks: {', '.join(missing) or 'root'}")
    return grammar, gbnf


@lru_cache(maxsize=1)
def reply_grammar() -> Any:
    """The checked llama.cpp grammar for :func:`reply_schema`."""
    return checked_grammar(reply_schema())[0]


# --------------------------------------------------------------------------------------------- the checks
class PlanRejected(PlanError):
    """The model's reply does not hold up against the question: not run."""


def plan_from_reply(reply: dict[str, Any], *, question: str, patient_id: str | None, today: date) -> Plan:
    """The plan a model reply stands for, every literal part grounded in the question; raises
    :class:`PlanRejected` (a :class:`PlanError`) naming what does not hold."""
    text = normalise(question)
    if reply.get("kind") != "data":
        return Plan("general")
    subject = str(reply.get("subject"))
    operation = str(reply.get("operation"))
    if patient_id is None:
        subject = "workspace"  # with no patient selected there is nobody else to ask about
    elif subject == "workspace" and not names_people(question):
        raise PlanRejected("the model took the question to be about all patients, but it names no patients")
    problems: list[str] = []

    named = find_measurements(text)
    words = normalise(str(reply.get("measurement") or ""))
    codes: tuple[str, ...] = ()
    if words:
        if words not in text:
            problems.append(f"the measurement words {words!r} are not in the question")
        else:
            codes = tuple(c for c in find_measurements(words) if c in named)
            if not codes:
                problems.append(f"{words!r} is not a measurement the catalog knows")
    elif len(named) == 1 or set(named) == {SYSTOLIC, DIASTOLIC}:
        codes = named  # the model copied nothing, but the question names one measurement unambiguously
    elif named:
        problems.append("the question names several measurements and the model chose none")
    keep_pair = operation in ("latest", "readings") and subject == "patient"
    codes = codes[:2] if keep_pair else codes[:1]

    threshold = reply.get("threshold")
    comparison: str | None = None
    uses_threshold = operation in ("above", "below") or (operation == "which_patients" and threshold is not None)
    if uses_threshold:
        if threshold is None:
            problems.append(f"'{operation}' needs the number the question compares with")
        elif not any(math.isclose(float(n), float(threshold)) for n in _NUMBER.findall(text)):
            problems.append(f"the threshold {threshold:g} is not a number the question states")
        else:
            above, below = bool(re.search(_ABOVE_WORDS, text)), bool(re.search(_BELOW_WORDS, text))
            comparison = operation if operation in ("above", "below") else \
                "above" if above and not below else "below" if below and not above else None
            if comparison is None or (comparison == "above" and not above) or (comparison == "below" and not below):
                problems.append("the question does not say clearly whether readings above or below "
                                f"{float(threshold):g} are meant")
    else:
        threshold = None
    if operation == "which_patients" and comparison is None and codes:
        comparison = "abnormal"

    window = time_window(question, today=today)
    if not window.text and re.search(_TIME_WORDS, text):
        problems.append("the question names a time the planner cannot read")

    cohort = CohortFilter()
    if subject == "workspace":
        cohort = cohort_filter(question)
        condition = normalise(str(reply.get("condition") or ""))
        if condition and not cohort.condition:
            if condition not in text or find_measurements(condition):
                problems.append(f"the condition {condition!r} is not one the question names")
            else:
                cohort = CohortFilter(condition, cohort.sex, cohort.age_min, cohort.age_max)
    if operation == "attention":
        codes, threshold, comparison = (), None, None
    if problems:
        raise PlanRejected("; ".join(problems))
    plan = Plan("data", subject, patient_id if subject == "patient" else None, codes, operation, threshold,
                comparison, window, cohort)
    try:
        return validate_plan(plan)
    except PlanError as exc:
        raise PlanRejected(str(exc)) from exc


# ------------------------------------------------------------------------------------------------ the run
@dataclass
class ModelPlanOutcome:
    """What the model planner made of a question: a plan (data or general) or the reason there is none."""

    plan: Plan | None
    reason: str = ""                  # why no plan, in words a clinician can read
    reply: str = ""                   # the model's JSON as written
    confidence: dict[str, float] = field(default_factory=dict)   # kind / subject / operation: the model's p
    seconds: float = 0.0
    prompt_tokens: int = 0
    reply_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict() if self.plan else None, "reason": self.reason, "reply": self.reply,
                "confidence": {k: round(v, 3) for k, v in self.confidence.items()},
                "seconds": round(self.seconds, 3), "prompt_tokens": self.prompt_tokens,
                "reply_tokens": self.reply_tokens}


def plan_with_model(engine: Any, *, question: str, patient_id: str | None, today: date,
                    min_confidence: float = MIN_CONFIDENCE, cancel: threading.Event | None = None) -> ModelPlanOutcome:
    """Ask ``engine`` (a :class:`desktop.core.llm.engine.Engine`, on its owning thread) for the plan of
    ``question``. Greedy decoding under :func:`reply_grammar`; the reply is then checked by
    :func:`plan_from_reply` and by the model's own confidence in the choices it made."""
    from desktop.core.llm.engine import SamplingParams

    started = time.perf_counter()
    # The adapter's prompt when the engine runs the project's adapter, the few-shot prompt otherwise.
    trained = getattr(engine, "adapter_path", None) is not None
    messages = plan_prompt_messages(question, patient_selected=patient_id is not None, trained=trained)
    tokens = engine.tokenize(engine.chat_template.render(messages, add_generation_prompt=True))
    probe = _TokenProbe(engine)
    pieces: list[str] = []
    stats = engine.generate(tokens, params=SamplingParams(temperature=0.0, repeat_penalty=1.0,
                                                          max_tokens=MAX_REPLY_TOKENS),
                            on_text=pieces.append, cancel=cancel, grammar=reply_grammar(), on_token=probe)
    reply = "".join(pieces)
    outcome = ModelPlanOutcome(None, reply=reply, prompt_tokens=len(tokens), reply_tokens=stats.completion_tokens)
    try:
        if stats.stop_reason == "cancelled":
            outcome.reason = "stopped"
            return outcome
        try:
            data = json.loads(reply)
        except json.JSONDecodeError:
            outcome.reason = f"the model's reply was not complete JSON ({stats.stop_reason})"
            return outcome
        if not isinstance(data, dict):
            outcome.reason = "the model's reply was not a JSON object"
            return outcome
        outcome.confidence = probe.choices(reply, data)
        doubtful = [f"{k} {v:.0%}" for k, v in outcome.confidence.items() if v < min_confidence]
        if doubtful:
            outcome.reason = f"the model was unsure of its plan ({', '.join(doubtful)})"
            return outcome
        try:
            outcome.plan = plan_from_reply(data, question=question, patient_id=patient_id, today=today)
        except (PlanError, ValueError, TypeError) as exc:
            outcome.reason = str(exc)
        return outcome
    finally:
        outcome.seconds = time.perf_counter() - started


class _TokenProbe:
    """Per sampled token: its text and the logits it was sampled from (the context's, before the grammar
    narrowed the choice), so that each choice the model made can be weighed against its alternatives."""

    def __init__(self, engine: Any) -> None:
        import llama_cpp
        import numpy as np

        self._np = np
        self._engine = engine
        self._logits = llama_cpp.llama_get_logits_ith
        self._n_vocab = int(engine.llm.n_vocab())
        self.tokens: list[tuple[int, str, Any]] = []

    def __call__(self, token: int) -> None:
        ptr = self._logits(self._engine.llm._ctx.ctx, -1)
        logits = self._np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).copy()
        self.tokens.append((token, self._engine.piece_bytes(token).decode("utf-8", errors="replace"), logits))

    def _first_tokens(self, values: tuple[str, ...]) -> list[int]:
        return sorted({int(self._engine.llm.tokenize(v.encode("utf-8"), add_bos=False, special=False)[0])
                       for v in values})

    def choices(self, reply: str, data: dict[str, Any]) -> dict[str, float]:
        """For kind, subject and operation: the probability of the chosen value's first token among the first
        tokens of the values the schema allows (the later tokens of a value follow from its first)."""
        np = self._np
        starts: list[int] = []
        at = 0
        for _, piece, _ in self.tokens:
            starts.append(at)
            at += len(piece)
        enums = {"kind": ("data", "general"), "subject": ("patient", "workspace"), "operation": OPERATIONS}
        out: dict[str, float] = {}
        for key in ("kind",) if data.get("kind") != "data" else ("kind", "subject", "operation"):
            m = re.search(rf'"{key}"\s*:\s*"', reply)
            i = next((j for j, s in enumerate(starts) if s == m.end()), None) if m else None
            if i is None:
                out[key] = 0.0  # the value did not start on a token boundary: no measure, so no trust
                continue
            token, _, logits = self.tokens[i]
            allowed = self._first_tokens(enums[key])
            if token not in allowed:
                out[key] = 0.0
                continue
            z = logits[allowed] - logits[allowed].max()
            out[key] = float(np.exp(z[allowed.index(token)]) / np.exp(z).sum())
        return out
