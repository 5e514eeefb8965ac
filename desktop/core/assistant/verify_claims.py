"""Record claims in a model's sentence, checked against the patient's record: a diagnosis, a drug, a visit, a
procedure, a vaccine, an allergy, a count of events, alive or dead, and the "Yes"/"No" that opens an answer.

A claim is judged only when the sentence is about the patient ("she", "the patient", "was diagnosed",
"has been to"); "hypertension is common" states nothing about this record. Wording that does not assert
("should", "may", "risk of") is left alone. A claim about something the record does not hold, or a
diagnosis the patient never had, is contradicted with what the record says instead; a claim the verifier
cannot check (no record given) is marked unverified, never passed silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from desktop.core.assistant.verify_record import (
    ALLERGY,
    CONDITION,
    IMMUNIZATION,
    MEDICATION,
    PHRASE_WORDS,
    PROCEDURE,
    VISIT,
    Event,
    RecordBook,
    vocabulary_phrases,
    words,
)
from desktop.core.clinical.social_findings import is_social_finding

VERIFIED, UNVERIFIED, CONTRADICTED = "verified", "unverified", "contradicted"
Add = Callable[[int, int, str, str, str], None]
Free = Callable[[int, int], bool]

_ABOUT_PATIENT = re.compile(
    r"\b(diagnosis (in|on|of|was|is)|(first|last|latest) diagnosis|patient|he|she|his|her|him|mr|mrs|ms|miss|the record|this person|diagnosed|prescribed|"
    r"admitted|hospitali[sz]ed|visited|been to|was seen|underwent|received|receiving|allergic|"
    r"vaccinated|immuni[sz]ed|suffers|history of|(was|is|been) (being )?treated|undergoing|died|deceased|passed away|"
    r"active (problems?|medications?|conditions?|diagnos[ie]s)|allergies and intolerances)\b",
    re.IGNORECASE)
# Wording that does not state a record fact.
_HYPOTHETICAL = re.compile(r"\b(should|could|would|may|might|if|risk of|risks|consider|recommend\w*|advis\w*|"
                           r"monitor(ing)? for|prevent\w*|such as|e\.g\.|for example|can cause|is a|are a|"
                           r"is an|are an|common|typically|usually|in general)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(no|not|never|without|denies|denied|neither|nor|none|free of|negative for|n't|"
                       r"no record of|no history of|no evidence of|ruled out)\b|n't\b", re.IGNORECASE)
_DECLINES = re.compile(r"\b(does not (hold|record|contain|include)|doesn't (hold|record)|not (recorded|available|"
                       r"documented|held|known)|no (record|information|data)|unknown|cannot|can't|unable)\b",
                       re.IGNORECASE)
_ALLERGY_CUE = re.compile(r"\b(allerg\w*|intoleran\w*|anaphyla\w*|reaction to)\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,;:()]|\b(?:and|but|while|whereas|although|however)\b", re.IGNORECASE)

# Data a Synthea workspace never holds: a statement of it cannot come from the record.
UNHELD = re.compile(
    r"\b(blood (type|group)|organism|culture (grew|showed|was|revealed)|cultures? (positive|grew)|mycobacteri\w*|"
    r"staphylococc\w*|streptococc\w*|e\. ?coli|urine output|fluid (intake|output|balance)|intake and output|"
    r"ward \w+|bed \d+|room \d+|next appointment|follow-up appointment (is|on)|family history|consent (form|was))\b",
    re.IGNORECASE)
UNHELD_NAMES = (("blood", "blood types"), ("organism", "microbiology results"), ("cultur", "microbiology results"),
                ("mycobact", "microbiology results"), ("staph", "microbiology results"),
                ("strep", "microbiology results"), ("e.", "microbiology results"), ("urine", "intake and output volumes"),
                ("fluid", "intake and output volumes"), ("intake", "intake and output volumes"), ("ward", "wards or beds"),
                ("bed", "wards or beds"), ("room", "wards or beds"), ("next", "appointments"),
                ("follow", "appointments"), ("family", "family histories"), ("consent", "consent forms"))

# Visit classes as Synthea writes them, by the words a model uses.
VISIT_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"emergency (room|department)|\bemergency\b|\ber\b|a&e|\bed\b", ("emergency",)),
    (r"urgent care|urgent-care|walk-in", ("urgentcare",)),
    (r"\badmi(tted|ssions?)\b|hospitali[sz](ed|ation)|\binpatient\b|hospital stay|in hospital", ("inpatient",)),
    (r"wellness|check-?up|annual (physical|exam\w*)|general exam\w*", ("wellness",)),
    (r"outpatient|ambulatory|clinic visit|office visit", ("ambulatory", "outpatient")),
)
_VISIT_CLAIM = re.compile(r"\b(been to|visited|visits?|went to|attended|seen (in|at)|admitted|admissions?|"
                          r"hospitali[sz]ed|encounters?|inpatient)\b", re.IGNORECASE)
_COUNT_NOUNS = {
    VISIT: r"visits?|encounters?|appointments?|admissions?|hospitali[sz]ations?",
    CONDITION: r"diagnos[ie]s|conditions?|problems?",
    MEDICATION: r"medications?|prescriptions?|drugs?|medicines?",
    PROCEDURE: r"procedures?",
    IMMUNIZATION: r"immuni[sz]ations?|vaccinations?|vaccines?",
    ALLERGY: r"allerg(y|ies)",
}
_COUNT = re.compile(r"(?<![\w.])(\d+)\s+(?:[a-z-]+\s+){0,2}?(" + "|".join(_COUNT_NOUNS.values()) + r")\b",
                    re.IGNORECASE)
_ALIVE = re.compile(r"\b((is|are|remains?) (still |now )?(alive|living)|currently|"
                    r"(is|are) (still |now )?(undergoing|receiving|being (treated|managed|monitored|cared)|"
                    r"admitted|in hospital|recovering|stable|doing (well|better))|continues to|ongoing treatment)\b",
                    re.IGNORECASE)
_DEAD = re.compile(r"\b(has died|had died|died|is dead|was dead|is deceased|was deceased|passed away|"
                   r"date of death|death on)\b", re.IGNORECASE)
_ANY_VACCINE = frozenset({"vaccine", "immunized", "immunization", "booster", "vaccinated", "immunised"})
_DOSE_AFTER = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(mg|mcg|ml|unt|g)\b", re.IGNORECASE)
_YES_NO = re.compile(r"^\s*(yes|no)\b(?=\s*[,.;:!—-]|\s*$)", re.IGNORECASE)
_YEAR_WINDOW = re.compile(r"\b(in|during|since|after|from|before|until|by) ((?:19|20)\d{2})\b", re.IGNORECASE)
_ISO_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


@dataclass(frozen=True)
class Subject:
    """What is known about the patient the text is about: their record (when given), else the summary's death."""

    record: RecordBook | None
    death: str | None            # ISO date, or None when alive (or unknown)
    vital_known: bool            # a record or summary said whether the patient died
    known_names: frozenset[str]  # descriptions the facts or summary state (active conditions, drugs listed)
    known_counts: frozenset[float] = frozenset()  # counts the facts give (a computed answer's "number of ...")


