"""Who needs attention first: one rule for the Overview, the assistant and the CLI.

The rule (README, "Who needs attention first"):

1. **Recency first.** Only findings from the last ``recent_days`` before the workspace's newest reading
   (not the computer's clock) rank. Older findings are listed, marked with their age, and never ranked as
   current.
2. **Findings.** For each measurement the newest row decides, text rows included (a newer "refused" hides
   an older 182); of readings at that same time the most abnormal decides. A flag LL/HH (the critical
   limits of ``reference_ranges.json``, which include the hypertensive crisis > 180/> 120) is critical; H/L
   is abnormal. NEWS2 of the newest observation set (RCP 2017): a complete score by its band, a partial
   one (Synthea never records oxygen or consciousness, so every Synthea score is partial) by the band of
   its lower bound, and a single parameter scoring 3 (the RCP "red score") whether complete or not.
3. **Bands.** 3 red/critical: NEWS2 >= 7, a red NEWS2 parameter, or a critical flag; 2 urgent: NEWS2 5-6;
   1 watch: NEWS2 1-4 or an abnormal flag; 0 nothing current. A critical flag therefore ranks with a red
   NEWS2 parameter, above any NEWS2 of 1-6, and never below a patient with nothing abnormal.
4. **Ties** are broken by severity (the finding's grade, then the NEWS2 lower bound, then how many
   findings share the top grade), then by recency (newest finding first); a name or id only orders rows
   that are clinically identical.
5. The dead are left out. Patients with no finding at all are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from desktop.core.clinical.display_units import pretty_unit
from desktop.core.clinical.flag_words import describe_flag
from desktop.core.clinical.measurements import load_catalog
from desktop.core.queries.patient_facts import PatientFacts, patient_facts_many
from desktop.core.queries.summary import most_abnormal, newest_readings, news2_of_latest_sets
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store

BAND_LABELS = {3: "red: critical", 2: "urgent", 1: "watch", 0: "nothing current"}

# Grades of a finding (AttentionFinding.severity), highest first, and the band each gives.
NEWS2_HIGH, CRITICAL, NEWS2_MEDIUM, NEWS2_LOW, ABNORMAL = 6, 5, 4, 2, 1
_BAND_OF_SEVERITY = {NEWS2_HIGH: 3, CRITICAL: 3, NEWS2_MEDIUM: 2, NEWS2_LOW: 1, ABNORMAL: 1}
NEWS2_RULE = ("RCP NEWS2 2017 Chart 2: 7+ high (emergency response), 5-6 medium (urgent response), a single "
              "parameter scoring 3 urgent, 1-4 low; a partial score is a lower bound of the full one")


@dataclass(frozen=True)
class AttentionFinding:
    text: str  # "Systolic blood pressure 195 mmHg HH critically high"
    severity: int  # NEWS2_HIGH 6, CRITICAL 5, NEWS2_MEDIUM 4, NEWS2_LOW 2, ABNORMAL 1
    observed_at: datetime
    age_days: int  # days before the workspace's newest reading
    rule: str  # the limit or score band behind it, with its authority

    @property
    def band(self) -> int:
        return _BAND_OF_SEVERITY.get(self.severity, 0)

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "severity": self.severity, "band": self.band,
                "observed_at": self.observed_at.isoformat(), "age_days": self.age_days, "rule": self.rule}


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
    band: int = 0  # 3 red/critical, 2 urgent, 1 watch, 0 nothing current
    band_label: str = BAND_LABELS[0]
    summary: str = ""  # one table cell: "Systolic blood pressure 195 mmHg HH critically high · 2 d ago"
    findings: list[AttentionFinding] = field(default_factory=list)  # current first, then old
    data_at: date | None = None  # the patient's newest reading
    recent: bool = True  # the patient has readings inside the window

    def to_dict(self) -> dict[str, object]:
        return {"patient_id": self.patient_id, "name": self.name, "news2": self.news2,
                "news2_partial": self.news2_partial, "news2_risk": self.news2_risk, "news2_at": self.news2_at,
                "news2_inputs": self.news2_inputs, "critical": self.critical, "reason": self.reason,
                "band": self.band, "band_label": self.band_label, "summary": self.summary,
                "findings": [f.to_dict() for f in self.findings],
                "data_at": self.data_at.isoformat() if self.data_at else None, "recent": self.recent}


def ago(days: int) -> str:
    """How long before the workspace's newest reading, short enough for a table cell."""
    if days < 1:
        return "same day"
    if days < 60:
        return f"{days} d ago"
    if days < 730:
        return f"{days // 30} mo ago"
    return f"{days // 365} y ago"


