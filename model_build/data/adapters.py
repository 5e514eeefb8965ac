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
import io
import json
from collections import Counter
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


def _fail(path: Path, where: str, problem: str) -> DataFormatError:
    return DataFormatError(f"{path}: {where}: {problem}")


def _field(path: Path, where: str, row: dict, key: str, *, required: bool = True) -> str:
    """A text field of a row: a string (or a number), never a dict or list turned into its repr."""
    value = row.get(key)
    if value is None:
        if required:
            raise _fail(path, where, f"field {key!r} is missing or null")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail(path, where, f"field {key!r} should be text, found a {type(value).__name__}")
    return str(value)


def read_text_file(path: Path) -> str:
    """The file as UTF-8 text; a clear error for another encoding (Latin-1 exports) or an empty file."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(path, f"line {line}", f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                                          "re-save the file as UTF-8") from None
    if not text.strip():
        raise _fail(path, "line 1", "the file is empty")
    return text


def load_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"line {exc.lineno} column {exc.colno}",
                    f"not valid JSON ({exc.msg}); truncated or not a JSON file?") from None


def _json_rows(path: Path) -> list[tuple[str, Any]]:
    """(where, row) pairs from a JSON list or a JSONL file."""
    text = read_text_file(path)
    if text.lstrip().startswith("["):
        data = load_json(path, text)
        return [(f"record {i}", row) for i, row in enumerate(data)]
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append((f"line {n}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise _fail(path, f"line {n} column {exc.colno}",
                            f"not valid JSON ({exc.msg}); expected a JSON list or one object per line") from None
    return rows


def read_alpaca(path: Path, source: str) -> Iterator[Record]:
    """Alpaca-style JSON list (or JSONL) of {instruction, input, output}: ChatDoctor/GenMedGPT, medalpaca.

    The instruction and the input are joined with a blank line: in ChatDoctor the instruction is a fixed
    "If you are a doctor..." line and the input is the patient's message; in medalpaca flashcards the
    instruction is a fixed "Answer this question truthfully" and the input the question. A row with an
    empty input whose instruction is such a fixed line (shared with rows that do have an input) has no
    question at all: its prompt is left empty, so cleaning drops it as "empty prompt" rather than training
    on the boilerplate alone. An empty input under a real, one-off instruction keeps the instruction.
    """
    rows = _json_rows(path)
    parsed = []
    for i, (where, row) in enumerate(rows):
        if not isinstance(row, dict) or "output" not in row or ("instruction" not in row and "input" not in row):
            raise _fail(path, where, f"expected keys instruction/input/output, found "
                                     f"{sorted(row) if isinstance(row, dict) else type(row).__name__}")
        parsed.append((i, _field(path, where, row, "instruction", required=False).strip(),
                       _field(path, where, row, "input", required=False).strip(),
                       _field(path, where, row, "output")))
    shared = Counter(ins for _, ins, inp, _ in parsed if ins and inp)
    for i, ins, inp, out in parsed:
        if not inp and shared[ins] >= 2:
            yield _record(source, i, "", out)
        else:
            yield _record(source, i, "\n\n".join(x for x in (ins, inp) if x), out)


def read_qa_csv(path: Path, source: str, question: str = "input", answer: str = "output",
                instruction: str = "") -> Iterator[Record]:
    """Question/answer CSV (Doctor-HealthCare-100k: `input` = patient question, `output` = answer)."""
    text = read_text_file(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        cols = set(reader.fieldnames or [])
        needed = {question, answer} | ({instruction} if instruction else set())
        if not needed <= cols:
            raise DataFormatError(f"{path}: line 1: expected columns {sorted(needed)}, found {sorted(cols)}")
        for i, row in enumerate(reader):
            where = f"line {reader.line_num}"
            if None in row or any(row[c] is None for c in needed):  # too many / too few cells
                raise _fail(path, where, f"expected {len(reader.fieldnames or [])} cells, found "
                                         f"{len([v for k, v in row.items() if k is not None and v is not None])}"
                                         + (" and extra ones" if None in row else ""))
            prompt = _text(row[question])
            if instruction and _text(row[instruction]).strip():
                prompt = f"{row[instruction].strip()}\n\n{prompt}"
            yield _record(source, i, prompt, _text(row[answer]))
    except csv.Error as exc:
        raise _fail(path, f"line {reader.line_num}", f"not a valid CSV ({exc})") from None


def read_pubmedqa(path: Path, source: str) -> Iterator[Record]:
    """PubMedQA: the original dict {pmid: {QUESTION, CONTEXTS, final_decision, LONG_ANSWER}} or the HF
    list form {question, context: {contexts: [...]}, final_decision, long_answer}.

    The answer starts with the yes/no/maybe decision, then the long answer, so ROUGE/BLEU measure both.
    """
    data = load_json(path, read_text_file(path))
    if not isinstance(data, (dict, list)):
        raise _fail(path, "top level", f"expected an object of entries or a list, found {type(data).__name__}")
    items = data.items() if isinstance(data, dict) else ((str(i), row) for i, row in enumerate(data))
    for key, row in items:
        if not isinstance(row, dict):
            raise _fail(path, f"entry {key}", f"expected an object, found {type(row).__name__}")
        q = row.get("QUESTION", row.get("question"))
        ctx = row.get("CONTEXTS", row.get("context"))
        if isinstance(ctx, dict):
            ctx = ctx.get("contexts")
        decision = row.get("final_decision")
        long_answer = row.get("LONG_ANSWER", row.get("long_answer"))
        if q is None or decision is None or long_answer is None:
            raise DataFormatError(f"{path}: entry {key}: expected QUESTION/question, final_decision and "
                                  f"LONG_ANSWER/long_answer, found {sorted(row)}")
        where = f"entry {key}"
        for name, value in (("question", q), ("final_decision", decision), ("long_answer", long_answer)):
            if not isinstance(value, str):
                raise _fail(path, where, f"field {name!r} should be text, found a {type(value).__name__}")
        if ctx is not None and not isinstance(ctx, (str, list)):
            raise _fail(path, where, f"field 'contexts' should be a list of text, found a {type(ctx).__name__}")
        context = " ".join(map(_text, ctx)) if isinstance(ctx, list) else _text(ctx)
        prompt = (f"Context: {context}\n\n" if context else "") + f"Question: {q}\nAnswer yes, no or maybe."
        yield _record(source, key, prompt, f"{str(decision).capitalize()}. {long_answer}")


def read_chat_jsonl(path: Path, source: str) -> Iterator[Record]:
    """Chat JSONL, one {"messages": [{role, content}, ...]} per line.

    The last assistant turn is the answer; the turns before it are the prompt (a leading system turn
    becomes the record's system prompt), so multi-turn context is kept.
    """
    for i, line in enumerate(read_text_file(path).splitlines()):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(path, f"line {i + 1} column {exc.colno}", f"not valid JSON ({exc.msg})") from None
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