@lru_cache(maxsize=16)
def _term_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first: at one position the longest phrase wins ("acute viral pharyngitis" over "pharyngitis").
    ordered = sorted(phrases, key=len, reverse=True)
    alternation = "|".join(re.escape(p).replace(r"\ ", r"[\s-]+") for p in ordered)
    return re.compile(rf"(?<![\w-])(?:{alternation})(?:e?s)?(?![\w-])", re.IGNORECASE)


def _phrases(subject: Subject) -> dict[str, str]:
    return subject.record.vocabulary if subject.record is not None else vocabulary_phrases(())


def _clause(text: str, at: int) -> tuple[int, int]:
    start = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, at)), default=0)
    following = _CLAUSE_BREAK.search(text, at)
    return start, following.start() if following else len(text)


def term_words(phrase: str) -> frozenset[str]:
    key = " ".join(phrase.lower().replace("-", " ").split())
    return PHRASE_WORDS.get(phrase.lower()) or PHRASE_WORDS.get(key) or words(key)


def _matches(events: list[Event], wanted: frozenset[str]) -> list[Event]:
    return [e for e in events if wanted and wanted <= (e.words | words(e.reason or ""))]


def _window(text: str) -> tuple[str, date | None, date | None] | None:
    """The time a clause names: ("in 2016", 2016-01-01, 2016-12-31), ("since 2018", 2018-01-01, None)...
    "at 2025-06-30" and "as of" say when a list was judged, not when its items happened."""
    if (m := _ISO_DAY.search(text)) and _valid_day(m.group(1)):
        day = date.fromisoformat(m.group(1))
        before = text[max(0, m.start() - 12):m.start()].lower()
        if re.search(r"\b(at|as of)\s*$", before):
            return None
        if re.search(r"\b(since|from|after)\s*$", before):
            return f"since {day}", day, None
        if re.search(r"\b(before|until|prior to)\s*$", before):
            return f"before {day}", None, day
        return f"on {day}", day, day
    if m := _YEAR_WINDOW.search(text):
        word, year = m.group(1).lower(), int(m.group(2))
        if word in ("in", "during"):
            return f"in {year}", date(year, 1, 1), date(year, 12, 31)
        if word in ("since", "after", "from"):
            return f"since {year}", date(year, 1, 1), None
        return f"before {year}", None, date(year - 1, 12, 31)
    return None


