"""A patient at a glance: latest value of each measurement with its flag, BP category and NEWS2.

The CLI prints this as JSON, the patient view shows it, and the chat's context builder turns it into
the text the model reads, so all three agree on the facts.

"Latest" is one row of the workspace (value, unit, time and flag together), never a mix: the newest
reading of the code, text or number. Readings at the same time: the most abnormal decides (critical, then
abnormal, then normal; NEWS2 takes the one scoring most), and every reading at that time is listed beside
it with its own flag; among equally abnormal ones the later import, then the higher number. Ages, ranges,
pregnancy and scores are those at the time of the reading.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from desktop.core.clinical.flag_words import describe_flag, flag_severity
from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.ranges import ReferenceRange, flag
from desktop.core.clinical.scores import (
    BP_CATEGORIES,
    DIASTOLIC,
    LOW_BP,
    NEWS2_INPUTS,
    SYSTOLIC,
    VERY_LOW_BP,
    bp_category,
    news2,
)
from desktop.core.queries.patient_facts import NEWS2_MIN_AGE, PatientFacts, patient_facts
from desktop.core.workspace.store import Store

# NEWS2 scores one set of observations: the newest NEWS2 input and the others taken up to this long before
# it (a set of vitals is entered over minutes, not hours). The window is shown with the score.
NEWS2_WINDOW = timedelta(minutes=60)

# The tie-break for "latest" among equally abnormal readings at one time, shared with every query that
# picks a newest row (the choice between readings at the newest time is by severity: ``newest_readings``).
LATEST_ORDER = "observed_at DESC, import_id DESC, value DESC NULLS LAST, value_raw"
# Every reading at the newest time of its code (text rows included), in the tie-break order.
NEWEST_TIME_SQL = f"""
    SELECT patient_id, code, value, unit, value_raw, observed_at FROM observations WHERE {{where}}
    QUALIFY rank() OVER (PARTITION BY patient_id, code ORDER BY observed_at DESC) = 1
    ORDER BY patient_id, code, {LATEST_ORDER}
"""

Reading = tuple[float | None, str | None, str | None, datetime]  # value, unit, value_raw, observed_at


def most_abnormal(facts: PatientFacts, code: str, readings: list[Reading]) -> tuple[Reading, str | None]:
    """The reading that decides among readings taken at the same time, and its flag: the most abnormal
    (the first of equally abnormal ones, in ``LATEST_ORDER``)."""
    judged = [(r, flag(r[0], facts.reference_at(code, r[3]))) for r in readings]
    return max(judged, key=lambda item: flag_severity(item[1]))  # max keeps the first of equals


def newest_readings(store: Store, where: str = "true", params: list[object] | None = None
                    ) -> dict[tuple[str, str], list[Reading]]:
    """(patient, code) -> every reading at that code's newest time, text rows included."""
    out: dict[tuple[str, str], list[Reading]] = {}
    for pid, code, value, unit, raw, at in store.con.execute(NEWEST_TIME_SQL.format(where=where), params or []).fetchall():
        out.setdefault((pid, code), []).append((value, unit, raw, at))
    return out


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
    counts = dict(con.execute(
        "SELECT code, count(*) FROM observations WHERE patient_id = ? GROUP BY code", [pid]).fetchall())
    descriptions = dict(con.execute(
        "SELECT code, description FROM observation_codes WHERE code IN "
        "(SELECT DISTINCT code FROM observations WHERE patient_id = ?)", [pid]).fetchall())
    catalog = load_catalog()
    latest = []
    for (_, code), readings in newest_readings(store, "patient_id = ?", [pid]).items():
        (value, unit, raw, at), item_flag = most_abnormal(facts, code, readings)
        m = catalog.by_code(code)
        reference = facts.reference_at(code, at)
        item: dict[str, object] = {
            "code": code,
            "name": m.name if m else (descriptions.get(code) or code),
            "category": m.category if m else "other",
            "value": value if value is not None else raw,
            "value_text": _value_text(value, raw, reference),
            "unit": unit,
            "flag": item_flag,
            "flag_words": describe_flag(item_flag),
            "observed_at": at.isoformat(),
            "age_at_reading": facts.age_at(at),
            "count": counts.get(code, 0),
            "reference": None if reference is None else reference.to_dict(),
            "rule": _rule(facts, code, reference, item_flag, unit or "", at, value),
        }
        if len(readings) > 1:
            item["same_time_values"] = [str(v if v is not None else r) for v, _, r, _ in readings]
            item["same_time"] = [{"value": v if v is not None else r, "value_text": _value_text(v, r, reference),
                                  "flag": (f := flag(v, reference)), "flag_words": describe_flag(f),
                                  "decides": (v, r) == (value, raw)} for v, _, r, _ in readings]
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
            "pregnancy": facts.pregnancy_at(today).rule,
            "spo2_scale2": None if facts.scale2 is None else {
                "on": facts.scale2.value, "set_by": facts.scale2.set_by, "set_at": facts.scale2.set_at.isoformat()},
        },
        "latest": latest,
        **_bp(store, facts),
        "news2": news2_of_latest_set(store, facts),
    }


