"""Stage 6, quantize: f16 GGUF -> each of ``quantize.types`` with llama.cpp's quantizer.

``llama_cpp.llama_model_quantize`` runs in a child process (native code may abort). The file is then
read back: which tensors got which type, which 2-D tensors fell back to another type than the file
type's own (llama.cpp does that silently, with exit 0, when a row length is not a multiple of the block
size; SmolLM2's 576-wide rows make "Q4_K_M" mostly Q5_0), and the effective bits per weight.
"""

from __future__ import annotations

import logging
import re

from model_build.config import BuildConfig
from model_build.gguf_info import tensor_stats
from model_build.paths import RunPaths, gguf_path
from model_build.util import run_child, write_json

log = logging.getLogger(__name__)
_FALLBACK_LINE = re.compile(r"(\d+) of (\d+) tensor\(s\) required fallback")


def main(cfg: BuildConfig) -> dict:
    src = gguf_path(cfg, cfg.convert.outtype.upper())
    if not src.is_file():
        raise FileNotFoundError(f"expected the {cfg.convert.outtype} GGUF at {src}; run `convert` first")
    report = {"source": {"file": src.name, **tensor_stats(src, cfg.convert.outtype.upper())}, "files": {}}
    for qtype in cfg.quantize.types:
        dst = gguf_path(cfg, qtype)
        proc = run_child(["-m", "model_build.llama_worker", "quantize", str(src), str(dst), qtype],
                         log_path=dst.with_suffix(".quantize.log"))
        stats = tensor_stats(dst, qtype)
        m = _FALLBACK_LINE.search(proc.stderr + proc.stdout)
        stats["llama_log_fallback_line"] = m.group(0) if m else None
        report["files"][qtype] = {"file": dst.name, **stats}
        log.info("quantize %s: %.2f bpw, %d bytes, %d/%d matrix tensors fell back", qtype,
                 stats["bits_per_weight"], stats["file_bytes"], stats["fallback_tensors"], stats["matrix_tensors"])
    write_json(RunPaths(cfg).quantize_report, report)
    return report
