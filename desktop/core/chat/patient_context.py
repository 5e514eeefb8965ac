"""The compact patient summary the model reads, so it quotes the patient's real values instead of guessing.

:func:`format_patient_summary` is pure: it turns the dict of ``desktop.core.queries.summary.patient_summary`` (plus
trends) into a few lines of text. :func:`compute_trends` reads the observations table; :func:`patient_context`
puts both together for a patient.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from desktop.core.queries.summary import patient_summary
from desktop.core.store import Store

_FLAG_WORDS = {"N": "normal"}
TREND_MIN_CHANGE = 0.05   # a change under 5% of the first value is not worth the tokens
TREND_WINDOW_DAYS = 366
MAX_TRENDS = 6


def format_number(value: float) -> str:
    """152.0 -> "152", 36.85 -> "36.85", 0.084 -> "0.084": no trailing zeros, no exponent."""
    v = float(value)
    if v.is_integer():
        return str(int(v))
    decimals = 2 if abs(v) >= 1 else 3
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".")


def _day(observed_at: Any) -> str:
    if isinstance(observed_at, (datetime, date)):
        return observed_at.isoformat()[:10]
    return str(observed_at)[:10]


def _span(days: float) -> str:
    if days < 60:
        n = max(1, round(days))
        return f"{n} day" + ("s" if n != 1 else "")
    n = max(1, round(days / 30.44))
    return f"{n} month" + ("s" if n != 1 else "")


def _join_unit(value: str, unit: str | None) -> str:
    # UCUM annotations like {score} or {yes/no} say nothing a reader (or a model) needs.
    return f"{value} {unit}" if unit and not unit.startswith("{") else value


def _in_full(item: dict[str, Any]) -> bool:
    """Vitals, anything out of range, and anything without a range are listed with value and date; a lab
    result within range is only named (the summary must stay small for a small model's context)."""
    return item.get("category") in (None, "vital") or item.get("flag") != "N"


def format_trend(trend: dict[str, Any]) -> str:
    first, last, unit = trend["first"], trend["last"], trend.get("unit")
    span = _span(float(trend["days"]))
    if float(last) > float(first):
        return f"{trend['name']} rose from {format_number(first)} to {_join_unit(format_number(last), unit)} over {span}"
    if float(last) < float(first):
        return f"{trend['name']} fell from {format_number(first)} to {_join_unit(format_number(last), unit)} over {span}"
    return f"{trend['name']} stayed at {_join_unit(format_number(last), unit)} over {span}"


def format_patient_summary(summary: dict[str, Any], trends: list[dict[str, Any]] | None = None) -> str:
    """The summary dict as the model reads it. Lines with nothing to say are left out."""
    p = summary.get("patient") or {}
    age = f"{format_number(p['age'])} y" if isinstance(p.get("age"), (int, float)) else None
    who = [str(x) for x in (p.get("sex"), age) if x]
    head = f"Patient: {p.get('name') or p.get('id') or 'unknown'}" + (f" ({', '.join(who)})" if who else "") + "."
    conditions = [c for c in (p.get("conditions") or []) if c]
    head += f" Conditions: {'; '.join(conditions)}." if conditions else " Conditions: none recorded."
    lines = [head]

    items = summary.get("latest") or []
    latest = [i for i in items if _in_full(i)]
    in_range = [str(i.get("name") or i.get("code")) for i in items if not _in_full(i)]
    if latest:
        lines.append("Latest values:")
        for item in latest:
            value = item.get("value")
            shown = format_number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
            flag = item.get("flag")
            note = ", ".join(x for x in (_FLAG_WORDS.get(flag, flag) if flag else None, _day(item.get("observed_at"))) if x)
            lines.append(f"- {item.get('name') or item.get('code')}: {_join_unit(shown, item.get('unit'))} ({note})")
    elif not in_range:
        lines.append("Latest values: none recorded.")
    if in_range:
        lines.append(f"Latest results within range: {', '.join(in_range)}.")

    if summary.get("bp_category"):
        lines.append(f"Blood pressure category: {summary['bp_category']}.")

    news2 = summary.get("news2") or {}
    missing = [m for m in (news2.get("missing") or []) if m]
    if news2.get("score") is not None:
        detail = f" (partial; missing: {', '.join(missing)})" if news2.get("partial") and missing else (
            " (partial)" if news2.get("partial") else "")
        lines.append(f"NEWS2: {news2['score']}{detail}.")
    elif news2:
        lines.append("NEWS2: not enough data" + (f" (missing: {', '.join(missing)})" if missing else "") + ".")

    if trends:
        lines.append("Trends: " + "; ".join(format_trend(t) for t in trends) + ".")
    return "\n".join(lines)


def compute_trends(store: Store, *, patient_id: str, latest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """First and last numeric value of each latest-value code over the year before its latest reading.

    Only changes of at least 5% are reported, biggest first, at most six: the summary has to stay small.
    """
    names = {item["code"]: item.get("name") or item["code"] for item in latest if item.get("code")}
    if not names:
        return []
    rows = store.con.execute(
        f"""
        WITH o AS (
            SELECT code, observed_at, value, unit,
                   max(observed_at) OVER (PARTITION BY code) AS last_at
            FROM observations
            WHERE patient_id = ? AND value IS NOT NULL AND code IN ({', '.join('?' * len(names))})
        ), w AS (
            SELECT * FROM o WHERE observed_at >= last_at - INTERVAL {TREND_WINDOW_DAYS} DAY
        )
        SELECT code, arg_min(value, observed_at), arg_max(value, observed_at), arg_max(unit, observed_at),
               date_diff('second', min(observed_at), max(observed_at)) / 86400.0, count(*)
        FROM w GROUP BY code HAVING count(*) >= 2
        """,
        [patient_id, *names],
    ).fetchall()
    trends = []
    for code, first, last, unit, days, _n in rows:
        if not first or days <= 0:
            continue
        change = abs(last - first) / abs(first)
        if change >= TREND_MIN_CHANGE:
            trends.append({"code": code, "name": names[code], "first": first, "last": last, "unit": unit,
                           "days": days, "change": change})
    trends.sort(key=lambda t: (-t["change"], t["name"]))
    return trends[:MAX_TRENDS]


def load_patient_summary(store: Store, patient_id: str) -> dict[str, Any]:
    return patient_summary(store, patient_id)


# What the patient's facts may take of the context, counted conservatively (about three characters a token
# for text full of numbers and units): with the system prompt, the history and a 512-token answer it fits a
# 4,096-token context, so a ten-year record with 150 kinds of observation never makes the assistant refuse.
CONTEXT_BUDGET_TOKENS = 1800


def estimate_tokens(text: str) -> int:
    return len(text) // 3 + 1


def patient_context(store: Store, patient_id: str) -> str:
    """The facts the model reads about ``patient_id``: ranked (vitals, abnormal results, active conditions,
    recent trends; survey and QALY/DALY rows left out; a death said) and cut to a token budget
    (``desktop/core/assistant/context.py``)."""
    from desktop.core.assistant.context import build_patient_context

    return build_patient_context(store, patient_id=patient_id, question="", budget_tokens=CONTEXT_BUDGET_TOKENS,
                                 count_tokens=estimate_tokens).text