def _value_text(value: float | None, raw: str | None, reference: ReferenceRange | None) -> str:
    """The value as text with enough digits to agree with its flag (1.301 beside '<= 1.3', never 1.3)."""
    if value is None:
        return raw or ""
    if reference is None:
        return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:.0f}"
    return reference.value_text(value)


def _rule(facts: PatientFacts, code: str, reference: ReferenceRange | None, item_flag: str | None, unit: str,
          at: datetime, value: float | None) -> str:
    """Why this value has this flag (or none), in words, for hover text, the summary and the assistant."""
    if value is None:
        return "text value: not flagged"
    if reference is None:
        return facts.no_range_reason(code, at)
    return reference.rule_for(item_flag, unit, value)


# Of same-time pairs the most abnormal decides: a pressure past a critical limit, low or high, above any other;
# a low one short of it with stage 1 (abnormal, not critical), so that 69/45 is never outranked by 150/95.
_CATEGORY_RANK = {c: i for i, c in enumerate(BP_CATEGORIES)}
_CATEGORY_RANK |= {LOW_BP: _CATEGORY_RANK["Hypertension stage 1"], VERY_LOW_BP: _CATEGORY_RANK["Hypertensive crisis"]}


def _bp(store: Store, facts: PatientFacts) -> dict[str, object]:
    """Category of the latest reading that has both systolic and diastolic (they arrive as two rows); of
    several pairs at that time, the highest category decides."""
    rows = store.con.execute(
        """
        SELECT s.observed_at, s.value, d.value FROM observations s
        JOIN observations d ON d.patient_id = s.patient_id AND d.observed_at = s.observed_at AND d.code = ?
        WHERE s.patient_id = ? AND s.code = ? AND s.value IS NOT NULL AND d.value IS NOT NULL
        QUALIFY rank() OVER (ORDER BY s.observed_at DESC) = 1
        ORDER BY s.import_id DESC, s.value DESC, d.value DESC
        """,
        [DIASTOLIC, facts.patient_id, SYSTOLIC],
    ).fetchall()
    if not rows:
        return {"bp_category": None, "bp_reading": None}
    at = rows[0][0]
    age = facts.age_at(at)
    range_age = facts.range_age_at(at)
    reading: dict[str, object] = {"observed_at": at.isoformat(), "age_at_reading": age}
    pregnancy = facts.pregnancy_at(at)
    if pregnancy.pregnant:
        _, systolic, diastolic = rows[0]
        return {"bp_category": None, "bp_reading": {
            **reading, "systolic": systolic, "diastolic": diastolic,
            "note": "pregnancy: ACC/AHA categories do not apply; the readings are flagged against pregnancy "
                    f"thresholds (ACOG); {pregnancy.rule}"}}
    judged = [(bp_category(sbp, dbp, age=range_age, sex=facts.sex), sbp, dbp) for _, sbp, dbp in rows]
    category, systolic, diastolic = max(judged, key=lambda j: _category_rank(j[0]))
    reading.update(systolic=systolic, diastolic=diastolic)
    if len(rows) > 1:
        reading["same_time"] = [{"systolic": s, "diastolic": d, "category": c} for c, s, d in judged]
    children = facts.ranges.children
    if range_age is not None and children is not None and range_age < facts.ranges.adult_age_years:
        if category is None:
            reading["note"] = facts.no_range_reason(SYSTOLIC, at)
        elif range_age < children.bp.adult_style_from:
            sbp_range = facts.reference_at(SYSTOLIC, at)
            reading["note"] = (f"{sbp_range.note if sbp_range else ''}; {children.bp.stage_note}; "
                               f"source: {children.bp.source}")
        else:
            reading["note"] = f"aged {age:g}: {children.bp.adult_style_note}"
    return {"bp_category": category, "bp_reading": reading}