def _valid_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
        return True
    except ValueError:
        return False


def _in_window(e: Event, window: tuple[str, date | None, date | None] | None) -> bool:
    if window is None:
        return True
    said, start, end = window
    if e.start is None:
        return False
    if said.startswith("since") and start is not None and e.kind != "visit":
        # "has had hypertension since 2018", "taking metformin since 2021": ongoing then counts too.
        return e.stop is None or e.stop >= start
    return (start is None or e.start >= start) and (end is None or e.start <= end)


def _dates(events: list[Event]) -> str:
    days = sorted({e.start.isoformat() for e in events if e.start})
    return ", ".join(days[:4]) + (f" and {len(days) - 4} more" if len(days) > 4 else "")


def judge_claims(subject: Subject, text: str, add: Add, free: Free) -> list[str]:
    """Adds a span for each record claim in one sentence; returns the statuses given (for a "Yes"/"No")."""
    statuses: list[str] = []

    def mark(start: int, end: int, kind: str, status: str, reason: str) -> None:
        if free(start, end):
            add(start, end, kind, status, reason)
            statuses.append(status)

    declines = bool(_DECLINES.search(text))
    for m in UNHELD.finditer(text):
        if not declines:
            what = next((name for start, name in UNHELD_NAMES if m.group(1).lower().startswith(start)), "such data")
            mark(m.start(), m.end(), "unheld", CONTRADICTED,
                 f"the workspace holds no {what}: this cannot come from the record")
    about = bool(_ABOUT_PATIENT.search(text))
    if not about:
        return statuses
    _judge_vital_status(subject, text, mark)
    if _HYPOTHETICAL.search(text) and not re.search(r"\b(diagnosed|prescribed|admitted|visited)\b", text, re.IGNORECASE):
        return statuses
    _judge_named_diagnosis(subject, text, mark)
    _judge_no_allergies(subject, text, mark)
    _judge_counts(subject, text, mark)
    _judge_terms(subject, text, mark)
    _judge_visits(subject, text, mark)
    return statuses


def _judge_vital_status(subject: Subject, text: str, mark: Add) -> None:
    if not subject.vital_known:
        return
    for m in _ALIVE.finditer(text):
        if subject.death and not _NEGATION.search(text[max(0, m.start() - 12):m.start()]):
            mark(m.start(), m.end(), "status", CONTRADICTED, f"the record gives the patient's death on {subject.death}")
    for m in _DEAD.finditer(text):
        negated = bool(_NEGATION.search(text[max(0, m.start() - 12):m.start()]))
        said_dead = not negated
        if said_dead == bool(subject.death):
            mark(m.start(), m.end(), "status", VERIFIED,
                 f"the record gives the death on {subject.death}" if subject.death else "the record has no death")
        else:
            mark(m.start(), m.end(), "status", CONTRADICTED,
                 f"the record gives the death on {subject.death}" if subject.death else
                 "the record has no death for this patient")


