"""The typed plan a data question becomes: who it is about, which measurement, which operation, when.

The same shape comes from the deterministic parser and (as JSON under a grammar) from the on-device model;
:func:`validate_plan` checks either before anything runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from desktop.core.clinical.measurements import load_catalog

# Operations on one patient's readings of one measurement.
PATIENT_OPERATIONS = ("latest", "first", "count", "min", "max", "mean", "median", "change", "last_date",
                      "readings", "in_range", "above", "below", "medications", "allergies", "handover")
# Patient operations on the medications and allergies tables (and the SBAR handover): no measurement.
HISTORY_OPERATIONS = ("medications", "allergies", "handover")
# Operations over the workspace (optionally narrowed).
COHORT_OPERATIONS = ("count", "mean", "median", "min", "max", "which_patients", "attention")
# The model planner's schema lists these operations only: the shipped adapter was trained on exactly them
# (the handover and the whole-record operations below are planned by the deterministic parser,
# record_parse.py, and run by execute_*.py / handover.py). Growing this list changes the trained contract.
OPERATIONS = tuple(op for op in dict.fromkeys(PATIENT_OPERATIONS + COHORT_OPERATIONS) if op != "handover")
ENTITIES = ("observation", "condition", "medication", "encounter", "procedure", "immunization", "allergy", "patient")
EVENT_ENTITIES = ENTITIES[1:7]
# Per patient, on an event entity: yes/no, the first / last event, how many (events or distinct days), the list,
# first and last date, the stop date, the recorded reason.
EVENT_OPERATIONS = ("exists", "first", "latest", "count", "count_days", "list", "when", "stop", "reason")
# Per patient, on the patient row: age now (or at death), age at a date, birth, death, sex.
PATIENT_ROW_OPERATIONS = ("age", "birth", "death", "sex")
# Per patient, on readings, beyond the model's subset: yes/no exists, last vs first, distinct days.
READING_OPERATIONS = ("exists", "compare", "count_days")
# Over the workspace, beyond the model's subset: the most common items, age groups.
COHORT_RECORD_OPERATIONS = ("top", "age_groups")
POPULATIONS = ("living", "all", "deceased")
POPULATION_WORDS = {"living": "living patients only (ask 'including the deceased' for everyone)",
                    "all": "every patient, the deceased included", "deceased": "the deceased only"}


@dataclass(frozen=True)
class TimeWindow:
    start: date | None = None   # inclusive
    end: date | None = None     # exclusive
    text: str = ""              # how the question said it ("since 2020", "last year")
    last_visit: bool = False    # "at the last visit": the day of the newest encounter or reading


@dataclass(frozen=True)
class CohortFilter:
    condition: str | None = None   # an active condition's description contains this ("diabetes")
    sex: str | None = None         # "F" / "M"
    age_min: float | None = None
    age_max: float | None = None
    # Resolved against the workspace's own vocabulary (vocabulary.py): exact descriptions, any one matches.
    condition_terms: tuple[str, ...] = ()   # a condition ever recorded (active only with active_only)
    medication_terms: tuple[str, ...] = ()  # ever prescribed (or still taken with active_only)
    encounter_class: str | None = None      # a visit of this class (in the plan's window)
    procedure_terms: tuple[str, ...] = ()   # a procedure ever recorded (in the plan's window)
    immunization_terms: tuple[str, ...] = ()  # a vaccine ever given (in the plan's window)
    active_only: bool = False               # "patients who have X" now, not "were ever diagnosed with X"


@dataclass(frozen=True)
class Plan:
    kind: str                                   # "data" (computed) or "general" (the model answers)
    subject: str = "patient"                    # "patient" or "workspace"
    patient_id: str | None = None
    measurements: tuple[str, ...] = ()          # catalog codes
    operation: str = "latest"
    threshold: float | None = None              # for above/below/which_patients, canonical unit
    comparison: str | None = None               # "above" / "below" for which_patients and thresholds
    window: TimeWindow = field(default_factory=TimeWindow)
    cohort: CohortFilter = field(default_factory=CohortFilter)
    # The whole record (record_parse.py); the defaults are the measurement plan above, as the model plans it.
    entity: str = "observation"
    terms: tuple[str, ...] = ()        # exact descriptions in the workspace the question's name matched
    term_text: str = ""                # the name as the question said it ("amlodipine", "hypertensive")
    matched: str = ""                  # the match shown: "matched: Hypertension (38341003)"
    encounter_class: str | None = None # "emergency", "inpatient", "ambulatory", "wellness", "urgentcare", ...
    yes_no: bool = False               # the answer begins with Yes or No
    inclusive: bool = False            # "130 or higher": the threshold itself counts
    over: str = "latest"               # workspace thresholds: each patient's "latest" reading, or "ever"
    population: str = "living"         # workspace answers: "living" (default), "all" or "deceased"
    on_date: date | None = None        # "how old was she on 2019-06-01"
    limit: int = 5                     # top-k
    decline: str = ""                  # kind "declined": the one sentence said

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("start", "end"):
            value = out["window"][key]
            out["window"][key] = value.isoformat() if value else None
        out["on_date"] = self.on_date.isoformat() if self.on_date else None
        return out

    def in_words(self) -> str:
        """The plan as a clinician reads it under "How this was computed"."""
        if self.kind == "declined":
            return f"declined, nothing computed: {self.decline.rstrip('.')}"
        if self.kind != "data":
            return "not a question about the recorded data: answered by the language model, unverified"
        if self.entity != "observation" or self.operation in (*READING_OPERATIONS, *COHORT_RECORD_OPERATIONS) \
                or self.yes_no or self.cohort.condition_terms or self.cohort.medication_terms \
                or self.cohort.encounter_class or self.cohort.procedure_terms or self.cohort.immunization_terms:
            from desktop.core.assistant.record_plan import record_in_words  # the whole-record wording
            return record_in_words(self)
        catalog = load_catalog()
        names = [m.name if (m := catalog.by_code(c)) else c for c in self.measurements]
        what = " and ".join(names) if names else "patients"
        op = {
            "latest": "the latest reading of", "first": "the first reading of", "count": "the number of readings of",
            "min": "the lowest reading of", "max": "the highest reading of", "mean": "the mean of",
            "median": "the median of", "change": "the change between the first and latest reading of",
            "last_date": "the date of the last reading of", "readings": "every reading of",
            "in_range": "whether the latest reading is in the healthy range for", "above": "readings above "
            f"{self.threshold:g} of" if self.threshold is not None else "readings above", "below": "readings below "
            f"{self.threshold:g} of" if self.threshold is not None else "readings below",
            "which_patients": "the patients whose latest reading matches, for", "attention":
            "patients ranked by NEWS2 and critical flags in their latest readings",
            "medications": "the active medications and current allergies (at the workspace's latest date) of",
            "allergies": "the current allergies and intolerances (at the workspace's latest date) of",
            "handover": "an SBAR handover (problems, medications, allergies, latest vitals, NEWS2, abnormal results "
                        "and trends, with dates) of",
        }[self.operation]
        if self.operation in HISTORY_OPERATIONS:
            return f"{op} patient {self.patient_id}"
        who = f"patient {self.patient_id}" if self.subject == "patient" else "every patient in the workspace"
        if self.subject == "workspace" and self.operation == "count" and not self.measurements:
            op, what = "the number of", "patients"
        parts = [f"{op} {what}".strip() if self.operation != "attention" else op, f"for {who}"]
        c = self.cohort
        if c.condition:
            parts.append(f"with an active condition containing '{c.condition}'")
        if c.sex:
            parts.append({"F": "women only", "M": "men only"}[c.sex])
        if c.age_min is not None or c.age_max is not None:
            parts.append(f"aged {c.age_min or 0:g}-{c.age_max if c.age_max is not None else 'any':}")
        if self.window.text:
            parts.append(self.window.text)
        if self.subject == "workspace" and self.operation in ("mean", "median", "min", "max", "which_patients"):
            parts.append("(each patient's latest reading in the window counts once)" if self.over == "latest"
                         else "(any reading in the window counts)")
        if self.subject == "workspace" and self.operation != "attention":
            parts.append(POPULATION_WORDS[self.population])
        return ", ".join(parts)


class PlanError(ValueError):
    """A plan that cannot run, with every problem named."""


def validate_plan(plan: Plan) -> Plan:
    problems = []
    if plan.kind not in ("data", "general", "declined"):
        problems.append(f"kind must be 'data', 'general' or 'declined', not {plan.kind!r}")
    if plan.kind == "data" and (plan.entity != "observation" or plan.operation in (*READING_OPERATIONS,
                                                                                    *COHORT_RECORD_OPERATIONS)):
        from desktop.core.assistant.record_plan import record_problems
        problems += record_problems(plan)
    elif plan.kind == "data":
        if plan.subject not in ("patient", "workspace"):
            problems.append(f"subject must be 'patient' or 'workspace', not {plan.subject!r}")
        allowed = PATIENT_OPERATIONS if plan.subject == "patient" else COHORT_OPERATIONS
        if plan.operation not in allowed:
            problems.append(f"operation {plan.operation!r} is not one of {', '.join(allowed)} for a {plan.subject}")
        if plan.subject == "patient" and not plan.patient_id:
            problems.append("a patient question needs a patient")
        catalog = load_catalog()
        for code in plan.measurements:
            if catalog.by_code(code) is None:
                problems.append(f"unknown measurement code {code!r}")
        needs_measurement = plan.subject == "patient" or plan.operation in ("mean", "median", "min", "max",
                                                                             "which_patients")
        if needs_measurement and not plan.measurements and plan.operation not in ("which_patients",
                                                                                   *HISTORY_OPERATIONS):
            problems.append("the question names no measurement the catalog knows")
        if plan.subject == "workspace" and plan.operation == "which_patients" and not plan.measurements \
                and plan.cohort == CohortFilter() and plan.population == "living":
            problems.append("'which_patients' needs a measurement or a group (a condition, a sex or an age)")
        if plan.operation in ("above", "below") and plan.threshold is None:
            problems.append(f"'{plan.operation}' needs a threshold")
    if plan.population not in POPULATIONS:
        problems.append(f"population must be one of {', '.join(POPULATIONS)}, not {plan.population!r}")
    if problems:
        raise PlanError("; ".join(problems))
    return plan


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """A plan from JSON (the model's output), validated."""
    window = data.get("window") or {}
    cohort = data.get("cohort") or {}
    plan = Plan(
        kind=str(data.get("kind", "data")), subject=str(data.get("subject", "patient")),
        patient_id=data.get("patient_id"), measurements=tuple(str(c) for c in data.get("measurements") or ()),
        operation=str(data.get("operation", "latest")), threshold=data.get("threshold"),
        comparison=data.get("comparison"),
        window=TimeWindow(_day(window.get("start")), _day(window.get("end")), str(window.get("text") or ""),
                          bool(window.get("last_visit"))),
        cohort=CohortFilter(cohort.get("condition"), cohort.get("sex"), cohort.get("age_min"), cohort.get("age_max")),
    )
    return validate_plan(plan)


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def plan_json_schema() -> dict[str, Any]:
    """The JSON schema the on-device model's plan must follow (llama.cpp grammar-constrained decoding)."""
    codes = [m.code for m in load_catalog().measurements]
    return {
        "type": "object",
        "properties": {
            "kind": {"enum": ["data", "general"]},
            "subject": {"enum": ["patient", "workspace"]},
            "measurements": {"type": "array", "items": {"enum": codes}, "maxItems": 2},
            "operation": {"enum": list(OPERATIONS)},
            "threshold": {"type": ["number", "null"]},
            "comparison": {"enum": ["above", "below", "abnormal", None]},
            "window": {"type": "object", "properties": {
                "start": {"type": ["string", "null"]}, "end": {"type": ["string", "null"]},
                "text": {"type": "string"}, "last_visit": {"type": "boolean"}}},
            "cohort": {"type": "object", "properties": {
                "condition": {"type": ["string", "null"]}, "sex": {"enum": ["F", "M", None]},
                "age_min": {"type": ["number", "null"]}, "age_max": {"type": ["number", "null"]}}},
        },
        "required": ["kind", "subject", "measurements", "operation"],
    }
