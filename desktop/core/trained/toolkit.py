"""What ``model_build`` uses of the app besides the trained contract, named in one place.

``model_build`` reaches ``desktop.core`` only through ``desktop.core.trained`` (this module included) and
``desktop.core.llm`` (the engine, prompt rendering and manifest format): an import-linter contract in
pyproject.toml holds it to that. Everything here is the app's own code, re-exported, so the data a model is
trained and measured on is made by exactly what the app runs: the deterministic parser and its plan types
(training targets), the model planner's checks (a target the app would refuse is not taught), the executor
and importer (grounded examples), the clinical catalog, ranges and scores (synthetic patients).
"""

from __future__ import annotations

from desktop.core.assistant.execute import record_today, run_plan
from desktop.core.assistant.model_plan import MIN_CONFIDENCE, PlanRejected, plan_from_reply, plan_with_model
from desktop.core.assistant.parse import _back as window_back
from desktop.core.assistant.parse import _measurement_phrases as measurement_phrases
from desktop.core.assistant.parse import plan_question
from desktop.core.assistant.plan import CohortFilter, Plan, PlanError, TimeWindow, validate_plan
from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.ranges import flag as range_flag
from desktop.core.clinical.ranges import load_ranges
from desktop.core.clinical.scores import bp_category
from desktop.core.clinical.scores import news2 as news2_score
from desktop.core.importers import import_paths
from desktop.core.workspace.store import open_store

__all__ = ["MIN_CONFIDENCE", "CohortFilter", "Plan", "PlanError", "PlanRejected", "TimeWindow", "bp_category",
           "import_paths", "load_catalog", "load_ranges", "measurement_phrases", "news2_score", "open_store",
           "plan_from_reply", "plan_question", "plan_with_model", "range_flag", "record_today", "run_plan",
           "validate_plan", "window_back"]