def _count_options(record: RecordBook, kind: str, clause: str) -> tuple[set[int], str]:
    """The counts a sentence may mean for this kind of event in its clause's scope, and how they are said."""
    events = record.of(kind)
    if kind == VISIT:
        classes = [c for pattern, c in VISIT_CLASSES if re.search(pattern, clause, re.IGNORECASE)]
        if classes:
            events = [e for e in events if e.klass in classes[0]]
    if kind == CONDITION:
        events = [e for e in events if not is_social_finding(e.description)] or events
    window = _window(clause)
    scoped = [e for e in events if _in_window(e, window)]
    as_of = max((e.start for e in record.events if e.start), default=None)
    active = [e for e in scoped if e.stop is None or (as_of is not None and e.stop > as_of)]
    options = {len(scoped), len({e.description for e in scoped}), len({e.start for e in scoped}),
               len(active), len({e.description for e in active})}
    scope = f" {window[0]}" if window else ""
    noun = {VISIT: "visit", CONDITION: "diagnosis record", MEDICATION: "prescription", PROCEDURE: "procedure",
            IMMUNIZATION: "immunization", ALLERGY: "allergy record"}[kind]
    said = f"{len(scoped)} {noun}{'s' if len(scoped) != 1 else ''}{scope}"
    kinds = len({e.description for e in scoped})
    if kinds != len(scoped):
        said += f" ({kinds} different)" if kind != VISIT else f" (on {len({e.start for e in scoped})} days)"
    if kind == CONDITION:
        said += ", social-history findings left out"
    return options, said


def _judge_counts(subject: Subject, text: str, mark: Add) -> None:
    for m in _COUNT.finditer(text):
        noun = m.group(2).lower()
        kind = next(k for k, pattern in _COUNT_NOUNS.items() if re.fullmatch(pattern, noun, re.IGNORECASE))
        if float(m.group(1)) in subject.known_counts:
            mark(m.start(1), m.end(1), "count", VERIFIED, "a count the facts give")
            continue
        if subject.record is None:
            mark(m.start(1), m.end(1), "count", UNVERIFIED, f"no record given to count the patient's {kind} records")
            continue
        a, b = _clause(text, m.start())
        options, said = _count_options(subject.record, kind, text[a:b] + " " + text[m.start():])
        n = int(m.group(1))
        mark(m.start(1), m.end(1), "count", VERIFIED if n in options else CONTRADICTED,
             f"the record holds {said}")


_MEDICATION_CUE = re.compile(r"\b(medications?|prescri\w*|taking|takes|drugs?|given|dispensed)\b", re.IGNORECASE)


def _kind_in_context(kind: str, text: str, start: int) -> str:
    """A drug named after "allergic to" (or in a list headed "Allergies: ...") is an allergy."""
    a, b = _clause(text, start)
    if kind not in (MEDICATION, CONDITION):
        return kind
    if _ALLERGY_CUE.search(text[a:b]):
        return ALLERGY
    allergy = [m.end() for m in _ALLERGY_CUE.finditer(text, 0, start)]
    medication = [m.end() for m in _MEDICATION_CUE.finditer(text, 0, start)]
    return ALLERGY if allergy and (not medication or allergy[-1] > medication[-1]) else kind


