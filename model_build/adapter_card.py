"""The model card of a shipped adapter (``<adapter>.card.md``): what it is, how it was made, what it scores.

Written from the adapter's manifest and the measurements, so the card never states a number the manifest
does not hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def card_path(lora: Path) -> Path:
    return lora.with_name(lora.stem + ".card.md")


def _acc(r: dict[str, Any]) -> str:
    return f"{r['accuracy']:.2f} [{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}] ({r['correct']}/{r['n']})"


def _steps(doc: dict[str, Any]) -> str:
    """The steps the adapter was taken at (best validation loss) out of the steps run."""
    train = doc["metrics"].get("train") or {}
    if train.get("adapter_step") and train.get("steps") and train["adapter_step"] != train["steps"]:
        return f"{train['adapter_step']} (lowest validation loss) of {train['steps']}"
    return str(train.get("steps") or doc["config"]["train"]["max_steps"])


def _plan(r: dict[str, Any]) -> str:
    return f"{_acc(r)} / {r['wrong']} / {r['declined']}"


def render(doc: dict[str, Any], measured: dict[str, Any]) -> str:
    cfg, m = doc["config"], doc["metrics"]
    cmp = m["vs_merged_hf"]
    splits = doc["data"].get("splits", {})
    lines = [
        f"# {doc['file']}", "",
        (f"A LoRA adapter (GGUF, {doc['quantization']}, {doc['size_bytes'] / 1e6:.1f} MB) for Vitalsight's "
        f"assistant, loaded by llama.cpp over `{doc['base']['file']}` (sha256 `{doc['base']['sha256'][:16]}…`; "
        "the app refuses any other base). Built by `make model` "
        f"(`model_build/configs/`, run name `{cfg['name']}`), {doc['created']}."), "",
        "## Configuration", "",
        (f"- LoRA r={doc['lora']['r']}, alpha={doc['lora']['alpha']}, dropout={cfg['lora']['dropout']}, on "
        f"{', '.join(doc['lora']['target_modules'])}"),
        (f"- training: {_steps(doc)} steps × batch {cfg['train']['batch_size']}, lr {cfg['train']['lr']}, "
        f"warmup {cfg['train']['warmup_steps']}, max_seq_len {cfg['train']['max_seq_len']}, seed {cfg['seed']}, "
        "fp32 on CPU, loss on answer tokens only"),
        (f"- base for training: the fp32 checkpoint dequantized from `{doc['base']['file']}`; chat format "
        f"{doc['chat_format']}"),
        "", "## Data", "",
        (f"- plans: the app's planner prompt -> its JSON reply, {cfg['data']['plans_per_template']} questions per "
        "phrasing template; whole templates held out for validation and test (`model_build/data/plans.py`, "
        "`plan_templates.py`)"),
        (f"- grounded: {cfg['data']['grounded_patients']} synthetic patients × {cfg['data']['grounded_questions']} "
         "questions, imported by the app's importer, answered with the app's computed text over the app's patient "
         "context (`model_build/data/grounded.py`)" if cfg["data"]["grounded_patients"] else
         "- grounded answers: not trained on (`data.grounded_patients = 0`); measured below only"),
        "- rows per split: " + ", ".join(f"{k} {v['rows']}" for k, v in splits.items()), "",
        "## Versions", "",
        "- " + ", ".join(f"{k} {v}" for k, v in doc["versions"].items()), "",
        "## Metrics (through llama.cpp, the app's prompt rendering and tokens)", "",
        (f"Base+adapter against the merged HF fp32 model on {cmp['conversations']} test conversations "
        f"({cmp['answer_tokens']} answer tokens): mean KLD {cmp['kld_mean']:.4f} nats (base alone: "
        f"{cmp['kld_mean_without_adapter']:.4f}), top-token agreement {cmp['same_top_token']:.3f} (base alone: "
        f"{cmp['same_top_token_without_adapter']:.3f}), greedy prefix agreement "
        f"{cmp['greedy_prefix_agreement']:.3f}."), "",
    ]
    plans = measured.get("plans")
    if plans:
        lines += [("The app's planner on held-out phrasing templates: the app's prompt (few-shot for the plain "
                   "base, the trained prompt with the adapter), its grammar, confidence gate and checks. Correct "
                   "[95% Wilson interval]; a wrong plan runs (marked as planned by the model), a declined one "
                   "computes nothing:"), "",
                  "| | plain base: correct / wrong / declined | base + adapter: correct / wrong / declined |",
                  "|---|---|---|", f"| all | {_plan(plans['base'])} | {_plan(plans['adapter'])} |"]
        for kind in sorted(plans["base"]["per_kind"]):
            b, a = plans["base"]["per_kind"][kind], plans["adapter"]["per_kind"].get(kind)
            lines.append(f"| {kind} | {_plan(b)} | {_plan(a) if a else '-'} |")
        lines += ["", (f"Median seconds per plan: base {plans['base']['median_seconds']:.2f}, base + adapter "
                       f"{plans['adapter']['median_seconds']:.2f}."), ""]
    clinician = measured.get("clinician")
    if clinician:
        b, a = clinician["base"], clinician["adapter"]
        lines += [(f"The clinicians' held-out phrasings (`benchmarks/eval_assistant_heldout.py`, {b['questions']} "
                   "questions the templates were not written from) on the sample workspace:"), "",
                  "| | plain base | base + adapter |", "|---|---|---|"]
        for key, label in (("model_asked", "asked the model"), ("model_plan_right", "model plan right"),
                           ("model_plan_wrong", "model plan wrong"), ("model_declined", "model declined"),
                           ("answers_right", "answers right"), ("answers_wrong_marked", "answers wrong, marked"),
                           ("not_computed", "not computed"), ("wrong_unmarked", "wrong figures shown unmarked")):
            lines.append(f"| {label} | {b[key]} | {a[key]} |")
        lines.append("")
    answers = measured.get("answers")
    if answers:
        b, a = answers["base"], answers["adapter"]
        lines += [("Answer accuracy on grounded questions about patients not trained on (every figure of the app's "
                  "computed answer stated, none invented):"), "",
                  "| | plain base | base + adapter |", "|---|---|---|",
                  f"| accuracy | {_acc(b)} | {_acc(a)} |",
                  (f"| figures stated / invented | {b['figures_stated']} / {b['figures_invented']} | "
                  f"{a['figures_stated']} / {a['figures_invented']} |"), ""]
    used = {"planner": "the fallback planner", "chat": "the chat's answers"}
    lines += [("Loaded by the app for: " + (", ".join(used.get(r, r) for r in doc.get("roles", [])) or "nothing")
               + ". The build lists a use only where base + adapter measured better than the plain base."), "",
              ("The app computes answers to data questions itself (DuckDB); the model plans questions the parser "
               "misses and words general answers. Switch the adapter off in Models… to run the plain base."), ""]
    return "\n".join(lines)


def write_card(lora: Path, doc: dict[str, Any], measured: dict[str, Any]) -> Path:
    path = card_path(lora)
    path.write_text(render(doc, measured), encoding="utf-8")
    return path
