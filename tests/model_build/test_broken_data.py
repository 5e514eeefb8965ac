"""Broken data files through `prepare`: each gives one clear error naming the file, the record and the
problem (never a traceback, never silent acceptance), and the cleaning rules for public Q&A."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_build import cli, prepare
from model_build.config import config_from_dict
from model_build.data import adapters
from model_build.data.clean import clean, split

GOOD_ALPACA = [{"instruction": "Answer this question truthfully", "input": "What is HbA1c?",
                "output": "Average blood glucose over about three months."}] * 2
# (format, file name, content as bytes, words the error must contain)
BROKEN: list[tuple[str, str, bytes, tuple[str, ...]]] = [
    ("alpaca", "notjson.json", b"this is not json", ("line 1", "not valid JSON")),
    ("alpaca", "truncated.json", json.dumps(GOOD_ALPACA).encode()[:-20], ("not valid JSON",)),
    ("alpaca", "latin1.json", '[{"instruction": "é", "input": "q", "output": "réponse"}]'.encode("latin-1"),
     ("line 1", "not UTF-8")),
    ("alpaca", "empty.json", b"", ("empty",)),
    ("alpaca", "blank.json", b"  \n\n", ("empty",)),
    ("alpaca", "emptylist.json", b"[]", ("no rows",)),
    ("alpaca", "dict.json", b'{"instruction": "x", "data": [1, 2]}', ("line 1", "instruction/input/output")),
    ("alpaca", "scalars.json", b"[1, 2, 3]", ("record 0", "instruction/input/output")),
    ("alpaca", "dictanswer.json", b'[{"instruction": "q", "input": "", "output": {"text": "a"}}]',
     ("record 0", "'output'", "dict")),
    ("alpaca", "listinput.json", b'[{"instruction": "q", "input": ["a"], "output": "b"}]', ("record 0", "list")),
    ("alpaca", "nullanswer.json", b'[{"instruction": "q", "input": "i", "output": null}]', ("record 0", "null")),
    ("alpaca", "badline.jsonl", b'{"instruction": "q", "input": "i", "output": "a"}\n{"instruction": \n',
     ("line 2", "not valid JSON")),
    ("alpaca", "boolanswer.json", b'[{"instruction": "q", "input": "i", "output": true}]', ("record 0", "bool")),
    ("qa_csv", "missingcol.csv", b"input,answer\nq,a\n", ("line 1", "expected columns")),
    ("qa_csv", "empty.csv", b"", ("empty",)),
    ("qa_csv", "headeronly.csv", b"input,output\n", ("no rows",)),
    ("qa_csv", "latin1.csv", "input,output\nq,caf\u00e9\n".encode("latin-1"), ("line 2", "not UTF-8")),
    ("qa_csv", "shortrow.csv", b"input,output\nq,a\nonly one cell\n", ("line 3", "cells")),
    ("qa_csv", "longrow.csv", b"input,output\nq,a,extra\n", ("line 2", "cells")),
    ("qa_csv", "semicolons.csv", b"input;output\nq;a\n", ("line 1", "expected columns")),
    ("pubmedqa", "notjson.json", b"{pmid: 1}", ("not valid JSON",)),
    ("pubmedqa", "list_of_str.json", b'["a", "b"]', ("entry 0", "expected an object")),
    ("pubmedqa", "scalar.json", b"42", ("top level",)),
    ("pubmedqa", "missing.json", b'{"1": {"QUESTION": "q"}}', ("entry 1", "final_decision")),
    ("pubmedqa", "dictanswer.json",
     b'{"1": {"QUESTION": "q", "final_decision": "yes", "LONG_ANSWER": {"t": 1}}}', ("entry 1", "dict")),
    ("pubmedqa", "empty.json", b"{}", ("no rows",)),
    ("chat_jsonl", "notjson.jsonl", b"hello\n", ("line 1", "not valid JSON")),
    ("chat_jsonl", "nomessages.jsonl", b'{"text": "x"}\n', ("line 1", "messages")),
    ("chat_jsonl", "dictcontent.jsonl",
     b'{"messages": [{"role": "user", "content": {"a": 1}}, {"role": "assistant", "content": "b"}]}\n',
     ("line 1", "string content")),
    ("chat_jsonl", "noassistant.jsonl", b'{"messages": [{"role": "user", "content": "hi"}]}\n',
     ("line 1", "no assistant")),
    ("chat_jsonl", "pretty.jsonl", b'{\n "messages": []\n}\n', ("line 1", "not valid JSON")),
    ("chat_jsonl", "empty.jsonl", b"\n", ("empty",)),
]


def _cfg(tmp_path: Path, fmt: str, path: Path, synthetic: int = 0):
    return config_from_dict({"name": "t", "out_dir": str(tmp_path / "run"), "model": {"base": "x"},
                             "data": {"sources": [{"format": fmt, "path": str(path)}],
                                      "synthetic_patients": synthetic}})


@pytest.mark.parametrize(("fmt", "name", "content", "words"), BROKEN, ids=[f"{b[0]}-{b[1]}" for b in BROKEN])
def test_broken_file_gives_a_clear_error(tmp_path: Path, fmt: str, name: str, content: bytes,
                                         words: tuple[str, ...]) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(adapters.DataFormatError) as err:
        prepare.main(_cfg(tmp_path, fmt, path, synthetic=5))  # synthetic data on: the source is still checked
    message = str(err.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_cli_prints_the_error_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'[{"instruction": "q", "input": "", "output": {"text": "a"}}]')
    config = tmp_path / "c.toml"
    config.write_text(f'name = "t"\nout_dir = "{tmp_path / "run"}"\n[model]\nbase = "x"\n'
                      f'[data]\nsynthetic_patients = 0\n[[data.sources]]\nformat = "alpaca"\npath = "{bad}"\n')
    assert cli.main(["prepare", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(bad) in err and "record 0" in err


def test_alpaca_empty_input_under_boilerplate_is_dropped_not_trained_on(tmp_path: Path) -> None:
    boiler = "If you are a doctor, please answer the medical questions based on the patient's description."
    rows = [{"instruction": boiler, "input": "I have a cough.", "output": "Rest and drink fluids."},
            {"instruction": boiler, "input": "I have a rash.", "output": "Keep the skin dry."},
            {"instruction": boiler, "input": "", "output": "Take paracetamol."},
            {"instruction": "What does HbA1c measure?", "input": "", "output": "Average blood glucose."}]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(rows))
    got = list(adapters.read_alpaca(path, "a"))
    kept, report = clean(got, min_answer_chars=2, max_prompt_chars=4000, max_answer_chars=2000)
    assert report["a"] == {"kept": 3, "empty prompt": 1}
    assert kept[-1]["messages"][0]["content"] == "What does HbA1c measure?"
    assert all(r["answer"] != "Take paracetamol." for r in kept)


def test_invented_patient_turn_is_cut() -> None:
    rec = {"id": "x-0", "group": "x-0", "source": "x", "system": None,
           "messages": [{"role": "user", "content": "I have a cough."}],
           "answer": "Rest and drink fluids. Patient: Thank you doctor! Doctor: You are welcome."}
    kept, _ = clean([rec], min_answer_chars=2, max_prompt_chars=4000, max_answer_chars=2000)
    assert kept[0]["answer"] == "Rest and drink fluids."


def test_near_duplicates_are_removed_and_never_split_across_train_and_test() -> None:
    def rec(i: int, prompt: str, answer: str) -> dict:
        return {"id": f"p-{i}", "group": f"p-{i}", "source": "p", "system": None,
                "messages": [{"role": "user", "content": prompt}], "answer": answer}

    opening = "Hi, thank you for your query. Based on your symptoms you may have a viral infection. "
    rows = [rec(0, "I have a cough.", "Rest and drink fluids."),
            rec(1, "i have a COUGH!", "Rest, and drink fluids")]  # the same row up to case and punctuation
    rows += [rec(i, f"Question number {i} about fever", opening + f"Detail {i}.") for i in range(2, 40)]
    kept, report = clean(rows, min_answer_chars=2, max_prompt_chars=4000, max_answer_chars=2000)
    assert report["p"]["duplicate"] == 1
    template = {r["group"] for r in kept if r["answer"].startswith("Hi, thank")}
    assert len(template) == 1  # one template, one group
    parts = split(kept, val_fraction=0.1, test_fraction=0.3, seed=3)
    holding = [name for name, part in parts.items() if any(r["answer"].startswith("Hi, thank") for r in part)]
    assert len(holding) == 1
