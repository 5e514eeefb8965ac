"""A patient at a glance: latest value of each measurement with its flag, BP category and NEWS2.

The CLI prints this as JSON, the patient view shows it, and the chat's context builder turns it into
the text the model reads, so all three agree on the facts.

"Latest" is one row of the workspace (value, unit, time and flag together), never a mix: the newest
reading of the code; readings at the same time are ordered by the later import, then the higher number
(numbers before text), then the text, and the others at that time are listed beside it. Ages, ranges and
scores are those at the time of the reading.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.ranges import ReferenceRange, flag
from desktop.core.clinical.scores import DIASTOLIC, NEWS2_INPUTS, SYSTOLIC, bp_category, news2
from desktop.core.queries.patient_facts import NEWS2_MIN_AGE, PatientFacts, patient_facts
from desktop.core.store import Store

# NEWS2 scores one set of observations: the newest NEWS2 input and the others taken up to this long before
# it (a set of vitals is entered over minutes, not hours). The window is shown with the score.
NEWS2_WINDOW = timedelta(minutes=60)

# The one tie-break for "latest", shared with every query that picks a newest row.
LATEST_ORDER = "observed_at DESC, import_id DESC, value DESC NULLS LAST, value_raw"


class PatientNotFound(LookupError):
    pass


def patient_summary(store: Store, patient_id: str) -> dict[str, object]:
    con = store.con
    row = con.execute(
        "SELECT patient_id, name, sex, birth_date, birth_date_estimated, death_date FROM patients WHERE patient_id = ?",
        [patient_id],
    ).fetchone()
    facts = patient_facts(store, patient_id)
    if row is None or facts is None:
        raise PatientNotFound(f"no patient with id {patient_id!r} in {store.path}")
    pid, name, sex, birth, estimated, died = row
    # Age now is for the header only; every flag and score below uses the age at its reading.
    today = died or datetime.now().date()
    conditions = [
        r[0] for r in con.execute(
            "SELECT description FROM conditions WHERE patient_id = ? AND resolved IS NULL "
            "GROUP BY description ORDER BY min(onset), description", [pid]
        ).fetchall()
    ]
    latest_rows = con.execute(
        f"""
        SELECT code, value, unit, value_raw, observed_at, n, same_time, description FROM (
            SELECT o.code, o.value, o.unit, o.value_raw, o.observed_at, c.description,
                   count(*) OVER (PARTITION BY o.code) AS n,
                   list(coalesce(o.value::VARCHAR, o.value_raw)) OVER (PARTITION BY o.code, o.observed_at) AS same_time,
                   row_number() OVER (PARTITION BY o.code ORDER BY {LATEST_ORDER}) AS rank
            FROM observations o LEFT JOIN observation_codes c USING (code)
            WHERE o.patient_id = ?
        ) WHERE rank = 1
        """,
        [pid],
    ).fetchall()
    catalog = load_catalog()
    latest = []
    for code, value, unit, raw, at, count, same_time, description in latest_rows:
        m = catalog.by_code(code)
        reference = facts.reference_at(code, at)
        item_flag = flag(value, reference)
        item: dict[str, object] = {
            "code": code,
            "name": m.name if m else (description or code),
            "category": m.category if m else "other",
            "value": value if value is not None else raw,
            "unit": unit,
            "flag": item_flag,
            "observed_at": at.isoformat(),
            "age_at_reading": facts.age_at(at),
            "count": count,
            "reference": None if reference is None else reference.to_dict(),
            "rule": _rule(facts, reference, item_flag, unit or "", at, value),
        }
        if len(same_time) > 1:
            item["same_time_values"] = same_time
        latest.append(item)
    order = {m.code: i for i, m in enumerate(catalog.measurements)}
    latest.sort(key=lambda r: (order.get(str(r["code"]), len(order)), str(r["name"])))
    adult_now = facts.is_adult_at(today)
    return {
        "patient": {
            "id": pid, "name": name, "sex": sex, "age": facts.age_at(today),
            "age_estimated": bool(estimated), "birth_date": birth.isoformat() if birth else None,
            "deceased": died.isoformat() if died else None, "conditions": conditions,
            "adult": adult_now, "pregnant": facts.pregnant_at(today),
            "spo2_scale2": None if facts.scale2 is None else {
                "on": facts.scale2.value, "set_by": facts.scale2.set_by, "set_at": facts.scale2.set_at.isoformat()},
        },
        "latest": latest,
        **_bp(store, facts),
        "news2": news2_of_latest_set(store, facts),
    }


def _rule(facts: PatientFacts, reference: ReferenceRange | None, item_flag: str | None, unit: str, at: datetime,
          value: float | None) -> str:
    """Why this value has this flag (or none), in words, for hover text, the summary and the assistant."""
    if value is None:
        return "text value: not flagged"
    if reference is None:
        age = facts.age_at(at)
        if age is not None and age < facts.ranges.adult_age_years:
            return f"not flagged: aged {age:g} at the reading; adult ranges apply from {facts.ranges.adult_age_years:g}"
        return "no reference range for this measurement"
    return reference.rule_for(item_flag, unit)


def _bp(store: Store, facts: PatientFacts) -> dict[str, object]:
    """Category of the latest reading that has both systolic and diastolic (they arrive as two rows)."""
    row = store.con.execute(
        """
        SELECT s.observed_at, s.value, d.value FROM observations s
        JOIN observations d ON d.patient_id = s.patient_id AND d.observed_at = s.observed_at AND d.code = ?
        WHERE s.patient_id = ? AND s.code = ? AND s.value IS NOT NULL AND d.value IS NOT NULL
        ORDER BY s.observed_at DESC, s.import_id DESC, s.value DESC, d.value DESC LIMIT 1
        """,
        [DIASTOLIC, facts.patient_id, SYSTOLIC],
    ).fetchone()
    if row is None:
        return {"bp_category": None, "bp_reading": None}
    at, systolic, diastolic = row
    reading: dict[str, object] = {"systolic": systolic, "diastolic": diastolic, "observed_at": at.isoformat(),
                                  "age_at_reading": facts.age_at(at)}
    if facts.is_adult_at(at) is False:
        return {"bp_category": None, "bp_reading": {**reading, "note": "ACC/AHA categories are for adults"}}
    if facts.pregnant_at(at):
        return {"bp_category": None, "bp_reading": {
            **reading, "note": "pregnancy: ACC/AHA categories do not apply; the readings are flagged "
                               "against pregnancy thresholds (ACOG)"}}
    return {"bp_category": bp_category(systolic, diastolic), "bp_reading": reading}


def _news2_sql(where: str) -> str:
    marks = ", ".join("?" for _ in NEWS2_INPUTS)
    return f"""
        WITH inputs AS (
            SELECT patient_id, code, observed_at, value, value_raw, import_id FROM observations
            WHERE {where} code IN ({marks}) AND (value IS NOT NULL OR value_raw IS NOT NULL)
        ), anchor AS (SELECT patient_id, max(observed_at) AS t FROM inputs GROUP BY patient_id)
        SELECT i.patient_id, code, value, value_raw, observed_at FROM inputs i JOIN anchor a USING (patient_id)
        WHERE observed_at BETWEEN a.t - to_microseconds(?) AND a.t
        QUALIFY row_number() OVER (PARTITION BY i.patient_id, code ORDER BY {LATEST_ORDER}) = 1
    """


_WINDOW_MICROSECONDS = int(NEWS2_WINDOW.total_seconds() * 1_000_000)


def news2_of_latest_set(store: Store, facts: PatientFacts) -> dict[str, object]:
    """NEWS2 of the patient's newest observation set (see :data:`NEWS2_WINDOW`), with its inputs."""
    rows = store.con.execute(_news2_sql("patient_id = ? AND"),
                             [facts.patient_id, *NEWS2_INPUTS, _WINDOW_MICROSECONDS]).fetchall()
    return news2_from_set(facts, [(code, number, text, at) for _, code, number, text, at in rows])