def rank_for_attention(store: Store, *, limit: int = 10, recent_days: int | None = 30,
                       state: TaskState | None = None) -> list[AttentionRow]:
    """The ``limit`` living patients most in need of attention, by the rule in this module's docstring.
    ``recent_days`` counts back from the workspace's newest reading; None ranks every finding as current."""
    patients = store.con.execute(
        "SELECT p.patient_id, p.name, max(o.observed_at) FROM patients p "
        "LEFT JOIN observations o USING (patient_id) WHERE p.death_date IS NULL GROUP BY ALL").fetchall()
    newest_row = store.con.execute("SELECT max(observed_at) FROM observations").fetchone()
    anchor = newest_row[0] if newest_row else None
    if anchor is None or not patients:
        return []
    all_facts = patient_facts_many(store, [pid for pid, _, _ in patients])
    if state is not None:
        state.raise_if_cancelled()
    scores = news2_of_latest_sets(store, all_facts)
    flags = _flag_findings(store, all_facts, anchor)
    if state is not None:
        state.raise_if_cancelled()
    window_start = None if recent_days is None else anchor - timedelta(days=recent_days)
    ranked: list[tuple[tuple[object, ...], AttentionRow]] = []
    for pid, name, newest in patients:
        facts = all_facts[pid]
        news = scores.get(pid, {})
        findings = list(flags.get(pid, []))
        news_finding = _news2_finding(news, anchor)
        if news_finding is not None:
            findings.append(news_finding)
        if not findings:
            continue

        def current(f: AttentionFinding) -> bool:
            return window_start is None or f.observed_at >= window_start

        now = sorted((f for f in findings if current(f)), key=lambda f: (-f.severity, -f.observed_at.timestamp()))
        old = sorted((f for f in findings if not current(f)), key=lambda f: (-f.severity, -f.observed_at.timestamp()))
        row = _row(pid, name, facts, news, now, old, newest, window_start)
        ranked.append((_sort_key(row, now, old, news), row))
    ranked.sort(key=lambda item: item[0])
    return [row for _, row in ranked[:limit]]


def _sort_key(row: AttentionRow, now: list[AttentionFinding], old: list[AttentionFinding],
              news: dict[str, object]) -> tuple[object, ...]:
    def grade(items: list[AttentionFinding], score: int) -> tuple[int, int, int, int, float]:
        if not items:
            return (0, 0, -1, 0, 0.0)
        top = items[0].severity
        at_top = [f for f in items if f.severity == top]
        return (_BAND_OF_SEVERITY.get(top, 0), top, score, len(at_top), max(f.observed_at for f in at_top).timestamp())

    score = news.get("score")
    news_at = news.get("observed_at")
    news_current = any(f.rule.startswith(NEWS2_RULE) for f in now)
    current_score = score if isinstance(score, int) and news_current else -1
    old_score = score if isinstance(score, int) and not news_current and news_at else -1
    b, top, s, n, t = grade(now, current_score)
    ob, otop, os_, on, ot = grade(old, old_score)
    return (-b, -top, -s, -n, -t, -ob, -otop, -os_, -on, -ot, row.name or "", row.patient_id)


