"""A patient at a glance: latest value of each measurement with its flag, BP category and NEWS2.

The CLI prints this as JSON, the patient view shows it, and the chat's context builder turns it into
the text the model reads, so all three agree on the facts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from desktop.core.clinical.measurements import load_catalog
from desktop.core.queries.patients import age_years
from desktop.core.clinical.ranges import flag, load_ranges
from desktop.core.clinical.scores import DIASTOLIC, NEWS2_INPUTS, SYSTOLIC, bp_category, news2
from desktop.core.store import Store

# NEWS2 is a score of one set of observations: inputs older than this, before the newest input, are stale.
NEWS2_WINDOW = timedelta(hours=24)


class PatientNotFound(LookupError):
    pass


def patient_summary(store: Store, patient_id: str) -> dict[str, object]:
    con = store.con
    row = con.execute(
        "SELECT patient_id, name, sex, birth_date, birth_date_estimated, death_date FROM patients WHERE patient_id = ?",
        [patient_id],
    ).fetchone()
    if row is None:
        raise PatientNotFound(f"no patient with id {patient_id!r} in {store.path}")
    pid, name, sex, birth, estimated, died = row
    today = died or datetime.now().date()
    conditions = [
        r[0] for r in con.execute(
            "SELECT description FROM conditions WHERE patient_id = ? AND resolved IS NULL "
            "GROUP BY description ORDER BY min(onset), description", [pid]
        ).fetchall()
    ]
    latest_rows = con.execute(
        """
        SELECT o.code, arg_max(o.value, o.observed_at), arg_max(o.unit, o.observed_at),
               arg_max(o.value_raw, o.observed_at), max(o.observed_at), count(*), any_value(c.description)
        FROM observations o LEFT JOIN observation_codes c USING (code)
        WHERE o.patient_id = ? GROUP BY o.code
        """,
        [pid],
    ).fetchall()
    catalog, ranges = load_catalog(), load_ranges()
    latest = []
    for code, value, unit, raw, at, count, description in latest_rows:
        m = catalog.by_code(code)
        age_then = age_years(birth, at.date())
        reference = ranges.for_patient(code, sex, age_then)
        latest.append({
            "code": code,
            "name": m.name if m else (description or code),
            "category": m.category if m else "other",
            "value": value if value is not None else raw,
            "unit": unit,
            "flag": flag(value, reference) if value is not None else None,
            "observed_at": at.isoformat(),
            "count": count,
            "reference": None if reference is None else {
                "low": reference.low, "high": reference.high, "critical_low": reference.critical_low,
                "critical_high": reference.critical_high, "authority": reference.authority,
            },
        })
    order = {m.code: i for i, m in enumerate(catalog.measurements)}
    latest.sort(key=lambda r: (order.get(str(r["code"]), len(order)), str(r["name"])))
    adult = (age_years(birth, today) or 0) >= load_ranges().adult_age_years
    return {
        "patient": {
            "id": pid, "name": name, "sex": sex, "age": age_years(birth, today),
            "age_estimated": bool(estimated), "birth_date": birth.isoformat() if birth else None,
            "deceased": died.isoformat() if died else None, "conditions": conditions,
            "adult": adult,
        },
        "latest": latest,
        **_bp(store, pid, adult),
        "news2": _news2(store, pid, adult),
    }


def _bp(store: Store, pid: str, adult: bool) -> dict[str, object]:
    """Category of the latest reading that has both systolic and diastolic (they arrive as two rows)."""
    row = store.con.execute(
        """
        SELECT s.observed_at, s.value, d.value FROM observations s
        JOIN observations d ON d.patient_id = s.patient_id AND d.observed_at = s.observed_at AND d.code = ?
        WHERE s.patient_id = ? AND s.code = ? ORDER BY s.observed_at DESC LIMIT 1
        """,
        [DIASTOLIC, pid, SYSTOLIC],
    ).fetchone()
    if row is None or not adult:
        return {"bp_category": None, "bp_reading": None}
    at, systolic, diastolic = row
    return {
        "bp_category": bp_category(systolic, diastolic),
        "bp_reading": {"systolic": systolic, "diastolic": diastolic, "observed_at": at.isoformat()},
    }


def _news2(store: Store, pid: str, adult: bool) -> dict[str, object]:
    codes = list(NEWS2_INPUTS)
    rows = store.con.execute(
        f"""
        SELECT code, arg_max(coalesce(value::VARCHAR, value_raw), observed_at), arg_max(value, observed_at),
               max(observed_at)
        FROM observations WHERE patient_id = ? AND code IN ({", ".join("?" for _ in codes)}) GROUP BY code
        """,
        [pid, *codes],
    ).fetchall()
    if not rows:
        result = news2({}).to_dict()
        result["observed_at"] = None
        return result
    newest = max(r[3] for r in rows)
    values: dict[str, float | str] = {}
    for code, text, number, at in rows:
        if newest - at <= NEWS2_WINDOW:
            values[code] = number if number is not None else text
    result = news2(values).to_dict()
    result["observed_at"] = newest.isoformat()
    if not adult:
        result.update(score=None, risk=None, note="NEWS2 is validated for adults; not scored for a child")
    return result
