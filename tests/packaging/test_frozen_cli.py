"""The frozen command line, as IT staff would script it: selfcheck, import, patients, summary."""

from __future__ import annotations

import shutil
import tomllib

import pytest

from desktop.core.llm.model_files import DEFAULT_MODEL_NAME
from tests.packaging.conftest import ROOT, FrozenApp

pytestmark = pytest.mark.bundle


def test_selfcheck(frozen: FrozenApp) -> None:
    report = frozen.run_json("selfcheck")
    failed = [c for c in report["checks"] if not c["ok"]]
    assert report["ok"], failed
    assert report["frozen"] is True
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert report["version"] == pyproject["project"]["version"]
    details = {c["check"]: c["detail"] for c in report["checks"]}
    # Resources and llama.cpp come from inside the bundle, not from a checkout or a virtualenv.
    assert details["resources"].startswith(str(frozen.internal))
    assert str(frozen.internal) in details["llama_cpp"]
    assert "refused without it" in details["encrypted_workspace"]
    # The shipped planner adapter is in the bundle and checked against its manifest and its base.
    assert "adapter checked" in details["models"] and "planning questions" in details["models"]


def test_import_patients_summary(frozen: FrozenApp) -> None:
    # The user's own copies of the CSVs, as a clinician would have them (not inside the bundle).
    shutil.copytree(ROOT / "resources" / "sample" / "synthea", frozen.home / "export")
    shutil.copy(ROOT / "resources" / "sample" / "admissions_wide.csv", frozen.home)
    workspace = str(frozen.home / "ws.duckdb")
    # Exit 1: some rows are rejected (the sample has implausible rows on purpose); the rest is imported.
    report = frozen.run_json(
        "import", "--workspace", workspace, "export", "admissions_wide.csv", ok_codes=(0, 1)
    )
    assert all(f["status"] != "failed" for f in report["files"]), report["files"]
    assert sum(f["rows_accepted"] for f in report["files"]) > 1000

    patients = frozen.run_json("patients", "--workspace", workspace)
    assert len(patients) >= 60
    summary = frozen.run_json("summary", "--workspace", workspace, "--patient", patients[0]["id"])
    assert summary


def test_bad_file_is_reported_not_crashed(frozen: FrozenApp) -> None:
    (frozen.home / "not-a-csv.csv").write_bytes(b"\x00\x01\x02binary\xff\xfe")
    proc = frozen.run(
        "import", "--workspace", str(frozen.home / "ws.duckdb"), "not-a-csv.csv", label="import-bad-file"
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


def test_patients_of_shipped_sample(frozen: FrozenApp, sample_workspace) -> None:
    patients = frozen.run_json("patients", "--workspace", str(sample_workspace), label="patients-sample")
    assert len(patients) >= 60


def test_chat_streams_an_answer(frozen: FrozenApp, sample_workspace) -> None:
    patients = frozen.run_json("patients", "--workspace", str(sample_workspace), label="patients-for-chat")
    proc = frozen.run(
        "chat",
        "--workspace",
        str(sample_workspace),
        "--patient",
        patients[0]["id"],
        "--max-tokens",
        "32",
        "--threads",
        "1",
        "What lifestyle advice could help this patient?",   # a general question: the bundled model answers
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip(), "no answer on stdout"
    assert "tokens/s" in proc.stderr  # the figures line: the answer came from the bundled model
    assert "[checked against the record:" in proc.stdout  # and the verifier read it


def test_chat_computes_a_data_question_without_the_model(frozen: FrozenApp, sample_workspace) -> None:
    proc = frozen.run("chat", "--workspace", str(sample_workspace), "--json",
                      "How many patients have hypertension?", timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    answer = json.loads(proc.stdout)
    assert answer["computed"] and answer["plan"]["subject"] == "workspace" and "SELECT" in answer["sql"][0]
    assert answer["facts"][0]["value"] == len(answer["rows"]) > 0


def test_trial_load_child(frozen: FrozenApp) -> None:
    # The model manager loads an unknown GGUF in a child first; frozen, that child is this executable.
    # The shipped model, not the LoRA adapter beside it (an adapter alone is no model to load).
    model = frozen.internal / "resources" / "models" / DEFAULT_MODEL_NAME
    proc = frozen.run("trial-load", str(model), timeout=120)
    assert proc.returncode == 0 and "trial-load-ok" in proc.stdout, proc.stderr[-3000:]
