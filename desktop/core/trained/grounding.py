"""Repeat the facts a question is about right beside it.

The whole patient summary is in the system prompt, but a 135M-parameter model reading a 30-line summary
often quotes the wrong line (asked for the eGFR, it answered with a made-up creatinine). Copying the one
or two matching lines under the question fixed that in our trials. Matching uses the measurement
catalog's names, short names and aliases ("CRP", "sats", "bp"), then plain word overlap; nothing is
invented here, only lines of the summary are repeated, and the stored message stays what the user typed.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({
    "a", "an", "and", "any", "are", "as", "at", "be", "been", "by", "can", "change", "changed", "current",
    "did", "do", "does", "for", "from", "has", "have", "how", "in", "is", "it", "its", "last", "latest",
    "level", "levels", "me", "most", "normal", "of", "on", "or", "patient", "patients", "recent", "result",
    "results", "show", "tell", "that", "the", "their", "them", "this", "to", "value", "values", "was", "were",
    "what", "whats", "when", "which", "with",
})
# Questions about these topics are answered by whole summary lines, not by one measurement.
_TOPICS = {
    "NEWS2": ("news", "news2", "early warning"),
    "Blood pressure category": ("blood pressure", "bp", "hypertension", "hypertensive"),
    "Patient:": ("condition", "conditions", "diagnosis", "diagnoses", "problem", "problems", "history", "age",
                 "old", "sex"),
}


# Words clinicians ask with that are not column-header aliases in the catalog.
_EVERYDAY = {
    "Systolic blood pressure": ("blood pressure", "bp"),
    "Diastolic blood pressure": ("blood pressure", "bp"),
    "Body temperature": ("fever", "temp", "temperature", "febrile"),
    "Oxygen saturation": ("sats", "saturation", "saturations", "spo2", "oxygen", "hypoxic", "hypoxia"),
    "eGFR": ("kidney", "kidneys", "renal"),
    "Creatinine": ("kidney", "kidneys", "renal"),
    "Glucose": ("sugar", "sugars", "glycaemia", "glycemia"),
    "Haemoglobin A1c": ("a1c", "hba1c", "diabetes control"),
    "Heart rate": ("tachycardia", "tachycardic", "bradycardia", "bradycardic"),
    "Body weight": ("weight",),
}


@lru_cache(maxsize=1)
def _phrases() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(measurement name, the phrases that mean it) from the catalog plus everyday words."""
    names: dict[str, set[str]] = {name: set(words) for name, words in _EVERYDAY.items()}
    try:
        from desktop.core.clinical.measurements import load_catalog

        for m in load_catalog().measurements:
            names.setdefault(m.name, set()).update(p.lower() for p in (m.name, m.short, *m.aliases) if p)
    except (ImportError, OSError, ValueError):
        pass
    return tuple((name, tuple(sorted(words | {name.lower()}))) for name, words in names.items())


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text) is not None


def _units(context_text: str) -> list[str]:
    """Summary lines, with the trends line split into one trend each."""
    out = []
    for line in context_text.splitlines():
        if line.startswith("Trends: "):
            out += [part.strip().rstrip(".") for part in line.removeprefix("Trends: ").split("; ")]
        elif line.strip() and line.strip() != "Latest values:":
            out.append(line.removeprefix("- ").strip())
    return out


def relevant_facts(context_text: str, question: str, *, limit: int = 5) -> list[str]:
    q = question.lower()
    units = _units(context_text)
    names = [name for name, phrases in _phrases() if any(_has(q, p) for p in phrases)]
    picked = [u for u in units if any(u.startswith((f"{n}:", f"{n} ")) for n in names)]
    picked += [u for u in units for key, words in _TOPICS.items() if u.startswith(key) and any(_has(q, w) for w in words)]
    if not picked:  # no catalog match: the lines sharing the most words with the question
        words = {w for w in _WORD.findall(q) if len(w) >= 3 and w not in _STOP}
        scored = [(sum(_has(u.lower(), w) for w in words), u) for u in units]
        best = max((s for s, _ in scored), default=0)
        picked = [u for s, u in scored if best and s == best]
    return list(dict.fromkeys(picked))[:limit]


def grounded_question(question: str, context_text: str) -> str:
    """The question as the model sees it: followed by the summary lines it is about, if any."""
    facts = relevant_facts(context_text, question)
    if not facts:
        return question
    return question + "\n\nFrom the record:\n" + "\n".join(f"- {f}" for f in facts)
