"""Per-source weights: how much each kind of row counts in training, applied to the train split only."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from model_build.config import SourceWeights

Record = dict[str, Any]


def weight_kind(rec: Record) -> str:
    """Which ``data.weights`` key a row falls under: the generated sources by name, every file source public."""
    return {"plans": "plans", "grounded": "grounded", "synthetic_patients": "synthetic"}.get(rec["source"], "public")


def apply_weights(records: list[Record], weights: SourceWeights, *, seed: int) -> tuple[list[Record], dict[str, int]]:
    """Each row repeated int(w) times plus once more with probability frac(w) (seeded), so a weight of 2.5
    gives 2.5 copies on average and 0 removes the kind; returns the rows and the count per kind."""
    rng = random.Random(seed)
    out: list[Record] = []
    for rec in records:
        w = float(getattr(weights, weight_kind(rec)))
        copies = int(w) + (1 if rng.random() < w - int(w) else 0)
        out.extend([rec] * copies)
    return out, dict(Counter(weight_kind(r) for r in out))
