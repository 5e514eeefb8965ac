"""The facts a model reads for one question, ranked and cut to a token budget, so no record is too long.

A real ten-year record has 100+ kinds of observation, most of them survey answers and rarely used labs; put
whole into a 4096-token context it made the assistant refuse. Here each fact is one short line, ranked:

1. the patient (name, sex, age; whether and when they died) - always first;
2. allergies and intolerances, with reaction and severity (when there are none, or no active medications,
   the patient line says so): what no answer about treatment may miss;
3. what the question is about (its measurements by catalog name or everyday word, or any item it names;
   the medications when it asks about them);
4. active medications (judged at the workspace's latest date, or at death);
5. vitals, with NEWS2 and the blood-pressure category;
6. abnormal results (flagged outside the healthy range);
7. active conditions;
8. recent trends (first and last reading of the year before the newest, when they differ by 5% or more);
9. the other results.

Survey answers and QALY/DALY/QOLS rows are not clinical values: they are left out unless the question asks
about them. Lines are taken in rank order while they fit; the text is then measured with the caller's own
token counter, and lines are dropped from the end until it fits, so the budget is never exceeded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from desktop.core.assistant.answer import Fact
from desktop.core.assistant.parse import find_measurements
from desktop.core.clinical.display_units import format_value
from desktop.core.queries.medications import PatientHistory, has_history_tables, patient_history
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store

SECTIONS = ("patient", "allergy", "asked", "medication", "vital", "abnormal", "condition", "trend", "result")
HEADINGS = {"allergy": "Allergies and intolerances", "asked": "What the question is about",
            "medication": "Active medications", "vital": "Vital signs", "abnormal": "Abnormal results",
            "condition": "Active conditions", "trend": "Recent trends", "result": "Other results"}
ADMINISTRATIVE_CATEGORIES = ("survey",)
ADMINISTRATIVE_NAME = re.compile(r"\b(qaly|daly|qols|quality[- ]adjusted|disability[- ]adjusted)\b", re.IGNORECASE)
TREND_MIN_CHANGE = 0.05
TREND_DAYS = 366
_WORD = re.compile(r"[a-z0-9]+")
_COMMON = frozenset({"what", "which", "when", "where", "does", "have", "has", "with", "from", "that", "this", "there",
                     "their", "about", "last", "latest", "total", "score", "blood", "level", "levels", "count",
                     "value", "values", "result", "results", "test", "patient", "recent", "reported", "panel",
                     "serum", "plasma", "ratio", "mass", "volume", "body", "the", "and", "was", "were", "her", "his",
                     "him", "she", "any", "are", "how", "you", "for", "all", "did", "not", "ever", "been", "doing",
                     "item", "number", "why", "who", "new", "old", "high", "low", "normal", "many", "much",
                     "answers", "answer", "survey", "surveys", "questions", "summarise", "summarize", "time"})


@dataclass(frozen=True)
class ContextLine:
    section: str
    text: str
    facts: tuple[Fact, ...] = ()


@dataclass
class PatientContext:
    """The text the model reads, the facts in it (for the verifier), and what was left out."""

    text: str
    facts: list[Fact]
    summary: dict[str, Any]
    tokens: int
    budget: int
    lines: list[ContextLine] = field(default_factory=list)
    left_out: int = 0
    administrative_left_out: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": self.tokens, "budget": self.budget, "left_out": self.left_out,
                "administrative_left_out": self.administrative_left_out,
                "facts": [f.to_dict() for f in self.facts]}


def build_patient_context(store: Store, *, patient_id: str, question: str, budget_tokens: int,
                          count_tokens: Callable[[str], int]) -> PatientContext:
    """The context for ``question`` about ``patient_id`` in at most ``budget_tokens`` (by ``count_tokens``)."""
    summary = patient_summary(store, patient_id)
    administrative = administrative_codes(store)
    trends = recent_trends(store, patient_id=patient_id)
    summary = {**summary, "trends": trends}
    if has_history_tables(store):
        summary["history"] = patient_history(store, patient_id=patient_id)
        # "None recorded" only where the workspace holds such records at all (an export with those files):
        # a workspace that never had an allergies file knows nothing either way, and spends no tokens on it.
        row = store.con.execute("SELECT EXISTS (SELECT 1 FROM allergies), EXISTS (SELECT 1 FROM medications)").fetchone()
        summary["history_recorded"] = {"allergies": bool(row and row[0]), "medications": bool(row and row[1])}
    lines, admin_out = rank_lines(summary, question=question, administrative=administrative)
    context = fit_to_budget(lines, budget_tokens=budget_tokens, count_tokens=count_tokens, summary=summary)
    context.administrative_left_out = admin_out
    return context


def administrative_codes(store: Store) -> frozenset[str]:
    """Codes of survey answers and QALY/DALY/QOLS rows in this workspace."""
    rows = store.con.execute(
        f"SELECT code, description, category FROM observation_codes "
        f"WHERE lower(category) IN ({', '.join('?' for _ in ADMINISTRATIVE_CATEGORIES)}) OR description IS NOT NULL",
        list(ADMINISTRATIVE_CATEGORIES)).fetchall()
    return frozenset(code for code, description, category in rows
                     if (category or "").lower() in ADMINISTRATIVE_CATEGORIES
                     or ADMINISTRATIVE_NAME.search(description or ""))


def recent_trends(store: Store, *, patient_id: str) -> list[dict[str, Any]]:
    """First and last numeric reading of each measurement over the year before its newest reading, where they
    differ by at least 5%; biggest change first."""
    rows = store.con.execute(
        f"""
        WITH o AS (
            SELECT code, observed_at, value, unit, max(observed_at) OVER (PARTITION BY code) AS newest
            FROM observations WHERE patient_id = ? AND value IS NOT NULL
        )
        SELECT code, arg_min(value, observed_at), min(observed_at), arg_max(value, observed_at), max(observed_at),
               arg_max(unit, observed_at), count(*)
        FROM o WHERE observed_at >= newest - INTERVAL {TREND_DAYS} DAY
        GROUP BY code HAVING count(*) >= 2
        """, [patient_id]).fetchall()
    trends = []
    for code, first, first_at, last, last_at, unit, n in rows:
        if first and abs(last - first) / abs(first) >= TREND_MIN_CHANGE:
            trends.append({"code": code, "first": first, "first_at": first_at.isoformat(), "last": last,
                           "last_at": last_at.isoformat(), "unit": unit or "", "n": n,
                           "change": abs(last - first) / abs(first)})
    trends.sort(key=lambda t: (-t["change"], t["code"]))
    return trends


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 3 and not w.isdigit() and w not in _COMMON}


def _overlap(line: ContextLine, codes: set[str], words: set[str]) -> int:
    name = line.text.split(":", 1)[0]
    catalog_match = any(f.label and find_measurements(f.label.lower())[:1] and find_measurements(
        f.label.lower())[0] in codes for f in line.facts)
    return 100 * catalog_match + len(words & _words(name))


def _header(summary: dict[str, Any]) -> ContextLine:
    p = summary.get("patient") or {}
    sex = {"F": "female", "M": "male"}.get(p.get("sex") or "", "sex unknown")
    age = p.get("age")
    age_text = f"aged {format_value(float(age))}{' (estimated)' if p.get('age_estimated') else ''}" \
        if isinstance(age, (int, float)) else "age unknown"
    text = f"Patient: {p.get('name') or p.get('id')}, {sex}, {age_text}."
    if p.get("deceased"):
        cause = next((str(i.get("value")) for i in summary.get("latest") or []
                      if re.search(r"cause of death", str(i.get("name") or ""), re.IGNORECASE)), None)
        text += f" Died on {p['deceased']}" + (f" (cause recorded: {cause})" if cause else "") + \
            "; the age is the age at death."
    if p.get("pregnant"):
        text += " Pregnant."
    history = summary.get("history")
    recorded = summary.get("history_recorded") or {}
    if isinstance(history, PatientHistory):  # "none" said in the line that is always kept, never left to guess
        if not history.allergies and recorded.get("allergies"):
            text += " Allergies: none recorded."
        if not history.active_medications and recorded.get("medications"):
            as_of = f" (as of {history.as_of.date().isoformat()})" if history.as_of else ""
            text += f" Active medications: none recorded{as_of}."
    return ContextLine("patient", text)


def _item_line(section: str, item: dict[str, Any]) -> ContextLine:
    raw = item.get("value")
    value: float | str = float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else str(raw)
    number = isinstance(value, float)
    shown = format_value(value) if isinstance(value, float) else f'"{value}"'
    unit = f" {item['unit']}" if number and item.get("unit") and not str(item["unit"]).startswith("{") else ""
    flag = item.get("flag")
    judged = ""
    if flag and flag != "N":
        judged = f", flagged {flag} ({short_rule(item.get('rule'))})"
    elif flag == "N":
        judged = ", within the healthy range"
    count = item.get("count")
    readings = f"; {count} readings" if isinstance(count, int) and count > 1 else ""
    text = f"{item.get('name') or item.get('code')}: {shown}{unit} on {str(item.get('observed_at'))[:10]}{judged}{readings}"
    fact = Fact(str(item.get("name") or item.get("code")), value,
                str(item.get("unit") or "") if number else "", str(item.get("observed_at") or "") or None, flag,
                item.get("rule"))
    return ContextLine(section, text, (fact,))


def short_rule(rule: str | None) -> str:
    """'H: >= 120 mm[Hg] (ACC/AHA 2017 BP guideline (Whelton, ...): normal < 120)' -> 'H: >= 120 mm[Hg],
    ACC/AHA 2017 BP guideline': the limit and its authority, in fewer tokens."""
    m = re.match(r"(.*?) \((.*?)\s*[(:]", rule or "")
    return f"{m.group(1)}, {m.group(2)}" if m else (rule or "")


