"""How the whole-record parser finds the name a question asks about: the words it reads taken out, the rest
resolved against the workspace's vocabulary (a name spelt out whole first, punctuation and spacing aside), and
whether anything was left unread. Kept apart from record_parse.py so each stays short."""

from __future__ import annotations

import re

from desktop.core.assistant.record_words import CLASS_PATTERNS, ENTITY_PATTERNS
from desktop.core.assistant.vocabulary import (
    Resolution,
    Term,
    Vocabulary,
    canonical,
    find_terms_in,
    nouns,
    resolve,
    word_begins,
)

# Words that carry nothing for a name: what is left after them is the name the question asks about.
_FILLER = frozenset("""
a an the of for to on in at by is are was were be been being has have had do does did what what's whats which who
whom whose her his their its my our your this that these those she he they them him patient patient's patients
person people please me i we us you can could would should tell give show get find and or with any there it s
ever all every how time times date dates day days when where year years ago record records recorded chart file
first last latest earliest most recent recently newest previous initial initially onset count number many often total
list name names id ids identifier identifiers yes no answer ever ever been get got
currently still now active ongoing current present presently diagnosed diagnosis diagnoses condition conditions
disease diseases disorder disorders problem problems illness prescribed prescription prescriptions medication
medications medicine medicines meds drug drugs taking take takes took taken given dispensed put started visit
visits visited encounter encounters appointment appointments seen procedure procedures underwent undergo
undergone performed surgery operation vaccine vaccines vaccinated vaccination vaccinations immunization
immunizations immunised immunized shot shots allergy allergies allergic any type kind kinds new whether
suffer suffers suffering suffered why reason reasons indication stopped stop discontinued ended end resolved
order had once were also again already just so then come came into went go gone went including included
deceased dead died living alive everyone ever those whether too well as receive received receiving receives
get gets getting got having has long ago how history different distinct separate unique occasions ones one
done made carried out ordered happened occur occurred
""".split())
_CLASS_FILLER = frozenset("emergency room department dept er ed care urgent inpatient admitted admission admissions "
                          "hospital hospitalised hospitalized hospitalisation hospitalization stay stays wellness "
                          "check checkup checkups check-up well child annual physical exam examination routine "
                          "ambulatory clinic outpatient virtual telehealth home hospice nursing".split())


def cut(text: str, pattern: str) -> str:
    return " ".join(re.sub(pattern, " ", text).split())


def without_record_words(text: str, entity: str | None) -> str:
    """The question without the words that name the entity and the visit class ("attend", "A&E", "as an
    inpatient"): those are read, never part of a name."""
    patterns = [p for e, p in ENTITY_PATTERNS if e == entity or (entity == "encounter" and e == "encounter")]
    if entity == "encounter":
        patterns += [p for _, p in CLASS_PATTERNS]
    for pattern in patterns:
        text = cut(text, pattern)
    return text


def residual(text: str) -> str:
    """The words left when everything the parser reads is taken out: the name asked about."""
    words = [w.strip("?.,!;:'\"()/") for w in text.split()]
    return " ".join(w for w in words if re.search(r"[a-z0-9]", w) and w not in _FILLER and w not in _CLASS_FILLER)


_NAME_TRIGGER = (r"\b(with|diagnosed with|diagnosis of|prescribed|prescription of|prescriptions of|taking|take|takes|"
                 r"on|had|have|has|given|receive[ds]?|received|for|of|to|allergic to|vaccinated against|got)\s+"
                 r"(?:an? |the |any )?")


_NAME_WORDS = frozenset("a an the of for with any some".split())
def left_over(phrase: str, res: Resolution) -> list[str]:
    """Words of the name that none of the matched descriptions holds (nothing may be silently dropped)."""
    words = set()
    for t in res.matched:
        words |= set(re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", t.description.lower()))
    if res.how == "code":
        return []
    return [w for w in phrase.split() if w not in _NAME_WORDS and not any(word_begins(w, h) for h in words)]


def said_where_a_name_goes(phrase: str, text: str) -> bool:
    """Whether an unknown name is said where a name goes ("diagnosed with X", "prescribed X"): only then is
    "no such name in this workspace" an answer (No / 0); anywhere else the words were not understood."""
    first = phrase.split()[0]
    return bool(re.search(_NAME_TRIGGER + re.escape(first) + r"\b", nouns(text)))


def resolve_any(vocab: Vocabulary, entity: str | None, phrase: str, text: str) -> tuple[str | None, Resolution]:
    """The entity and names a phrase means: in the entity asked about, else in the first entity that holds it."""
    order = [entity] if entity else ["condition", "medication", "procedure", "immunization", "allergy"]
    if entity == "encounter":
        order = ["reason", "encounter"]
    for e in order:
        res = resolve(vocab, e, phrase) if phrase else Resolution(phrase)
        if res.matched or res.candidates:
            return (entity or e), res
        whole = find_terms_in(vocab, e, text)
        if whole.matched:
            return (entity or e), whole
    return entity, Resolution(phrase)


def any_of(vocab: Vocabulary, entity: str | None, text: str) -> tuple[str | None, Resolution] | None:
    """"Allopurinol, lisinopril or insulin": names joined by commas and an "or", each naming something of one
    entity the workspace holds, read as any of them (their matches together). None unless every part names
    one; names joined by "and" are not read (both, or either?), and are declined as before."""
    if not re.search(r"\bor\b", text) or re.search(r"\band\b", text):
        return None
    pieces = [(residual(nouns(raw)), raw) for raw in re.split(r",(?!\d)|\bor\b|\beither\b", text)]
    pieces = [(part, raw) for part, raw in pieces if part]
    parts = [part for part, _ in pieces]
    if len(parts) < 2:
        return None
    found: str | None = None
    matched: list[Term] = []
    for part, raw in pieces:
        e, res = resolve_any(vocab, entity, part, raw)   # the raw text: a name spelt whole, slashes and all
        if not res.matched:
            # A name the workspace holds nowhere (no word of it begins a word of any name) was never recorded
            # for anyone: the others still answer. A near spelling or a partly known name is not guessed.
            if res.candidates or any(known_word(vocab, w) for w in part.split()):
                return None
            continue
        if found is not None and e != found:
            return None
        found = e
        matched += res.matched
    if not matched:
        return None
    shown = ", ".join(parts[:-1]) + f" or {parts[-1]}"
    return found, Resolution(shown, tuple(dict.fromkeys(matched)), how="words")


def whole_name(vocab: Vocabulary, text: str) -> tuple[str, Resolution] | None:
    """The longest name of a diagnosis, drug, procedure, vaccine or allergy the question spells out whole
    (punctuation and spacing aside), with its entity; None when it spells out none."""
    best: tuple[int, str, Resolution] | None = None
    for entity in ("condition", "medication", "procedure", "immunization", "allergy"):
        res = find_terms_in(vocab, entity, text)
        if res.matched and (best is None or len(canonical(res.matched[0].name)) > best[0]):
            best = (len(canonical(res.matched[0].name)), entity, res)
    return (best[1], best[2]) if best else None


def known_word(vocab: Vocabulary, word: str) -> bool:
    """Whether any name the workspace holds has a word beginning with this one (a partly-read name)."""
    for terms in vocab.terms.values():
        for t in terms:
            if any(w.startswith(word) for w in re.findall(r"[a-z0-9]+", t.description.lower())):
                return True
    return False
