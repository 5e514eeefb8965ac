"""Every figure a model writes, checked against the facts it was given, before and while it is shown.

A small model reading a summary states wrong figures as fact (a woman's 170/100 flagged high called "within
the normal range for a healthy adult male"). The verifier reads the text sentence by sentence and marks each
number, unit, date, flag word, sex word and age as:

- ``verified``: the facts hold it (a number within the rounding the text shows, in the record's unit or one
  the catalog converts from; a flag word that agrees with the reading's flag);
- ``unverified``: the facts neither hold nor contradict it (the panel and the CLI mark it);
- ``contradicted``: the facts say otherwise (a flagged value called normal, the wrong sex or age, a number
  for a measurement whose readings the record holds but not that one).

Given the patient's record (:func:`desktop.core.assistant.verify_record.record_book`), it also judges the
record claims of a sentence about the patient (verify_claims.py): a diagnosis, a drug and its dose, a visit
and its class, a procedure, a vaccine, an allergy, a count of such events, alive or dead, the age on a
stated date, and the "Yes"/"No" that opens an answer; data a workspace never holds (an organism, a blood
type) is contradicted. Without the record such claims are marked unverified, never passed silently.

Sentences are the unit of judgement because a flag word belongs to the measurement named beside it; the
streaming verifier therefore judges each sentence as soon as it is complete, and the final verdict equals
the one for the whole text at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop.core.assistant.answer import Fact
from desktop.core.assistant.parse import find_measurements
from desktop.core.assistant.verify_claims import Subject, judge_claims, judge_yes_no
from desktop.core.assistant.verify_dates import DATE_PATTERNS, age_on_a_day, date_of
from desktop.core.assistant.verify_facts import COUNT_LABELS, NEWS2, FactBook, KnownReading
from desktop.core.assistant.verify_names import judge_names
from desktop.core.assistant.verify_record import RecordBook
from desktop.core.clinical.measurements import normalise_unit

VERIFIED, UNVERIFIED, CONTRADICTED = "verified", "unverified", "contradicted"

# A number not glued to letters ("SpO2", "HbA1c", "NEWS2" are names, not figures); "170/100" is two numbers.
_NUMBER = re.compile(r"(?<![\w.])(?<!\w-)(-?\d+(?:\.\d+)?)(?![\w])(?!\.\d)(?!-[0-9a-f]{4,}\b)")  # not inside an id
_UNIT = re.compile(
    r"[\s-]?(%|mm ?hg|mmhg|mm\[hg\]|°c|°f|degrees? (?:c|f|celsius|fahrenheit)|celsius|fahrenheit|cel|kg/m2|kg/m²|kg|lbs?|"
    r"pounds|cm|inches|in\b(?!\s+[a-z])|mg/dl|mmol/l|mmol/mol|umol/l|µmol/l|g/dl|g/l|mg/l|meq/l|ml/min(?:/1\.73 ?m2|/1\.73m²)?|"
    r"/min|bpm|beats? per minute|breaths? per minute|breaths/min|10\^?\*?3/u?l|x10\^9/l)(?![\w/])",
    re.IGNORECASE,
)
_UNIT_WORDS = {"mm hg": "mmhg", "°c": "cel", "degrees c": "cel", "degree c": "cel", "degrees celsius": "cel",
               "celsius": "cel", "°f": "[degf]", "degrees f": "[degf]", "degree f": "[degf]",
               "degrees fahrenheit": "[degf]", "fahrenheit": "[degf]", "pounds": "lb", "inches": "in",
               "bpm": "/min", "beats per minute": "/min", "beat per minute": "/min", "breaths per minute": "/min",
               "breath per minute": "/min", "breaths/min": "/min", "kg/m²": "kg/m2", "µmol/l": "umol/l"}
# Numbers followed by these are counts or durations, not readings: judged against counts only.
_NOT_A_READING = re.compile(r"\s?(hrs?\b|in (?:all|total)\b|readings?|measurements?|values?|times?|visits?|days?|weeks?|months?|years?|"
                            r"hours?|minutes?|patients?|people|results?|tests?|records?|points?)\b", re.IGNORECASE)
_COUNT_PHRASE = re.compile(r"\s?(of \d|(?:[a-z0-9()'-]+ ){0,5}(readings?|measurements?|patients?|values?|results?)\b)",
                           re.IGNORECASE)
# "a total of 2016 visits" is a count, not a year.
_YEAR = re.compile(r"\b(?:in|since|during|before|until|after|from|by|of|to|year) ((?:19|20)\d{2})\b(?![-/]\d)"
                   r"(?!\s+(?:[a-z-]+\s+)?(?:visits?|encounters?|readings?|measurements?|diagnos[ie]s|conditions?|"
                   r"medications?|prescriptions?|procedures?|vaccinations?|immuni[sz]ations?|admissions?|patients?|"
                   r"times?|results?|tests?)\b)", re.IGNORECASE)
_AGE = re.compile(r"\b(\d{1,3})[- ]?(?:years?|yrs?|y)[- ]?old\b|\baged? (\d{1,3})\b|\b(\d{1,3})[- ]?(?:yo|y/o)\b", re.IGNORECASE)
_FLAG_WORDS = re.compile(
    r"\b(within (?:the )?(?:normal|healthy|reference) range|in (?:the )?(?:normal|healthy) range|normal|"
    r"unremarkable|out(?:side)? (?:of )?(?:the )?(?:normal|healthy|reference) range|abnormal|"
    r"critically (?:high|low)|critical|dangerously (?:high|low)|elevated|raised|high|low|"
    r"above (?:the )?(?:normal|healthy) range|below (?:the )?(?:normal|healthy) range)\b"
    r"(?![\s-]+(?:medium[\s-]+)?(?:risk|band)\b)", re.IGNORECASE)  # "high risk" is NEWS2's band, not a flag
# "normal < 120", "normal: >= 96 %", "high is 130 or more": the words describe the range, not the reading.
_NAMES_A_LIMIT = re.compile(r"\s*:?\s*(<|>|≤|≥|=|\d|(range )?(is|are|means?) (from |between |under |over |above |"
                            r"below )?[<>≤≥]?\s*\d)", re.IGNORECASE)
_SEX_WORDS = re.compile(r"\b(male|man|gentleman|boy|mr|he|him|his|himself|female|woman|lady|girl|mrs|ms|miss|she|"
                        r"her|hers|herself)\b", re.IGNORECASE)
_MALE = {"male", "man", "gentleman", "boy", "mr", "he", "him", "his", "himself"}
# "type 2 diabetes", "stage 1 hypertension", a list's "1." are names and markers, not figures.
_NOT_A_FIGURE = re.compile(r"\b(type|stage|class|grade|step|phase|part|item|question|no\.?|number|scale)\s$",
                           re.IGNORECASE)
# "RCP 2017", "ACC/AHA 2017": a guideline's year, not a figure.
_GUIDELINE_YEAR = re.compile(r"\b[A-Z]{2,}(?:/[A-Z]{2,})?\s$")
_SAID_ON = re.compile(r"\s*(?:on|at|,)?\s*\(?(\d{4}-\d{2}-\d{2})")   # "22 /min on 2016-02-25": the reading's day
_LIST_MARK = re.compile(r"[.)](\s|$)")
# A full stop ends a sentence, except after a title or "e.g." ("Mrs. Cohen" is one sentence).
_SENTENCE_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)[.!?](?=\s)|\n")


@dataclass(frozen=True)
class Span:
    """One checked piece of the text, by character offsets into the whole text."""

    start: int
    end: int
    text: str
    kind: str      # number, unit, date, flag, sex, age
    status: str    # verified, unverified, contradicted
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Verdict:
    spans: list[Span] = field(default_factory=list)

    @property
    def status(self) -> str:
        statuses = {s.status for s in self.spans}
        return CONTRADICTED if CONTRADICTED in statuses else UNVERIFIED if UNVERIFIED in statuses else VERIFIED

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for x in self.spans if x.status == s) for s in (VERIFIED, UNVERIFIED, CONTRADICTED)}

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "counts": self.counts(), "spans": [s.to_dict() for s in self.spans]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        """A saved verdict (``to_dict`` as stored with the message) back as an object."""
        return cls([Span(int(s["start"]), int(s["end"]), str(s["text"]), str(s["kind"]), str(s["status"]),
                         str(s["reason"])) for s in data.get("spans", [])])

    def marked(self, text: str) -> str:
        """The text with what is not verified marked for a plain-text reader (CLI output, exports):
        ``[unverified: 16.3]``, ``[contradicted: normal]``."""
        out, last = [], 0
        for span in sorted(self.spans, key=lambda s: s.start):
            if span.status == VERIFIED or span.start < last:
                continue
            out.append(text[last:span.start])
            out.append(f"[{span.status}: {text[span.start:span.end]}]")
            last = span.end
        out.append(text[last:])
        return "".join(out)


def _unit_key(text: str) -> str:
    key = " ".join(text.lower().split())
    return normalise_unit(_UNIT_WORDS.get(key, key))


def _loose_unit(unit: str) -> str:
    """A unit as written or as stored compared loosely: "mL/min/{1.73_m2}" is "mL/min/1.73m²"."""
    return re.sub(r"[{}\[\]_\s]", "", normalise_unit(_UNIT_WORDS.get(unit.lower(), unit))).replace("²", "2")


def _flag_meaning(word: str) -> set[str | None]:
    """The flags a flag word agrees with."""
    w = word.lower()
    if "critical" in w or "dangerous" in w:
        return {"HH"} if "high" in w else {"LL"} if "low" in w else {"HH", "LL"}
    if w.startswith(("out", "abnormal")):
        return {"H", "L", "HH", "LL"}
    if "above" in w or w in ("elevated", "raised", "high"):
        return {"H", "HH"}
    if "below" in w or w == "low":
        return {"L", "LL"}
    return {"N"}  # normal, within range, healthy, unremarkable


def _sentences(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        bounds.append((start, m.end()))
        start = m.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


def _judge_sentence(book: FactBook, text: str, offset: int, subject: Subject | None = None) -> list[Span]:
    spans: list[Span] = []
    codes = _codes_named(text)
    taken: list[tuple[int, int]] = []
    flagged_numbers: list[tuple[int, KnownReading]] = []

    def add(start: int, end: int, kind: str, status: str, reason: str) -> None:
        spans.append(Span(offset + start, offset + end, text[start:end], kind, status, reason))
        taken.append((start, end))

    def free(start: int, end: int) -> bool:
        return not any(a < end and start < b for a, b in taken)

    # Record claims first: "a total of 2016 visits" is a count of visits before it is a number.
    claim_statuses = judge_claims(subject, text, add, free) if subject is not None else []
    # Codes and drug strengths belong to names, not readings: "Hypertension (38341003)", "250 MG Oral Capsule".
    judge_names(text, subject.known_names if subject is not None else (), add, free)

    for pattern in DATE_PATTERNS:
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            day = date_of(m)
            if day is None:
                continue
            ok = day in book.days
            add(m.start(), m.end(), "date", VERIFIED if ok else UNVERIFIED,
                "a date in the record" if ok else "no reading, birth or death on this date in the facts given")
    for m in _YEAR.finditer(text):
        if free(m.start(1), m.end(1)):
            ok = any(day.startswith(m.group(1)) for day in book.days)
            add(m.start(1), m.end(1), "date", VERIFIED if ok else UNVERIFIED,
                "a year of the readings in the record" if ok else "no reading in this year in the facts given")
    for m in _AGE.finditer(text):
        if not free(m.start(), m.end()) or re.match(r"\s*(\+|(and|or) (over|older|above|under|younger))", text[m.end():]):
            continue   # "adults aged 16 and over" names a limit, not the patient's age
        age = int(next(g for g in m.groups() if g))
        clause_start, clause_end = _clause(text, m.start())
        on_day = age_on_a_day(subject, text[clause_start:clause_end])
        if on_day is not None:   # "was 45 years old on 2019-06-01": the age at that date, from the birth date
            day, expected = on_day
            add(m.start(), m.end(), "age", VERIFIED if age == expected else CONTRADICTED,
                f"born {subject.record.birth if subject and subject.record else ''}: aged {expected} on {day}")
        elif not book.ages:
            add(m.start(), m.end(), "age", UNVERIFIED, "no age in the facts given")
        elif age in book.ages:
            add(m.start(), m.end(), "age", VERIFIED, "the patient's age")
        else:
            add(m.start(), m.end(), "age", CONTRADICTED, f"the record gives the age as {min(book.ages)}")
    for m in _NUMBER.finditer(text):
        if not free(m.start(), m.end()) or _NOT_A_FIGURE.search(text[:m.start()]) or (
                re.fullmatch(r"(19|20)\d\d", m.group(1)) and _GUIDELINE_YEAR.search(text[:m.start()])) or (
                _LIST_MARK.match(text[m.end():]) and not text[:m.start()].strip()):
            continue
        known = _judge_number(book, text, m, codes, add)
        if known is not None and known.flag is not None:
            flagged_numbers.append((m.start(), known))
    for m in _FLAG_WORDS.finditer(text):
        if not free(m.start(), m.end()) or _NAMES_A_LIMIT.match(text[m.end():]):
            continue
        # A flag word judges the reading stated nearest before it ("98 % (within the healthy range)"), else the
        # nearest after it ("high at 170/100"), else the latest reading of what the sentence names.
        # Within its clause first ("temperature 36.9 and sats low at 93%": "low" is the 93), then the sentence.
        a, b = _clause(text, m.start())
        in_clause = [(at, k) for at, k in flagged_numbers if a <= at < b]
        clause_codes = find_measurements(text[a:b].lower())
        before = [k for at, k in in_clause if at < m.start()] or (
            [] if clause_codes else [k for at, k in flagged_numbers if at < m.start()])
        after = [k for at, k in in_clause if at > m.start()]
        if before or after:
            flags = [f for f in [(before[-1] if before else after[0]).flag] if f is not None]
        else:
            named = clause_codes or codes
            flags = [f for f in book.flags_of(named) if f is not None] if named else []
        if not flags:
            add(m.start(), m.end(), "flag", UNVERIFIED, "no flagged reading in the facts for what this sentence names")
        elif any(f in _flag_meaning(m.group(1)) for f in flags):
            add(m.start(), m.end(), "flag", VERIFIED, f"the record flags it {'/'.join(sorted(set(flags)))}")
        else:
            add(m.start(), m.end(), "flag", CONTRADICTED, f"the record flags it {'/'.join(sorted(set(flags)))}")
    if book.sex:
        for m in _SEX_WORDS.finditer(text):
            if not free(m.start(), m.end()):
                continue
            said = "M" if m.group(1).lower() in _MALE else "F"
            if said == book.sex:
                add(m.start(), m.end(), "sex", VERIFIED, "the patient's recorded sex")
            else:
                add(m.start(), m.end(), "sex", CONTRADICTED,
                    f"the record gives the patient's sex as {'female' if book.sex == 'F' else 'male'}")
    if subject is not None:
        judge_yes_no(text, claim_statuses, add)
    return sorted(spans, key=lambda s: s.start)


def _codes_named(text: str) -> tuple[str, ...]:
    """The measurements a piece of text names, NEWS2 included."""
    codes = find_measurements(text.lower())
    return (*codes, NEWS2) if re.search(r"\bnews ?2\b|\bearly warning\b", text, re.IGNORECASE) else codes


_CLAUSE_BREAK = re.compile(r"[,;]|\b(?:and|but|while|whereas|although)\b", re.IGNORECASE)


def _clause(text: str, at: int) -> tuple[int, int]:
    """The clause around position ``at``: between commas, semicolons and conjunctions."""
    start = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, at)), default=0)
    following = _CLAUSE_BREAK.search(text, at)
    return start, following.start() if following else len(text)


def _judge_number(book: FactBook, text: str, m: re.Match[str], codes: tuple[str, ...], add: Any) -> KnownReading | None:
    """Judges one number (and the unit after it); returns the reading it states, when the facts hold it."""
    number = float(m.group(1))
    decimals = len(m.group(1).split(".")[1]) if "." in m.group(1) else 0
    rest = text[m.end():]
    if (unit_match := _UNIT.match(rest)) is None and rest.startswith("/") and (after := _NUMBER.match(rest[1:])):
        # "170/100 mmHg": the unit after the second number belongs to both.
        unit_match = _UNIT.match(rest[1 + after.end():])
    unit = _unit_key(unit_match.group(1)) if unit_match else None
    if _NOT_A_READING.match(rest) or (unit is None and _COUNT_PHRASE.match(rest)):
        ok = number in book.counts
        add(m.start(), m.end(), "number", VERIFIED if ok else UNVERIFIED,
            "a count the facts give" if ok else "a count or duration the facts do not give")
        return None
    # The measurement named in the number's own clause, else in its sentence ("...; eGFR 44.7 mL/min/1.73m²").
    a, b = _clause(text, m.start())
    codes = _codes_named(text[a:b]) or codes
    reading_codes = tuple(c for c in codes if c != NEWS2) if unit else codes
    said_on = _SAID_ON.match(text, m.end() + (unit_match.end() if unit_match else 0))
    day = said_on.group(1) if said_on else None
    known = book.holds(number, decimals, unit, reading_codes, day) or (
        book.holds(number, decimals, unit, (), day) if not reading_codes else None)
    if known is not None:
        add(m.start(), m.end(), "number", VERIFIED, f"the record holds {known.value:g} {known.unit}".rstrip()
            + (f" on {known.day}" if known.day else ""))
    elif number in book.limits or number in book.counts:
        add(m.start(), m.end(), "number", VERIFIED, "a limit of the healthy range used, or a count the facts give")
    elif reading_codes and any(k.code in reading_codes for k in book.readings):
        held = sorted({f"{k.value:g}" for k in book.readings if k.code in reading_codes})[:5]
        add(m.start(), m.end(), "number", CONTRADICTED, f"the record holds {', '.join(held)} for this measurement")
    else:
        add(m.start(), m.end(), "number", UNVERIFIED, "not a figure in the facts given")
    if unit_match and m.end() + unit_match.end() <= len(text) and text[m.end():].startswith(unit_match.group(0)):
        start = m.end() + unit_match.start(1)
        # The unit of the reading the number states fits, whatever else the sentence names.
        fits = True if known is not None and _loose_unit(known.unit) == _loose_unit(unit or "") else \
            book.unit_fits(_loose_unit(unit or ""), reading_codes, _loose_unit)
        status = VERIFIED if fits else UNVERIFIED if fits is None else CONTRADICTED
        reason = ("a unit of the measurement named" if fits else "no measurement named to check the unit against"
                  if fits is None else "not a unit of the measurement named")
        add(start, m.end() + unit_match.end(), "unit", status, reason)
    return known


def verify_text(text: str, *, facts: Iterable[Fact] = (), summary: Mapping[str, Any] | None = None,
                record: RecordBook | None = None) -> Verdict:
    """The verdict on a whole text (a finished answer, or one read back from history). ``record``
    (:func:`desktop.core.assistant.verify_record.record_book`) lets diagnoses, drugs, visits, procedures,
    vaccines, allergies and counts of events be checked; without it they are marked unverified."""
    verifier = StreamingVerifier(facts=facts, summary=summary, record=record)
    verifier.feed(text)
    verifier.finish()
    return verifier.verdict


class StreamingVerifier:
    """Judges a streamed answer sentence by sentence: :meth:`feed` returns the spans of the sentences the
    new piece completed, so the panel can mark them while the rest is still being written."""

    def __init__(self, *, facts: Iterable[Fact] = (), summary: Mapping[str, Any] | None = None,
                 record: RecordBook | None = None) -> None:
        facts = list(facts)
        self.book = FactBook(facts, summary)
        if record is not None:
            self.book.days |= record.days()
        self.subject = _subject(facts, summary, record)
        self.verdict = Verdict()
        self._text = ""
        self._judged = 0  # characters of _text already judged

    def feed(self, piece: str) -> list[Span]:
        self._text += piece
        # The last sentence may still be growing: judge up to the last sentence end seen (a full stop counts
        # once the character after it has arrived: "36." may become "36.8").
        ends = [m.end() for m in _SENTENCE_END.finditer(self._text, self._judged)]
        if not ends:
            return []
        return self._judge(self._judged, ends[-1])

    def finish(self) -> list[Span]:
        return self._judge(self._judged, len(self._text)) if self._judged < len(self._text) else []

    def _judge(self, start: int, end: int) -> list[Span]:
        new: list[Span] = []
        for a, b in _sentences(self._text[start:end]):
            new += _judge_sentence(self.book, self._text[start + a:start + b], start + a, self.subject)
        self._judged = end
        self.verdict.spans.extend(new)
        return new

    @property
    def text(self) -> str:
        return self._text


def _subject(facts: list[Fact], summary: Mapping[str, Any] | None, record: RecordBook | None) -> Subject:
    """Who the text is about, as far as the inputs say: the record, else the summary's death and conditions."""
    patient = (summary or {}).get("patient") or {}
    names = {str(n) for n in patient.get("conditions") or []}
    names |= {v for f in facts for v in (f.label, f.value) if isinstance(v, str)}
    if record is not None:
        death = record.death.isoformat() if record.death else None
    else:
        death = str(patient["deceased"])[:10] if patient.get("deceased") else None
    counts = frozenset(float(f.value) for f in facts if isinstance(f.value, (int, float)) and not isinstance(f.value, bool)
                       and f.label.startswith(COUNT_LABELS))
    return Subject(record, death, record is not None or "deceased" in patient, frozenset(names), counts)