def _trend_line(trend: dict[str, Any], names: dict[str, str]) -> ContextLine:
    name = names.get(trend["code"], trend["code"])
    first, last = float(trend["first"]), float(trend["last"])
    verb = "rose" if last > first else "fell"
    unit = f" {trend['unit']}" if trend["unit"] and not trend["unit"].startswith("{") else ""
    text = (f"{name} {verb} from {format_value(first)}{unit} on {trend['first_at'][:10]} to {format_value(last)}{unit} "
            f"on {trend['last_at'][:10]} ({trend['n']} readings)")
    facts = (Fact(name, first, trend["unit"], trend["first_at"]), Fact(name, last, trend["unit"], trend["last_at"]))
    return ContextLine("trend", text, facts)


def rank_lines(summary: dict[str, Any], *, question: str,
               administrative: frozenset[str] = frozenset()) -> tuple[list[ContextLine], int]:
    """Every line the context could hold, best first; and how many administrative rows were left out."""
    asked_codes = set(find_measurements(" ".join(question.lower().split())))
    asked_words = _words(question)
    wants_surveys = bool(re.search(r"\b(surveys?|questionnaires?|screening)\b", question, re.IGNORECASE))
    lines = [_header(summary)]
    by_section: dict[str, list[ContextLine]] = {s: [] for s in SECTIONS}
    admin_out = 0
    names: dict[str, str] = {}
    for item in summary.get("latest") or []:
        code, name = str(item.get("code")), str(item.get("name") or item.get("code"))
        names[code] = name
        asked = code in asked_codes or bool(asked_words & _words(name))
        if code in administrative or ADMINISTRATIVE_NAME.search(name):
            if asked or wants_surveys:
                by_section["asked"].append(_item_line("asked", item))
            else:
                admin_out += 1
            continue
        if asked:
            section = "asked"
        elif item.get("category") == "vital":
            section = "vital"
        elif item.get("flag") not in (None, "N"):
            section = "abnormal"
        elif re.search(r"cause of death", name, re.IGNORECASE):
            continue  # said in the header
        else:
            section = "result"
        by_section[section].append(_item_line(section, item))
    news2 = summary.get("news2") or {}
    if news2.get("score") is not None:
        partial = " (partial: at least; some inputs missing)" if news2.get("partial") else ""
        by_section["vital"].append(ContextLine("vital", f"NEWS2: {news2['score']}{partial}, {news2.get('risk_text')} "
                                                        f"risk, from the set of {str(news2.get('observed_at'))[:10]}"))
    if summary.get("bp_category"):
        by_section["vital"].append(ContextLine("vital", f"Blood pressure category: {summary['bp_category']}"))
    history = summary.get("history")
    if isinstance(history, PatientHistory):
        _history_lines(history, by_section, asks_medications=bool(_MEDICATION_QUESTION.search(question)))
    conditions = (summary.get("patient") or {}).get("conditions") or []
    for condition in conditions:
        section = "asked" if asked_words & _words(condition) else "condition"
        by_section[section].append(ContextLine(section, f"Condition (active): {condition}"))
    for trend in summary.get("trends") or []:
        if trend["code"] in administrative or trend["code"] not in names:
            continue
        line = _trend_line(trend, names)
        by_section["asked" if trend["code"] in asked_codes else "trend"].append(line)
    # Among what was asked, the catalog's own matches and the items sharing most words with the question first.
    by_section["asked"].sort(key=lambda line: -_overlap(line, asked_codes, asked_words))
    for section in SECTIONS[1:]:
        lines.extend(by_section[section])
    return lines, admin_out


