"""Readers for the public healthcare QA formats, each turning a file into prepared example records.

Record shape (one JSONL line after prepare)::

    {"id": str, "group": str, "source": str, "system": str | None,
     "messages": [{"role": "user", "content": str}, ...],   # the prompt turns, no answer
     "answer": str}

``group`` keeps related rows in one split (all questions about one synthetic patient); for public data
it is the row id. Readers do no cleaning: clean.py does that for every source the same way and reports it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Record = dict[str, Any]


class DataFormatError(ValueError):
    pass


def _record(source: str, idx: int | str, prompt: str, answer: str, system: str | None = None,
            messages: list[dict[str, str]] | None = None) -> Record:
    rid = f"{source}-{idx}"
    return {"id": rid, "group": rid, "source": source, "system": system,
            "messages": messages if messages is not None else [{"role": "user", "content": prompt}],
            "answer": answer}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def read_alpaca(path: Path, source: str) -> Iterator[Record]:
    """Alpaca-style JSON list (or JSONL) of {instruction, input, output}: ChatDoctor/GenMedGPT, medalpaca.

    The instruction and the input are joined with a blank line: in ChatDoctor the instruction is a fixed
    "If you are a doctor..." line and the input is the patient's message; in medalpaca flashcards the
    instruction is a fixed "Answer this question truthfully" and the input the question.
    """
    text = path.read_text(encoding="utf-8")
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines()
                                                                   if x.strip()]
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "output" not in row or ("instruction" not in row and "input" not in row):
            raise DataFormatError(f"{path}: row {i}: expected keys instruction/input/output, "
                                  f"found {sorted(row) if isinstance(row, dict) else type(row).__name__}")
        prompt = "\n\n".join(x for x in (_text(row.get("instruction")).strip(), _text(row.get("input")).strip())
                             if x)
        yield _record(source, i, prompt, _text(row["output"]))


def read_qa_csv(path: Path, source: str, question: str = "input", answer: str = "output",
                instruction: str = "") -> Iterator[Record]:
    """Question/answer CSV (Doctor-HealthCare-100k: `input` = patient question, `output` = answer)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = set(reader.fieldnames or [])
        needed = {question, answer} | ({instruction} if instruction else set())
        if not needed <= cols:
            raise DataFormatError(f"{path}: expected columns {sorted(needed)}, found {sorted(cols)}")
        for i, row in enumerate(reader):
            prompt = _text(row[question])
            if instruction and _text(row[instruction]).strip():
                prompt = f"{row[instruction].strip()}\n\n{prompt}"
            yield _record(source, i, prompt, _text(row[answer]))


def read_pubmedqa(path: Path, source: str) -> Iterator[Record]:
    """PubMedQA: the original dict {pmid: {QUESTION, CONTEXTS, final_decision, LONG_ANSWER}} or the HF
    list form {question, context: {contexts: [...]}, final_decision, long_answer}.

    The answer starts with the yes/no/maybe decision, then the long answer, so ROUGE/BLEU measure both.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.items() if isinstance(data, dict) else ((str(i), row) for i, row in enumerate(data))
    for key, row in items:
        q = row.get("QUESTION", row.get("question"))
        ctx = row.get("CONTEXTS", row.get("context"))
        if isinstance(ctx, dict):
            ctx = ctx.get("contexts")
        decision = row.get("final_decision")
        long_answer = row.get("LONG_ANSWER", row.get("long_answer"))
        if q is None or decision is None or long_answer is None:
            raise DataFormatError(f"{path}: entry {key}: expected QUESTION/question, final_decision and "
                                  f"LONG_ANSWER/long_answer, found {sorted(row)}")
        context = " ".join(ctx) if isinstance(ctx, list) else _text(ctx)
        prompt = (f"Context: {context}\n\n" if context else "") + f"Question: {q}\nAnswer yes, no or maybe."
        yield _record(source, key, prompt, f"{str(decision).capitalize()}. {long_answer}")


def read_chat_jsonl(path: Path, source: str) -> Iterator[Record]:
    """Chat JSONL, one {"messages": [{role, content}, ...]} per line.

    The last assistant turn is the answer; the turns before it are the prompt (a leading system turn
    becomes the record's system prompt), so multi-turn context is kept.
    """
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        msgs = row.get("messages") if isinstance(row, dict) else None
        if not isinstance(msgs, list) or not msgs:
            raise DataFormatError(f"{path}: line {i + 1}: expected a non-empty 'messages' list")
        for m in msgs:
            if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant") \
                    or not isinstance(m.get("content"), str):
                raise DataFormatError(f"{path}: line {i + 1}: expected messages with role "
                                      f"system/user/assistant and string content, found {m!r}")
        last = max((j for j, m in enumerate(msgs) if m["role"] == "assistant"), default=None)
        if last is None:
            raise DataFormatError(f"{path}: line {i + 1}: no assistant message to learn from")
        system = msgs[0]["content"] if msgs[0]["role"] == "system" else None
        prompt_msgs = [{"role": m["role"], "content": m["content"]} for m in msgs[:last] if m["role"] != "system"]
        yield _record(source, i, "", msgs[last]["content"], system, prompt_msgs)


READERS: dict[str, Callable[..., Iterator[Record]]] = {
    "alpaca": read_alpaca, "qa_csv": read_qa_csv, "pubmedqa": read_pubmedqa, "chat_jsonl": read_chat_jsonl,
}