def _judge_terms(subject: Subject, text: str, mark: Add) -> None:
    phrases = _phrases(subject)
    for m in _term_pattern(tuple(phrases)).finditer(text):
        phrase, kind = _lookup(phrases, m.group(0))
        kind = _kind_in_context(kind, text, m.start())
        wanted = term_words(phrase)
        a, b = _clause(text, m.start())
        negated = bool(_NEGATION.search(text[a:m.start()]))
        window = _window(text[a:b])
        record = subject.record
        if record is None:
            if not negated and wanted and any(wanted <= words(n) for n in subject.known_names):
                mark(m.start(), m.end(), kind, VERIFIED, "named in the facts given")
            else:
                mark(m.start(), m.end(), kind, UNVERIFIED, f"no record given to check this {kind} against")
            continue
        pool = record.of(kind)
        if kind == CONDITION:   # a visit's or a prescription's reason names a diagnosis too
            pool = pool + [e for e in record.events if e.kind in (VISIT, MEDICATION) and e.reason]
        if kind == PROCEDURE:   # "an X-ray", "a transplant": a visit's description may name it
            pool = pool + record.of(VISIT)
        if kind == IMMUNIZATION and wanted <= _ANY_VACCINE:   # "was vaccinated in 2021": any vaccine counts
            wanted = frozenset()
        found = [e for e in pool if not wanted] if kind == IMMUNIZATION and not wanted else \
            _matches(pool, wanted) if kind != CONDITION else [
            e for e in pool if wanted <= (e.words if e.kind == CONDITION else words(e.reason or ""))]
        clause = text[a:b]
        if found and re.search(r"\b(first|earliest|initial(ly)?)\b", clause, re.IGNORECASE):
            found = [min(found, key=lambda e: e.start or date.max)]
        elif found and re.search(r"\b(last|latest|most recent(ly)?)\b", clause, re.IGNORECASE):
            found = [max(found, key=lambda e: e.start or date.min)]
        in_window = [e for e in found if _in_window(e, window)]
        label = f"'{m.group(0)}'"
        if kind == MEDICATION and found and not negated and (dose := _DOSE_AFTER.match(text, m.end())):
            strength = f"{dose.group(1)} {dose.group(2)}".lower()
            if any(strength in " ".join(e.description.lower().split()) for e in found):
                mark(dose.start(1), dose.end(), "dose", VERIFIED, f"the record's prescription is {found[0].description}")
            else:
                mark(dose.start(1), dose.end(), "dose", CONTRADICTED,
                     "the record's prescriptions are " + "; ".join(sorted({e.description for e in found})[:3]))
        if negated:
            if in_window:
                mark(m.start(), m.end(), kind, CONTRADICTED,
                     f"the record has {in_window[0].description} on {_dates(in_window)}")
            else:
                mark(m.start(), m.end(), kind, VERIFIED, f"the record has no {kind} matching {label}"
                     + (f" {window[0]}" if window else ""))
        elif not found:
            mark(m.start(), m.end(), kind, CONTRADICTED, f"the record has no {kind} matching {label}")
        elif not in_window and window is not None:
            mark(m.start(), m.end(), kind, CONTRADICTED,
                 f"the record has {found[0].description} on {_dates(found)}, none {window[0]}")
        else:
            shown = in_window or found
            mark(m.start(), m.end(), kind, VERIFIED, f"the record has {shown[0].description} on {_dates(shown)}")


# "the last diagnosis in 2013 was 'H: >= 25 kg/m2, WHO TRS 894'": whatever is named must be a diagnosis held.
_NAMED_DIAGNOSIS = re.compile(r"\bdiagnos[ie]s\b[^.;:]{0,40}?\b(?:was|were|is|are)\s+(?:of\s+|an?\s+)?"
                              r"(['\"“]?)([^'\"”;(]{3,80}?)\1(?=[.;(]|\s*$|,\s*(?:on|in|which|recorded))", re.IGNORECASE)


def _judge_named_diagnosis(subject: Subject, text: str, mark: Add) -> None:
    for m in _NAMED_DIAGNOSIS.finditer(text):
        named = m.group(2).strip()
        wanted = words(named)
        if not wanted or not free_text(named):
            continue
        if subject.record is None:
            mark(m.start(2), m.start(2) + len(named), CONDITION, UNVERIFIED, "no record given to check diagnoses against")
            continue
        found = [e for e in subject.record.of(CONDITION) if wanted <= e.words or e.words and e.words <= wanted]
        window = _window(text[:m.start(2)])
        in_window = [e for e in found if _in_window(e, window)]
        if in_window:
            mark(m.start(2), m.start(2) + len(named), CONDITION, VERIFIED,
                 f"the record has {in_window[0].description} on {_dates(in_window)}")
        else:
            scope = f" {window[0]}" if window else ""
            mark(m.start(2), m.start(2) + len(named), CONDITION, CONTRADICTED,
                 f"the record has no diagnosis named '{named}'{scope}"
                 + (f" (it has {found[0].description} on {_dates(found)})" if found else ""))