def _row(pid: str, name: str | None, facts: PatientFacts, news: dict[str, object], now: list[AttentionFinding],
         old: list[AttentionFinding], newest: datetime | None, window_start: datetime | None) -> AttentionRow:
    band = now[0].band if now else 0
    if now:
        more = f" · +{len(now) - 1} more" if len(now) > 1 else ""
        summary = f"{now[0].text} · {ago(now[0].age_days)}{more}"
    else:
        summary = f"nothing current; old: {old[0].text} · {ago(old[0].age_days)}" if old else "nothing abnormal"
    reasons = [f"{f.text} ({f.observed_at:%Y-%m-%d})" for f in now]
    reasons += [f"old: {f.text} ({f.observed_at:%Y-%m-%d}, {ago(f.age_days)})" for f in old]
    score = news.get("score")
    inputs = news.get("inputs")
    return AttentionRow(
        patient_id=pid, name=name, news2=score if isinstance(score, int) else None,
        news2_partial=bool(news.get("partial")), news2_risk=str(news.get("risk_text") or "") or None,
        news2_at=str(news.get("observed_at") or "") or None,
        news2_inputs=dict(inputs) if isinstance(inputs, dict) else {},
        critical=[f"{f.text} on {f.observed_at:%Y-%m-%d}" for f in (*now, *old) if f.severity == CRITICAL],
        reason="; ".join(reasons), band=band, band_label=BAND_LABELS[band], summary=summary,
        findings=[*now, *old], data_at=newest.date() if newest else None,
        recent=newest is not None and (window_start is None or newest >= window_start),
    )


def _news2_finding(news: dict[str, object], anchor: datetime) -> AttentionFinding | None:
    score, at = news.get("score"), news.get("observed_at")
    if not isinstance(score, int) or not isinstance(at, str):
        return None
    red_score = news.get("red_score")
    red = [str(x) for x in red_score] if isinstance(red_score, list) else []
    severity = NEWS2_HIGH if score >= 7 else CRITICAL if red else NEWS2_MEDIUM if score >= 5 else (
        NEWS2_LOW if score >= 1 else 0)
    if severity == 0:
        return None
    missing = news.get("missing")
    rule = NEWS2_RULE
    if news.get("partial") and isinstance(missing, list):
        rule += f"; partial: no {', '.join(str(m) for m in missing)}"
    text = f"NEWS2 {score}{' partial' if news.get('partial') else ''}, {news.get('risk_text')} risk"
    if red:
        text += "; 3 alone: " + ", ".join(red)
    when = datetime.fromisoformat(at)
    return AttentionFinding(text, severity, when, (anchor - when).days, rule)


def _flag_findings(store: Store, facts: dict[str, PatientFacts], anchor: datetime) -> dict[str, list[AttentionFinding]]:
    """Per patient, the abnormal flags of each measurement's newest reading (the most abnormal of those
    taken at that time), judged at the age and state of the reading."""
    catalog = load_catalog()
    descriptions = dict(store.con.execute("SELECT code, description FROM observation_codes").fetchall())
    out: dict[str, list[AttentionFinding]] = {}
    for (pid, code), readings in newest_readings(store).items():
        patient = facts.get(pid)
        if patient is None:
            continue
        (value, unit, _, at), f = most_abnormal(patient, code, readings)
        if value is None or f not in ("L", "H", "LL", "HH"):
            continue
        reference = patient.reference_at(code, at)
        assert reference is not None  # a flag needs a range
        m = catalog.by_code(code)
        unit_text = pretty_unit(unit)
        text = f"{m.name if m else descriptions.get(code) or code} {reference.value_text(value)}{' ' + unit_text if unit_text else ''} " \
               f"{describe_flag(f)}"
        severity = CRITICAL if f in ("LL", "HH") else ABNORMAL
        out.setdefault(pid, []).append(
            AttentionFinding(text, severity, at, (anchor - at).days, reference.rule_for(f, unit or "", value)))
    return out