_MEDICATION_QUESTION = re.compile(r"\b(medications?|medicines?|meds|drugs?|prescri\w*|tablets?|taking|takes|"
                                  r"treat(ed|ment)?)\b", re.IGNORECASE)


def _history_lines(history: PatientHistory, by_section: dict[str, list[ContextLine]], *,
                   asks_medications: bool) -> None:
    """Allergies and active medications, one line each (when there are none the header says so)."""
    for a in history.allergies:
        what = ", ".join(x for x in (a.allergy_type if a.allergy_type != "allergy" else None, a.category) if x)
        reaction = a.reaction_text()
        text = (f"Allergy: {a.substance}" + (f" ({what})" if what else "")
                + (f"; reaction {reaction}" if reaction else "; reaction not recorded")
                + f"; recorded {a.recorded_on.isoformat()}")
        by_section["allergy"].append(ContextLine("allergy", text, (
            Fact(a.substance, reaction or "allergy", "", a.recorded_on.isoformat()),)))
    section = "asked" if asks_medications else "medication"
    for m in history.active_medications:
        text = f"Medication: {m.description}, since {m.started_at.date().isoformat()}" + (
            f", for {m.reason}" if m.reason else "")
        by_section[section].append(ContextLine(section, text, (
            Fact(m.description, m.description, "", m.started_at.isoformat()),)))


