"""Which patients need attention first: ranked by NEWS2 and by critical flags in their latest readings.

One query for every caller (the assistant's "who needs attention first", an overview list): each row
carries the reason in words and the inputs the score came from, so a clinician can check it. A partial
NEWS2 counts as its lower bound and is marked; a patient who died is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.ranges import flag
from desktop.core.queries.patient_facts import PatientFacts, patient_facts_many
from desktop.core.queries.summary import LATEST_ORDER, news2_of_latest_sets
from desktop.core.store import Store
from desktop.core.tasks import TaskState


@dataclass(frozen=True)
class AttentionRow:
    patient_id: str
    name: str | None
    news2: int | None
    news2_partial: bool
    news2_risk: str | None
    news2_at: str | None
    news2_inputs: dict[str, object] = field(default_factory=dict)
    critical: list[str] = field(default_factory=list)  # "Potassium 6.8 mmol/L (HH) on 2024-05-01"
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"patient_id": self.patient_id, "name": self.name, "news2": self.news2,
                "news2_partial": self.news2_partial, "news2_risk": self.news2_risk, "news2_at": self.news2_at,
                "news2_inputs": self.news2_inputs, "critical": self.critical, "reason": self.reason}


def rank_for_attention(store: Store, *, limit: int = 10, state: TaskState | None = None) -> list[AttentionRow]:
    """The ``limit`` living patients most in need of attention, highest NEWS2 (lower bound) first, then the
    number of critical flags among their latest readings; patients with neither are left out."""
    patients = store.con.execute(
        "SELECT patient_id, name FROM patients WHERE death_date IS NULL ORDER BY patient_id").fetchall()
    all_facts = patient_facts_many(store, [pid for pid, _ in patients])
    if state is not None:
        state.raise_if_cancelled()
    scores = news2_of_latest_sets(store, all_facts)
    criticals = _critical_latest(store, all_facts)
    rows: list[AttentionRow] = []
    for pid, name in patients:
        news = scores.get(pid)
        if news is None:
            continue
        score = news.get("score")
        score = score if isinstance(score, int) else None
        red = news.get("red_score")
        red_score = [str(x) for x in red] if isinstance(red, list) else []
        inputs = news.get("inputs")
        crit = criticals.get(pid, [])
        if score is None and not crit:
            continue
        reasons = []
        if score is not None:
            partial = " (partial: at least)" if news.get("partial") else ""
            reasons.append(f"NEWS2 {score}{partial}, {news.get('risk_text')} risk")
            if red_score:
                reasons.append("a single parameter scoring 3: " + ", ".join(red_score))
        if crit:
            reasons.append("critical: " + "; ".join(crit))
        rows.append(AttentionRow(
            pid, name, score, bool(news.get("partial")), str(news.get("risk_text") or "") or None,
            str(news.get("observed_at") or "") or None, dict(inputs) if isinstance(inputs, dict) else {}, crit,
            "; ".join(reasons)))
    rows.sort(key=lambda r: (-(r.news2 if r.news2 is not None else -1), -len(r.critical), r.patient_id))
    return rows[:limit]


def _critical_latest(store: Store, facts: dict[str, PatientFacts]) -> dict[str, list[str]]:
    """Per patient, the latest readings flagged LL or HH (judged at the age and state of the reading)."""
    latest = store.con.execute(
        f"""
        SELECT patient_id, code, value, unit, observed_at FROM observations
        WHERE value IS NOT NULL AND patient_id IN (SELECT patient_id FROM patients WHERE death_date IS NULL)
        QUALIFY row_number() OVER (PARTITION BY patient_id, code ORDER BY {LATEST_ORDER}) = 1
        """
    ).fetchall()
    catalog = load_catalog()
    out: dict[str, list[str]] = {}
    for pid, code, value, unit, at in latest:
        patient = facts.get(pid)
        if patient is None:
            continue
        f = flag(value, patient.reference_at(code, at))
        if f in ("LL", "HH"):
            m = catalog.by_code(code)
            out.setdefault(pid, []).append(f"{m.name if m else code} {value:g} {unit or ''} ({f}) on {at:%Y-%m-%d}")
    return out
