"""The context builder on a long, messy record: a generated cohort made longer (150+ kinds of observation,
30+ active conditions, surveys, QALY/DALY rows, a death), imported by the real importer, counted with the
real model's tokenizer. The budget is never exceeded, whatever the question."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.core.assistant.context import build_patient_context, fit_to_budget, rank_lines
from desktop.core.assistant.verify import CONTRADICTED, VERIFIED, verify_text
from desktop.core.importers import import_paths
from desktop.core.resources import resource_path
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import generate_cohort

MODEL = resource_path("models", "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="module")
def count_tokens() -> Callable[[str], int]:
    """The default model's own tokenizer (vocabulary only: no weights are loaded)."""
    from llama_cpp import Llama

    model = Llama(str(MODEL), vocab_only=True, verbose=False)
    return lambda text: len(model.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def _lengthen(synthea: Path, patient: str) -> None:
    """Give one patient 60 more kinds of lab result over ten years and 32 more active conditions, written the
    way Synthea writes them (so the real importer reads them)."""
    with open(synthea / "observations.csv", "a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")  # as the generator writes
        for k in range(60):
            for year in range(2014, 2024, 3):
                w.writerow([f"{year}-03-0{1 + k % 9}T08:00:00Z", patient, "", "laboratory", f"99{k:03d}-{k % 10}",
                            f"Rare analyte {k} [Mass/volume] in Serum", f"{10 + k + year % 7}.{k % 10}", "mg/L",
                            "numeric"])
    with open(synthea / "conditions.csv", "a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")  # as the generator writes
        for k in range(32):
            w.writerow([f"20{10 + k % 14}-01-15", "", patient, "", "SNOMED-CT", f"7000{k:02d}",
                        f"Chronic condition number {k} (disorder)"])


@pytest.fixture(scope="module")
def long_record(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, str, str | None]:
    folder = tmp_path_factory.mktemp("long")
    generate_cohort(folder, patients=10, years=10, seed=4, wide_rows=0, extra_files=False)
    synthea = folder / "synthea"
    with open(synthea / "observations.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    kinds: dict[str, set[str]] = {}
    for r in rows:
        kinds.setdefault(r["PATIENT"], set()).add(r["CODE"])
    richest = max(kinds, key=lambda p: len(kinds[p]))
    _lengthen(synthea, richest)
    store = open_store(folder / "ws.duckdb")
    import_paths(store, [synthea])
    dead = store.con.execute("SELECT patient_id FROM patients WHERE death_date IS NOT NULL LIMIT 1").fetchone()
    yield store, richest, dead[0] if dead else None
    store.close()


def test_the_record_is_as_long_as_the_issue_says(long_record: tuple[Store, str, str | None]) -> None:
    store, pid, _ = long_record
    kinds, conditions = store.con.execute(
        "SELECT (SELECT count(DISTINCT code) FROM observations WHERE patient_id = ?), "
        "(SELECT count(DISTINCT description) FROM conditions WHERE patient_id = ? AND resolved IS NULL)",
        [pid, pid]).fetchone()
    assert kinds >= 150 and conditions >= 30


QUESTIONS = ("What is her latest HbA1c?", "how is the blood pressure?", "summarise this patient",
             "what was the last QALY?", "any survey answers about alcohol?", "is the rare analyte 7 high?")


@pytest.mark.parametrize("budget", [40, 150, 400, 1000, 2500])
def test_the_budget_is_never_exceeded(long_record: tuple[Store, str, str | None], budget: int,
                                      count_tokens: Callable[[str], int]) -> None:
    store, pid, _ = long_record
    for question in QUESTIONS:
        context = build_patient_context(store, patient_id=pid, question=question, budget_tokens=budget,
                                        count_tokens=count_tokens)
        assert count_tokens(context.text) <= budget and context.tokens <= budget
        assert context.text.startswith("Patient:")


def test_what_the_question_is_about_comes_first(long_record: tuple[Store, str, str | None],
                                                count_tokens: Callable[[str], int]) -> None:
    store, pid, _ = long_record
    context = build_patient_context(store, patient_id=pid, question="what is the latest weight?", budget_tokens=300,
                                    count_tokens=count_tokens)
    lines = context.text.splitlines()
    assert lines[1] == "What the question is about:" and lines[2].startswith("- Body weight:")
    assert "more facts left out to fit" in context.text and context.left_out > 0
    # Then vitals, abnormal results, conditions, in that order (those that fit).
    order = [h for h in ("Vital signs:", "Abnormal results:", "Active conditions:", "Recent trends:") if h in lines]
    assert order == sorted(order, key=lines.index) and "Vital signs:" in order


def test_surveys_and_qaly_rows_only_when_asked(long_record: tuple[Store, str, str | None],
                                              count_tokens: Callable[[str], int]) -> None:
    store, pid, _ = long_record
    plain = build_patient_context(store, patient_id=pid, question="how is she doing?", budget_tokens=20000,
                                  count_tokens=count_tokens)
    assert not re.search(r"\b(QALY|DALY|QOLS)\b|PHQ|AUDIT", plain.text)
    assert plain.administrative_left_out > 5
    assert "Chronic condition number 31" in plain.text and "Rare analyte 59" in plain.text  # a big budget holds all
    asked = build_patient_context(store, patient_id=pid, question="what was the last QALY?", budget_tokens=400,
                                  count_tokens=count_tokens)
    assert "- QALY:" in asked.text.split("Vital signs:")[0]


def test_a_death_is_said_with_its_date(long_record: tuple[Store, str, str | None],
                                       count_tokens: Callable[[str], int]) -> None:
    store, _, dead = long_record
    if dead is None:
        pytest.fail("the generated cohort has no death: choose a seed that has one")
    died = store.con.execute("SELECT death_date FROM patients WHERE patient_id = ?", [dead]).fetchone()[0]
    context = build_patient_context(store, patient_id=dead, question="how is he?", budget_tokens=60,
                                    count_tokens=count_tokens)
    assert f"Died on {died.isoformat()}" in context.text.splitlines()[0]


def test_the_facts_given_verify_a_faithful_answer(long_record: tuple[Store, str, str | None],
                                                  count_tokens: Callable[[str], int]) -> None:
    store, pid, _ = long_record
    context = build_patient_context(store, patient_id=pid, question="latest weight?", budget_tokens=500,
                                    count_tokens=count_tokens)
    weight = next(f for f in context.facts if f.label == "Body weight")
    text = f"The latest body weight is {weight.value:g} kg, recorded on {weight.observed_at[:10]}."
    verdict = verify_text(text, facts=context.facts, summary=context.summary)
    assert verdict.status == VERIFIED, verdict.to_dict()
    wrong = verify_text(f"The latest body weight is {weight.value + 7:g} kg.", facts=context.facts)
    assert wrong.status == CONTRADICTED


def test_fitting_is_pure_and_any_counter_works() -> None:
    summary = {"patient": {"id": "p", "name": "A", "sex": "F", "age": 40.0, "conditions": ["Asthma"]},
               "latest": [{"code": "8867-4", "name": "Heart rate", "category": "vital", "value": 120.0, "unit": "/min",
                           "flag": "H", "rule": "H: > 100 /min (MedlinePlus: 60-100/min)",
                           "observed_at": "2024-01-01T00:00:00", "count": 3}]}
    lines, _ = rank_lines(summary, question="")
    by_chars = fit_to_budget(lines, budget_tokens=30, count_tokens=len)  # one "token" per character
    assert len(by_chars.text) <= 30
    whole = fit_to_budget(lines, budget_tokens=10_000, count_tokens=len)
    assert "Heart rate: 120 /min on 2024-01-01, flagged H (H: > 100 /min, MedlinePlus)" in whole.text
    assert whole.left_out == 0 and "Asthma" in whole.text


_FIGURE = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?(?![\w])")


def test_the_real_model_reads_the_context_and_every_figure_it_writes_is_judged(
        long_record: tuple[Store, str, str | None]) -> None:
    """The default GGUF in llama.cpp, the context built to fit its window, the answer streamed through the
    verifier as it is generated: every figure the model writes is a span, and the streamed verdict is the
    verdict on the whole text."""
    from desktop.core.assistant.verify import StreamingVerifier
    from desktop.core.llm.engine import Engine, SamplingParams
    from desktop.core.llm.prompt import ChatMessage

    store, pid, _ = long_record
    engine = Engine.load(MODEL, n_ctx=2048, n_threads=2)
    try:
        question = "What is the patient's latest blood pressure, and is it high?"
        context = build_patient_context(store, patient_id=pid, question=question, budget_tokens=700,
                                        count_tokens=engine.count_tokens)
        messages = [ChatMessage("system", "Answer from the patient record below, quoting its values.\n\n"
                                          + context.text), ChatMessage("user", question)]
        prompt = engine.tokenize(engine.chat_template.render(messages))
        assert len(prompt) < 2048 - 120
        verifier = StreamingVerifier(facts=context.facts, summary=context.summary)
        streamed: list[object] = []
        engine.generate(prompt, params=SamplingParams(temperature=0.0, max_tokens=120, seed=1),
                        on_text=lambda piece: streamed.extend(verifier.feed(piece)))
        streamed.extend(verifier.finish())
    finally:
        engine.close()
    text = verifier.text
    assert text.strip(), "the model wrote nothing"
    assert streamed == verify_text(text, facts=context.facts, summary=context.summary).spans
    judged = [(s.start, s.end) for s in verifier.verdict.spans]
    for m in _FIGURE.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if re.match(r"\s*$", text[line_start:m.start()]) and re.match(r"[.)]\s", text[m.end():m.end() + 2]):
            continue  # a list marker
        if re.search(r"(type|stage|class|grade|step|phase|part|item|question|no\.?|number)\s$",
                     text[:m.start()], re.IGNORECASE):
            continue
        assert any(a <= m.start() and m.end() <= b for a, b in judged), (m.group(), text)