def render(lines: list[ContextLine], left_out: int = 0) -> str:
    out: list[str] = []
    current = None
    for line in lines:
        if line.section == "patient":
            out.append(line.text)
            continue
        if line.section != current:
            current = line.section
            out.append(f"{HEADINGS[line.section]}:")
        out.append(f"- {line.text}")
    if left_out:
        out.append(f"({left_out} more facts left out to fit; ask about one by name to see it.)")
    return "\n".join(out)


def fit_to_budget(lines: list[ContextLine], *, budget_tokens: int, count_tokens: Callable[[str], int],
                  summary: dict[str, Any] | None = None) -> PatientContext:
    """The best-ranked lines that fit in ``budget_tokens``; never more, whatever the counter."""
    chosen: list[ContextLine] = []
    used = 0
    reserve = count_tokens(render([], left_out=9999)) + 1
    for line in lines:
        cost = count_tokens(line.text) + 3  # "- ", the newline and a heading now and then
        if used + cost + reserve <= budget_tokens or line.section == "patient":
            chosen.append(line)
            used += cost
    left_out = len(lines) - len(chosen)
    text = render(chosen, left_out)
    while count_tokens(text) > budget_tokens and len(chosen) > 1:
        chosen.pop()
        left_out += 1
        text = render(chosen, left_out)
    if count_tokens(text) > budget_tokens:  # the patient line alone: without the note, then cut to fit
        text = _cut(render(chosen), budget_tokens, count_tokens)
    facts = [f for line in chosen for f in line.facts]
    return PatientContext(text, facts, summary or {}, count_tokens(text), budget_tokens, chosen, left_out)


def _cut(text: str, budget: int, count_tokens: Callable[[str], int]) -> str:
    """A budget too small even for the patient line: as many words as fit."""
    words = text.split()
    while words and count_tokens(" ".join(words)) > budget:
        words.pop()
    return " ".join(words)
