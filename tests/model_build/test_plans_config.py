"""data.weights: typed, unknown keys and bad values reported; applied to the train split only."""

from __future__ import annotations

import pytest

from model_build.config import ConfigError, SourceWeights, config_from_dict
from model_build.data.weights import apply_weights

BASE = {"name": "x", "model": {"base": "b"}}


def test_weights_load_typed() -> None:
    cfg = config_from_dict({**BASE, "data": {"weights": {"plans": 3, "public": 0.25}, "plans_per_template": 2}})
    assert cfg.data.weights == SourceWeights(plans=3.0, grounded=1.0, public=0.25, synthetic=1.0)
    assert cfg.data.plans_per_template == 2


def test_bad_weights_are_all_reported() -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict({**BASE, "data": {"weights": {"plan": 1.0, "grounded": "high"}}})
    text = str(info.value)
    assert "data.weights.plan: unknown key" in text
    assert "data.weights.grounded: expected float, found str 'high'" in text
    with pytest.raises(ConfigError, match=r"data.weights.public: expected a number >= 0"):
        config_from_dict({**BASE, "data": {"weights": {"public": -1.0}}})


def test_only_generated_plans_is_enough_to_train_on() -> None:
    cfg = config_from_dict({**BASE, "data": {"synthetic_patients": 0, "plans_per_template": 1}})
    assert cfg.data.plans_per_template == 1
    with pytest.raises(ConfigError, match="nothing to train on"):
        config_from_dict({**BASE, "data": {"synthetic_patients": 0}})


def test_apply_weights_repeats_samples_and_drops() -> None:
    rows = ([{"source": "plans", "i": i} for i in range(10)] + [{"source": "alpaca:x", "i": i} for i in range(100)]
            + [{"source": "grounded", "i": i} for i in range(10)])
    out, counts = apply_weights(rows, SourceWeights(plans=2.0, public=0.5, grounded=0.0), seed=1)
    assert counts["plans"] == 20 and "grounded" not in counts
    assert 30 <= counts["public"] <= 70  # a seeded half
    assert apply_weights(rows, SourceWeights(plans=2.0, public=0.5, grounded=0.0), seed=1)[0] == out
