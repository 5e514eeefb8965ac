"""A handover summary computed from the record, in SBAR order: Situation, Background, Assessment,
Recommendation. Every line is a figure or an event the workspace holds, with its date; nothing is written by
a model ("summarise this patient for a handover" once got a living 20-year-old male with a bone-marrow
transplant for an 82-year-old woman who had died).

It reuses the app's own queries: the patient summary (latest readings with their flags and rules, NEWS2,
the age the header shows: at death for the dead), the medications and allergies judged at the record's
latest date (at death for the dead), and the recent trends the chat context shows. Its own SQL (the
active problems with their onset, the latest visits, a recorded cause of death) is kept with the answer.
The Recommendation states only what the record supports: results to review, critical values, the NEWS2
response band; no advice is invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from desktop.core.assistant.answer import Answer, Fact
from desktop.core.assistant.context import recent_trends, short_rule
from desktop.core.assistant.plan import Plan
from desktop.core.clinical.display_units import format_value
from desktop.core.clinical.flag_words import flag_phrase
from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.social_findings import is_social_finding
from desktop.core.queries.medications import (
    ALLERGIES_SQL,
    MEDICATIONS_SQL,
    allergies_params,
    medications_params,
    patient_history,
)
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store

RECENT = timedelta(days=365)   # "recent" results and trends: the year before the patient's newest reading
TRENDS_SHOWN = 5
CAUSE_OF_DEATH = "69453-9"     # LOINC: Cause of Death [US Standard Certificate of Death]

PROBLEMS_SQL = """SELECT description, min(onset) AS onset, any_value(code) AS code FROM conditions
WHERE patient_id = ? AND (resolved IS NULL OR (?::DATE IS NOT NULL AND resolved >= ?::DATE))
GROUP BY description ORDER BY min(onset), description"""
VISITS_SQL = """SELECT started_at, encounter_class, description, reason FROM encounters
WHERE patient_id = ? AND lower(coalesce(description, '')) NOT LIKE '%death certification%'
ORDER BY started_at DESC LIMIT 50"""
CAUSE_SQL = """SELECT coalesce(value_raw, value::VARCHAR), observed_at FROM observations
WHERE patient_id = ? AND code = ? ORDER BY observed_at DESC LIMIT 1"""
ADMISSION_CLASSES = ("inpatient", "emergency")


@dataclass
class Handover:
    """The four SBAR sections as lines, with the facts, queries and rows behind them."""

    patient_id: str
    situation: list[str] = field(default_factory=list)
    background: list[str] = field(default_factory=list)
    assessment: list[str] = field(default_factory=list)
    recommendation: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)
    params: list[list[Any]] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)   # section, item, value, unit, date, flag, source

    def text(self) -> str:
        parts = []
        for title, lines in (("Situation", self.situation), ("Background", self.background),
                             ("Assessment", self.assessment), ("Recommendation", self.recommendation)):
            parts.append(f"{title}:\n" + "\n".join(f"- {line}" for line in lines))
        return "\n".join(parts)

    def _row(self, section: str, item: str, value: Any, unit: str = "", when: Any = None, flag: str | None = None,
             source: str = "") -> None:
        self.rows.append([section, item, value, unit, _iso(when), flag, source])


COLUMNS = ["section", "item", "value", "unit", "date", "flag", "source"]


def _iso(value: Any) -> str | None:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value) if value else None


def _day(value: Any) -> str:
    return (_iso(value) or "")[:10]


def _sex_word(sex: str | None) -> str:
    return {"F": "female", "M": "male"}.get(sex or "", "sex not recorded")


def handover_summary(store: Store, patient_id: str) -> Handover:
    """The SBAR handover of one patient, computed. Raises ``PatientNotFound`` for an unknown patient."""
    summary = patient_summary(store, patient_id)   # raises PatientNotFound
    h = Handover(patient_id)
    h.sql.append("patient_summary (desktop/core/queries/summary.py): latest readings, flags, NEWS2, age")
    h.params.append([patient_id])
    patient: dict[str, Any] = summary["patient"]  # type: ignore[assignment]
    died = date.fromisoformat(patient["deceased"]) if patient.get("deceased") else None
    newest = store.con.execute("SELECT max(observed_at) FROM observations WHERE patient_id = ?", [patient_id]).fetchone()
    newest_at: datetime | None = newest[0] if newest else None
    _situation(store, h, patient, died, newest_at)
    _background(store, h, patient_id, died)
    abnormal = _assessment(store, h, summary, newest_at)
    _recommendation(h, summary, abnormal, died)
    return h


def _situation(store: Store, h: Handover, patient: dict[str, Any], died: date | None,
               newest_at: datetime | None) -> None:
    pid = h.patient_id
    age = patient.get("age")
    age_text = "age unknown (no birth date)" if age is None else (
        f"aged {age:g} at death" if died else f"aged {age:g}") + (" (estimated)" if patient.get("age_estimated") else "")
    who = f"{patient.get('name') or pid} ({pid}), {_sex_word(patient.get('sex'))}, {age_text}"
    if patient.get("birth_date"):
        who += f", born {patient['birth_date']}"
    h.situation.append(who + ".")
    if age is not None:
        h.facts.append(Fact("age at death" if died else "age", float(age), "a", patient.get("deceased"), patient_id=pid))
    h._row("situation", "patient", patient.get("name") or pid, "", patient.get("birth_date"), None, "patients")
    if died:
        cause = store.con.execute(CAUSE_SQL, [pid, CAUSE_OF_DEATH]).fetchone()
        h.sql.append(CAUSE_SQL)
        h.params.append([pid, CAUSE_OF_DEATH])
        line = f"Deceased: died on {died.isoformat()}"
        if cause and cause[0]:
            line += f"; cause of death recorded: {cause[0]}"
        h.situation.append(line + ".")
        h.facts.append(Fact("death", "died", "", died.isoformat(), patient_id=pid))
        h._row("situation", "death", cause[0] if cause else None, "", died, None, "patients.death_date")
    else:
        seen = f" (the newest reading is from {_day(newest_at)})" if newest_at else ""
        h.situation.append(f"No death is recorded{seen}.")
    visits = store.con.execute(VISITS_SQL, [pid]).fetchall()
    h.sql.append(VISITS_SQL)
    h.params.append([pid])
    if not visits:
        h.situation.append("No visits recorded.")
        return
    latest = visits[0]
    h.situation.append(f"Latest visit{' before death' if died else ''}: {_visit_words(latest)}.")
    h.facts.append(Fact("latest visit", latest[2] or latest[1] or "visit", "", _iso(latest[0]), patient_id=pid))
    h._row("situation", "latest visit", latest[2], latest[1] or "", latest[0], None, "encounters")
    admission = next((v for v in visits if v[1] in ADMISSION_CLASSES), None)
    if admission is not None and admission is not latest and latest[0] - admission[0] <= RECENT:
        h.situation.append(f"Latest admission or emergency visit: {_visit_words(admission)}.")
        h.facts.append(Fact("latest admission", admission[2] or admission[1], "", _iso(admission[0]), patient_id=pid))
        h._row("situation", "latest admission", admission[2], admission[1], admission[0], None, "encounters")


def _visit_words(visit: tuple[Any, ...]) -> str:
    at, klass, description, reason = visit
    text = f"{klass or 'visit'} on {_day(at)}"
    if description:
        text += f" ({description})"
    return text + (f", for {reason}" if reason else ", no reason recorded")


def _background(store: Store, h: Handover, pid: str, died: date | None) -> None:
    history = patient_history(store, patient_id=pid)
    as_of = history.as_of
    day = as_of.date() if as_of else None
    rows = store.con.execute(PROBLEMS_SQL, [pid, day, day]).fetchall()
    h.sql.append(PROBLEMS_SQL)
    h.params.append([pid, day, day])
    problems = [(d, onset, code) for d, onset, code in rows if not is_social_finding(d)]
    social = len(rows) - len(problems)
    at = f" at {day.isoformat()}" if day else ""
    if problems:
        h.background.append(f"Active problems{at} ({len(problems)}): " + "; ".join(
            f"{d} (since {_day(onset)})" if onset else d for d, onset, _ in problems) + ".")
    else:
        h.background.append(f"No active problems recorded{at}.")
    if social:
        h.background.append(f"{social} social-history finding{'s' if social != 1 else ''} (employment, housing, "
                            f"stress...) not listed as problems.")
    for d, onset, code in problems:
        h.facts.append(Fact("active problem", d, "", _iso(onset), patient_id=pid))
        h._row("background", "active problem", d, code or "", onset, None, "conditions")
    meds = history.active_medications
    h.sql.append(MEDICATIONS_SQL)
    h.params.append(medications_params(pid, as_of))
    if meds:
        h.background.append(f"Active medications{at} ({len(meds)}): " + "; ".join(
            f"{m.description} (since {_day(m.started_at)}" + (f", for {m.reason})" if m.reason else ")")
            for m in meds) + ".")
    else:
        h.background.append(f"No active medications recorded{at}.")
    for m in meds:
        h.facts.append(Fact("active medication", m.description, "", _iso(m.started_at), patient_id=pid))
        h._row("background", "active medication", m.description, "", m.started_at, None, "medications")
    h.sql.append(ALLERGIES_SQL)
    h.params.append(allergies_params(pid, day))
    if history.allergies:
        h.background.append(f"Allergies and intolerances ({len(history.allergies)}): " + "; ".join(
            a.substance + (f" ({a.reaction_text()})" if a.reactions else " (reaction not recorded)")
            for a in history.allergies) + ".")
    else:
        h.background.append("No allergies recorded.")
    for a in history.allergies:
        h.facts.append(Fact("allergy", a.substance, "", _iso(a.recorded_on), patient_id=pid))
        h._row("background", "allergy", a.substance, "", a.recorded_on, None, "allergies")


def _reading_words(item: dict[str, Any]) -> str:
    unit = f" {item['unit']}" if item.get("unit") and not str(item["unit"]).startswith("{") else ""
    flag = item.get("flag")
    judged = f" ({flag_phrase(flag)}; {short_rule(item['rule'])})" if flag and flag != "N" else (" (within the healthy range)"
                                                                                    if flag == "N" else "")
    return f"{item['name']} {format_value(float(item['value']))}{unit} on {_day(item['observed_at'])}{judged}"


def _reading_fact(h: Handover, item: dict[str, Any], section: str) -> None:
    h.facts.append(Fact(item["name"], float(item["value"]), item.get("unit") or "", item["observed_at"],
                        item.get("flag"), item.get("rule"), h.patient_id))
    h._row(section, item["name"], item["value"], item.get("unit") or "", item["observed_at"], item.get("flag"),
           "observations")


def _assessment(store: Store, h: Handover, summary: dict[str, Any], newest_at: datetime | None) -> list[dict[str, Any]]:
    """Latest vitals, NEWS2, recent abnormal results and trends; returns the abnormal results listed."""
    numeric = [i for i in summary.get("latest") or [] if isinstance(i.get("value"), (int, float))
               and not isinstance(i.get("value"), bool) and load_catalog().by_code(i["code"]) is not None]
    vitals = [i for i in numeric if i.get("category") == "vital"]
    if vitals:
        h.assessment.append("Latest vital signs: " + "; ".join(_reading_words(i) for i in vitals) + ".")
        for item in vitals:
            _reading_fact(h, item, "assessment")
    else:
        h.assessment.append("No vital signs recorded.")
    news2 = summary.get("news2") or {}
    if news2.get("score") is not None:
        partial = f", partial: {', '.join(news2.get('missing') or [])} missing" if news2.get("partial") else ""
        h.assessment.append(f"NEWS2 {news2['score']} ({news2.get('risk_text')} risk{partial}) from the observation "
                            f"set of {_day(news2.get('observed_at'))} ({news2.get('scale')}).")
        h.facts.append(Fact("NEWS2", float(news2["score"]), "", news2.get("observed_at"), None, news2.get("window"),
                            h.patient_id))
        h._row("assessment", "NEWS2", news2["score"], "", news2.get("observed_at"), news2.get("risk"), "news2")
    elif news2.get("note"):
        h.assessment.append(f"NEWS2 not scored: {news2['note']}.")
    else:
        h.assessment.append("NEWS2 not scored: no NEWS2 observations recorded.")
    since = newest_at - RECENT if newest_at else None
    abnormal = [i for i in numeric if i.get("category") != "vital" and i.get("flag") not in (None, "N")
                and (since is None or datetime.fromisoformat(i["observed_at"]) >= since)]
    abnormal.sort(key=lambda i: i["observed_at"], reverse=True)   # newest first, critical values before the rest
    abnormal.sort(key=lambda i: i["flag"] not in ("HH", "LL"))
    if abnormal:
        h.assessment.append(f"Abnormal results in the year before {_day(newest_at)}: "
                            + "; ".join(_reading_words(i) for i in abnormal) + ".")
        for item in abnormal:
            _reading_fact(h, item, "assessment")
    else:
        h.assessment.append("No abnormal results in the last year of the record.")
    names = {m.code: m.name for m in load_catalog().measurements}
    trends = [t for t in recent_trends(store, patient_id=h.patient_id)
              if t["code"] in names and (since is None or datetime.fromisoformat(t["last_at"]) >= since)]
    h.sql.append("recent_trends (desktop/core/assistant/context.py): first and last reading of the year before "
                 "each measurement's newest, where they differ by 5% or more")
    h.params.append([h.patient_id])
    if trends:
        lines = []
        for t in trends[:TRENDS_SHOWN]:
            unit = f" {t['unit']}" if t["unit"] and not t["unit"].startswith("{") else ""
            verb = "rose" if t["last"] > t["first"] else "fell"
            lines.append(f"{names[t['code']]} {verb} from {format_value(t['first'])}{unit} on {t['first_at'][:10]} "
                         f"to {format_value(t['last'])}{unit} on {t['last_at'][:10]} ({t['n']} readings)")
            for value, at in ((t["first"], t["first_at"]), (t["last"], t["last_at"])):
                h.facts.append(Fact(names[t["code"]], float(value), t["unit"], at, patient_id=h.patient_id))
            h._row("assessment", f"trend {names[t['code']]}", f"{t['first']} -> {t['last']}", t["unit"],
                   t["last_at"], None, "observations")
        h.assessment.append("Trends: " + "; ".join(lines) + ".")
    return abnormal


def _recommendation(h: Handover, summary: dict[str, Any], abnormal: list[dict[str, Any]], died: date | None) -> None:
    """Only what the record supports: what to review, and the NEWS2 band; no advice is invented."""
    if died:
        h.recommendation.append(f"None: the patient died on {died.isoformat()}; the record holds no actions after death.")
        return
    critical = [i for i in abnormal if i.get("flag") in ("HH", "LL")]
    if critical:
        h.recommendation.append("Critical values to review first: " + "; ".join(
            f"{i['name']} on {_day(i['observed_at'])}" for i in critical) + ".")
    others = [i for i in abnormal if i not in critical]
    if others:
        h.recommendation.append("Abnormal results to review: " + "; ".join(
            f"{i['name']} on {_day(i['observed_at'])}" for i in others) + ".")
    news2 = summary.get("news2") or {}
    if news2.get("score") is not None and news2.get("risk") not in (None, "low"):
        h.recommendation.append(f"NEWS2 {news2['score']} ({news2.get('risk_text')} risk band, RCP 2017) to review.")
    if not h.recommendation:
        h.recommendation.append("Nothing in the record calls for review: no abnormal result in the last year and "
                                "no raised NEWS2.")


def handover_answer(store: Store, plan: Plan) -> Answer:
    """The computed answer to a "handover" plan ("summarise this patient for a handover", "SBAR")."""
    pid = plan.patient_id or ""
    h = handover_summary(store, pid)   # raises PatientNotFound, as run_plan does
    return Answer(plan, h.text(), h.facts, h.sql, h.params, COLUMNS, h.rows)
