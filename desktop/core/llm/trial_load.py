"""Load a model in a child process first, so a file that makes llama.cpp abort cannot take the app down.

A malformed GGUF can hit a ``GGML_ASSERT`` deep in llama.cpp, which aborts the whole process; no Python
``try`` catches that. The child loads the file, evaluates one token and prints ``ok``; anything else
(an exception, a signal, a timeout) becomes a :class:`ModelFileError` carrying the tail of its stderr.

Run directly: ``python -m desktop.core.llm.trial_load MODEL.gguf``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from desktop.core.llm.gguf_info import ModelFileError

OK_LINE = "trial-load-ok"


def _child_command(model: Path) -> list[str]:
    # Frozen builds have no ``-m``; the app's entry point forwards ``trial-load`` here (see desktop.__main__).
    if getattr(sys, "frozen", False):
        return [sys.executable, "trial-load", str(model)]
    return [sys.executable, "-m", "desktop.core.llm.trial_load", str(model)]


def trial_load(model: str | Path, *, timeout_s: float = 120.0) -> None:
    """Raise :class:`ModelFileError` unless a child process can load ``model`` and evaluate a token."""
    model = Path(model)
    env = dict(os.environ)
    env.setdefault("PYTHONFAULTHANDLER", "0")
    try:
        proc = subprocess.run(
            _child_command(model),
            check=False,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelFileError(f"{model}: trial load did not finish within {timeout_s:.0f} s") from exc
    if proc.returncode == 0 and OK_LINE in proc.stdout:
        return
    tail = _interesting_tail(proc.stderr)
    if proc.returncode < 0:
        try:
            how = f"crashed ({signal.Signals(-proc.returncode).name})"
        except ValueError:
            how = f"crashed (signal {-proc.returncode})"
    else:
        how = f"failed (exit code {proc.returncode})"
    raise ModelFileError(f"{model}: llama.cpp {how} while loading it" + (f": {tail}" if tail else ""))


def _interesting_tail(stderr: str, limit: int = 400) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    # llama.cpp's own reason ("error loading model: missing tensor ...", an assert) beats Python's summary.
    picked = [ln for ln in lines if "GGML_ASSERT" in ln or "error loading model" in ln]
    picked = picked or [ln for ln in lines if any(k in ln for k in ("error", "Error", "failed"))]
    text = " | ".join(dict.fromkeys((picked or lines)[-2:]))
    return text[-limit:]


def _child_main(path: str) -> int:
    from llama_cpp import Llama

    # verbose: llama.cpp's log goes to this child's stderr, where the parent picks the reason out of it.
    llm = Llama(model_path=path, n_ctx=64, n_batch=32, n_threads=1, verbose=True)
    tokens = llm.tokenize(b"Hello", add_bos=True)
    llm.eval(tokens[:8])
    print(OK_LINE, flush=True)
    return 0


def run_child(path: str) -> int:
    """The child's whole job; an exception becomes one ``error:`` line, not a traceback to parse."""
    try:
        return _child_main(path)
    except Exception as exc:  # noqa: BLE001  (whatever it is, the parent gets one readable line)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m desktop.core.llm.trial_load MODEL.gguf", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(run_child(sys.argv[1]))