def news2_of_latest_sets(store: Store, facts: dict[str, PatientFacts]) -> dict[str, dict[str, object]]:
    """The same for every patient in ``facts``, in one query."""
    by_patient: dict[str, list[tuple[str, float | None, str | None, datetime]]] = {}
    for pid, code, number, text, at in store.con.execute(_news2_sql(""), [*NEWS2_INPUTS, _WINDOW_MICROSECONDS]).fetchall():
        by_patient.setdefault(pid, []).append((code, number, text, at))
    return {pid: news2_from_set(f, by_patient.get(pid, [])) for pid, f in facts.items()}


def news2_from_set(facts: PatientFacts, rows: list[tuple[str, float | None, str | None, datetime]]) -> dict[str, object]:
    window_text = f"the newest reading and those up to {int(NEWS2_WINDOW.total_seconds() // 60)} minutes before it"
    if not rows:
        result = news2({}, scale2=facts.scale2_on).to_dict()
        result.update(observed_at=None, window=window_text, inputs={})
        return result
    newest = max(r[3] for r in rows)
    values: dict[str, float | str] = {}
    for code, number, text, _ in rows:
        if number is not None:
            values[code] = number
        elif text is not None:
            values[code] = text
    result = news2(values, scale2=facts.scale2_on).to_dict()
    result["observed_at"] = newest.isoformat()
    result["window"] = window_text
    result["set_from"] = min(r[3] for r in rows).isoformat()
    result["inputs"] = {NEWS2_INPUTS[code]: {"value": values.get(code), "observed_at": at.isoformat()}
                        for code, _, _, at in rows}
    age = facts.age_at(newest)
    not_scored = None
    if age is not None and age < NEWS2_MIN_AGE:
        not_scored = f"NEWS2 is for adults aged {NEWS2_MIN_AGE} and over; aged {age:g} at these readings"
    elif facts.pregnant_at(newest):
        not_scored = "NEWS2 is not for pregnancy (RCP 2017): an obstetric early-warning score applies"
    if not_scored:
        result.update(score=None, risk=None, risk_text=None, red_score=[], note=not_scored)
    elif age is None:
        result["note"] = "age unknown: scored as an adult"
    return result