def _category_rank(category: str | None) -> int:
    if category is None:
        return -1
    if category in _CATEGORY_RANK:
        return _CATEGORY_RANK[category]
    # children's AAP categories: between the adult ones they correspond to
    return {"Normal": 0}.get(category, 1 if category.startswith("Elevated") else 2 if "stage 1" in category else 3)


def _news2_sql(where: str) -> str:
    marks = ", ".join("?" for _ in NEWS2_INPUTS)
    return f"""
        WITH inputs AS (
            SELECT patient_id, code, observed_at, value, value_raw, import_id FROM observations
            WHERE {where} code IN ({marks}) AND (value IS NOT NULL OR value_raw IS NOT NULL)
        ), anchor AS (SELECT patient_id, max(observed_at) AS t FROM inputs GROUP BY patient_id)
        SELECT i.patient_id, code, value, value_raw, observed_at FROM inputs i JOIN anchor a USING (patient_id)
        WHERE observed_at BETWEEN a.t - to_microseconds(?) AND a.t
        QUALIFY rank() OVER (PARTITION BY i.patient_id, code ORDER BY observed_at DESC) = 1
        ORDER BY i.patient_id, code, {LATEST_ORDER}
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
    chosen_at: dict[str, datetime] = {}
    same_time: dict[str, list[float | str]] = {}
    for code, number, text, at in rows:  # readings of one input at one time: the one scoring most decides
        value: float | str | None = number if number is not None else text
        if value is None:
            continue
        if code in values:
            same_time.setdefault(NEWS2_INPUTS[code], [values[code]]).append(value)
            if _points(code, value, facts) <= _points(code, values[code], facts):
                continue
        values[code], chosen_at[code] = value, at
    result = news2(values, scale2=facts.scale2_on).to_dict()
    result["observed_at"] = newest.isoformat()
    result["window"] = window_text
    result["set_from"] = min(r[3] for r in rows).isoformat()
    result["inputs"] = {NEWS2_INPUTS[code]: {"value": values[code], "observed_at": at.isoformat()}
                        for code, at in chosen_at.items()}
    if same_time:
        result["same_time"] = same_time
    age = facts.age_at(newest)
    not_scored = None
    if age is not None and age < NEWS2_MIN_AGE:
        not_scored = f"NEWS2 is for adults aged {NEWS2_MIN_AGE} and over; aged {age:g} at these readings"
    elif facts.pregnant_at(newest):
        not_scored = ("NEWS2 is not for pregnancy (RCP 2017): an obstetric early-warning score applies; "
                      + facts.pregnancy_at(newest).rule)
    if not_scored:
        result.update(score=None, risk=None, risk_text=None, red_score=[], note=not_scored)
    elif age is None:
        result["note"] = "age unknown: scored as an adult"
    return result


def _points(code: str, value: float | str, facts: PatientFacts) -> int:
    """NEWS2 points of one input's reading alone (-1 when it cannot be scored, e.g. a text answer)."""
    label = NEWS2_INPUTS[code]
    return news2({code: value}, scale2=facts.scale2_on).components.get(label, -1)
