"""Stage 1, prepare: read every source, add the generated patient-summary set, clean, split, report.

Writes ``data/{train,val,test}.jsonl`` and ``data/prepare_report.{json,md}`` under the run folder.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from pathlib import Path

from desktop.core.llm.manifest import sha256_file
from desktop.core.trained import system_text
from model_build.config import BuildConfig
from model_build.data import adapters, grounded, plans, synthetic
from model_build.data.clean import clean, split
from model_build.data.weights import apply_weights
from model_build.paths import SPLITS, RunPaths
from model_build.util import write_json, write_jsonl

log = logging.getLogger(__name__)


def load_sources(cfg: BuildConfig) -> tuple[list[dict], dict[str, str]]:
    records: list[dict] = []
    hashes: dict[str, str] = {}
    for i, src in enumerate(cfg.data.sources):
        path = Path(src.path)
        if not path.is_file():
            raise FileNotFoundError(f"data.sources[{i}]: expected a {src.format} file at {path}, found nothing")
        name = f"{src.format}:{path.stem}"
        if src.format == "qa_csv":
            rows = adapters.read_qa_csv(path, name, src.question_field, src.answer_field, src.instruction_field)
        else:
            rows = adapters.READERS[src.format](path, name)
        got = list(rows)
        if not got:  # reported even when synthetic data would fill the run: the source was meant to count
            raise adapters.DataFormatError(f"{path}: data.sources[{i}] has no rows ({src.format})")
        got = got[: src.limit] if src.limit else got
        # Public Q&A carries the app's own system prompt (a general question with no patient selected gets
        # exactly this text in the app), unless the file brought its own.
        records += [{**r, "system": r.get("system") or system_text("")} for r in got]
        hashes[str(path)] = sha256_file(path)
    if cfg.data.synthetic_patients > 0:
        records += synthetic.generate(cfg.data.synthetic_patients, cfg.data.questions_per_patient, cfg.seed,
                                      cfg.data.system_prompt)
        hashes["synthetic_patients"] = (f"generated: patients={cfg.data.synthetic_patients} "
                                        f"per_patient={cfg.data.questions_per_patient} seed={cfg.seed}")
    if cfg.data.plans_per_template > 0:
        unreachable: Counter = Counter()
        records += plans.generate(per_template=cfg.data.plans_per_template, seed=cfg.seed,
                                  test_fraction=max(cfg.data.test_fraction, 0.1), val_fraction=cfg.data.val_fraction,
                                  report=unreachable)
        hashes["plans"] = (f"generated: per_template={cfg.data.plans_per_template} seed={cfg.seed}; fills whose "
                           f"reply the app would not run as their plan, left out: {sum(unreachable.values())}")
    if cfg.data.grounded_patients > 0:
        records += grounded.generate(patients=cfg.data.grounded_patients,
                                     questions_per_patient=cfg.data.grounded_questions, seed=cfg.seed)
        hashes["grounded"] = (f"generated: patients={cfg.data.grounded_patients} "
                              f"per_patient={cfg.data.grounded_questions} seed={cfg.seed}")
    return records, hashes


def main(cfg: BuildConfig) -> dict:
    paths = RunPaths(cfg)
    records, source_hashes = load_sources(cfg)
    kept, drops = clean(records, min_answer_chars=cfg.data.min_answer_chars,
                        max_prompt_chars=cfg.data.max_prompt_chars, max_answer_chars=cfg.data.max_answer_chars)
    # Plan examples come with their split fixed (whole phrasing templates held out for test).
    parts = split([r for r in kept if not r.get("split")], val_fraction=cfg.data.val_fraction,
                  test_fraction=cfg.data.test_fraction, seed=cfg.seed)
    for rec in kept:
        if rec.get("split"):
            parts[rec["split"]].append(rec)
    parts["train"], weighted = apply_weights(parts["train"], cfg.data.weights, seed=cfg.seed)
    if not parts["train"]:
        raise ValueError(f"prepare: no training rows left after cleaning ({len(records)} read); see the report")
    files = {}
    for name in SPLITS:
        path = write_jsonl(paths.split(name), parts[name])
        files[name] = {"rows": len(parts[name]), "sha256": sha256_file(path)}
    report = {"read": len(records), "kept": len(kept), "sources": source_hashes,
              "per_source": {s: dict(c) for s, c in drops.items()}, "splits": files, "seed": cfg.seed,
              "train_rows_by_weight_kind": weighted, "weights": dataclasses.asdict(cfg.data.weights)}
    write_json(paths.prepare_report, report)
    paths.prepare_report.with_suffix(".md").write_text(_markdown(report))
    log.info("prepare: %d read, %d kept, splits %s", len(records), len(kept),
             {k: v["rows"] for k, v in files.items()})
    return report


def _markdown(report: dict) -> str:
    lines = ["# Data preparation", "", f"Read {report['read']} rows, kept {report['kept']}.", "",
             "| source | kept | dropped (reason: count) |", "|---|---|---|"]
    for src, counts in report["per_source"].items():
        dropped = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if k != "kept") or "none"
        lines.append(f"| {src} | {counts.get('kept', 0)} | {dropped} |")
    lines += ["", "| split | rows | sha256 |", "|---|---|---|"]
    lines += [f"| {k} | {v['rows']} | `{v['sha256'][:16]}…` |" for k, v in report["splits"].items()]
    return "\n".join(lines) + "\n"