def free_text(named: str) -> bool:
    """Not a pronoun or a vague word: "the diagnosis was unclear" names nothing."""
    return not re.fullmatch(r"(it|this|that|unclear|unknown|not recorded|pending|none|confirmed|made)", named.lower())


def _lookup(phrases: dict[str, str], said: str) -> tuple[str, str]:
    """The vocabulary phrase a match is ("peanuts" is "peanut") and its kind."""
    key = " ".join(said.lower().replace("-", " ").split())
    for candidate in (key, said.lower(), re.sub(r"es$", "", key), re.sub(r"s$", "", key)):
        if candidate in phrases:
            return candidate, phrases[candidate]
    return key, CONDITION


_NO_ALLERGIES = re.compile(r"\bno (known )?(drug |food )?(allergies|allergy|intolerances)\b|\bnkda\b", re.IGNORECASE)


def _judge_no_allergies(subject: Subject, text: str, mark: Add) -> None:
    for m in _NO_ALLERGIES.finditer(text):
        if subject.record is None:
            mark(m.start(), m.end(), ALLERGY, UNVERIFIED, "no record given to check allergies against")
            continue
        held = [e for e in subject.record.of(ALLERGY) if e.stop is None]
        mark(m.start(), m.end(), ALLERGY, CONTRADICTED if held else VERIFIED,
             f"the record has {len(held)} current allergies: " + "; ".join(e.description for e in held[:4])
             if held else "the record has no current allergy")


def _judge_visits(subject: Subject, text: str, mark: Add) -> None:
    if not _VISIT_CLAIM.search(text):
        return
    for pattern, classes in VISIT_CLASSES:
        for m in re.finditer(pattern, text, re.IGNORECASE):
            if subject.record is None:
                mark(m.start(), m.end(), VISIT, UNVERIFIED, "no record given to check visits against")
                continue
            a, b = _clause(text, m.start())
            negated = bool(_NEGATION.search(text[a:m.start()])) or bool(_NEGATION.search(text[:m.start()])
                                                                        and re.match(r"^\s*no\b", text, re.IGNORECASE))
            window = _window(text[a:b])
            visits = [e for e in subject.record.of(VISIT) if e.klass in classes]
            in_window = [e for e in visits if _in_window(e, window)]
            scope = f" {window[0]}" if window else ""
            name = classes[0]
            if bool(in_window) != negated:
                reason = (f"the record has {len(in_window)} {name} visit{'s' if len(in_window) != 1 else ''}{scope}: "
                          f"{_dates(in_window)}" if in_window else f"the record has no {name} visit{scope}")
                mark(m.start(), m.end(), VISIT, VERIFIED, reason)
            else:
                reason = (f"the record has {len(in_window)} {name} visit{'s' if len(in_window) != 1 else ''}{scope}: "
                          f"{_dates(in_window)}" if in_window else f"the record has no {name} visit{scope}"
                          + (f" (its {name} visits: {_dates(visits)})" if visits else ""))
                mark(m.start(), m.end(), VISIT, CONTRADICTED, reason)


def judge_yes_no(text: str, statuses: list[str], add: Add) -> None:
    """A leading "Yes"/"No" stands or falls with the claims its sentence makes."""
    m = _YES_NO.match(text)
    if m is None:
        return
    if CONTRADICTED in statuses:
        add(m.start(1), m.end(1), "answer", CONTRADICTED, "the claim it answers with is contradicted by the record")
    elif statuses and all(s == VERIFIED for s in statuses):
        add(m.start(1), m.end(1), "answer", VERIFIED, "the claim it answers with is in the record")
    else:
        add(m.start(1), m.end(1), "answer", UNVERIFIED, "nothing in this sentence could be checked against the record")
