"""Names in a question resolved against the workspace's own vocabulary: the condition, drug, procedure, vaccine,
allergy and visit descriptions it holds, and their SNOMED / RxNorm / CVX codes.

How a name matches (and why "diabetes" never matches "Prediabetes"):
1. a code ("38341003", "314076") matches the rows with that code;
2. the exact description, or the description without its semantic tag ("Hypertension" for
   "Hypertension (disorder)"), matches that description;
3. otherwise every word of the name must begin a word of the description ("amlodipine 2.5 mg" matches
   "amlodipine 2.5 MG Oral Tablet"; "diabetes" matches "Diabetes mellitus type 2" but not "Prediabetes":
   there the word does not begin a word). All descriptions that match are taken together and shown.
   Descriptions that hold the name inside another word ("Prediabetes" for "diabetes") are named as not
   counted, so the answer says what it left out;
4. otherwise, close spellings ("hypertenson") are offered back as candidates and nothing is computed.
Adjectives become their nouns first: "hypertensive" is "hypertension", "diabetic" "diabetes".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from desktop.core.queries.medications import has_history_tables
from desktop.core.workspace.store import Store

ADJECTIVES = {
    "hypertensive": "hypertension", "diabetic": "diabetes", "diabetics": "diabetes", "asthmatic": "asthma",
    "asthmatics": "asthma", "obese": "obesity", "anaemic": "anemia", "anemic": "anemia", "anaemia": "anemia",
    "epileptic": "epilepsy", "pregnant": "pregnancy", "depressed": "depression", "prediabetic": "prediabetes",
    "hyperlipidaemia": "hyperlipidemia", "hyperlipidaemic": "hyperlipidemia", "hyperlipidemic": "hyperlipidemia",
    "arthritic": "arthritis", "septic": "sepsis", "hypertensives": "hypertension", "epileptics": "epilepsy", "high blood pressure":
    "hypertension", "sugar diabetes": "diabetes", "covid": "coronavirus", "covid-19": "coronavirus",
    "uti": "urinary tract infection", "copd": "chronic obstructive", "ckd": "chronic kidney disease",
    "t2dm": "diabetes mellitus type 2", "flu": "influenza",
}
# Words for the people who have a condition: "the hypertensive patients", "diabetics".
GROUP_ADJECTIVES = frozenset("""hypertensive hypertensives diabetic diabetics asthmatic asthmatics obese anaemic anemic
epileptic epileptics pregnant depressed prediabetic arthritic septic hyperlipidaemic hyperlipidemic""".split())
_TAG = re.compile(r"\s*\((disorder|finding|situation|procedure|environment|substance|product|event|"
                  r"morphologic abnormality|qualifier value|regime/therapy|observable entity|person)\)\s*$", re.I)
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
# Words a name may carry that decide nothing ("a diagnosis of", "the", "tablet of").
_NAME_FILLER = frozenset("a an the of for with any some disease's".split())
WIDE_MATCH = 12   # more distinct descriptions than this and the name is too broad: asked back


@dataclass(frozen=True)
class Term:
    entity: str
    description: str
    code: str | None

    @property
    def name(self) -> str:
        return _TAG.sub("", self.description).strip()

    def shown(self) -> str:
        return f"{self.name} ({self.code})" if self.code else self.name


@dataclass(frozen=True)
class Vocabulary:
    terms: dict[str, tuple[Term, ...]]           # entity -> every distinct (description, code) it holds
    encounter_classes: tuple[str, ...]
    patients: tuple[tuple[str, str], ...]        # (patient_id, name)

    def all_terms(self, entity: str) -> tuple[Term, ...]:
        return self.terms.get(entity, ())


@dataclass(frozen=True)
class Resolution:
    phrase: str
    matched: tuple[Term, ...] = ()
    candidates: tuple[Term, ...] = ()     # close spellings, or too many: asked back, nothing computed
    not_counted: tuple[Term, ...] = ()    # the name inside another word ("Prediabetes" for "diabetes")
    how: str = ""                         # "code", "exact", "words", "spelling"

    @property
    def descriptions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.description for t in self.matched))

    def shown(self) -> str:
        """"matched: Hypertension (38341003)"; several joined; what was left out said."""
        if not self.matched:
            return ""
        names = list(dict.fromkeys(t.shown() for t in self.matched))
        text = "matched: " + "; ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        if self.not_counted:
            left = list(dict.fromkeys(t.name for t in self.not_counted))
            text += " (not counted: " + "; ".join(left[:4]) + ")"
        return text


_CACHE: dict[tuple[str, int], tuple[Any, Vocabulary]] = {}

_SOURCES = {
    "condition": "SELECT DISTINCT description, code FROM conditions",
    "medication": "SELECT DISTINCT description, code FROM medications",
    "procedure": "SELECT DISTINCT description, code FROM procedures",
    "immunization": "SELECT DISTINCT description, code FROM immunizations",
    "allergy": "SELECT DISTINCT description, code FROM allergies",
    "encounter": "SELECT DISTINCT description, code FROM encounters WHERE description IS NOT NULL",
    "reason": "SELECT DISTINCT reason, NULL FROM encounters WHERE reason IS NOT NULL",
    "observation": "SELECT description, code FROM observation_codes WHERE description IS NOT NULL",
}


def workspace_vocabulary(store: Store) -> Vocabulary:
    """Every name the workspace holds, read once per import (a few ms on the sample)."""
    version_row = store.con.execute("SELECT count(*), coalesce(max(import_id), 0) FROM imports").fetchone()
    version = hash(version_row)
    key = (str(store.path), id(store.con))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    history = has_history_tables(store)
    terms: dict[str, tuple[Term, ...]] = {}
    for entity, sql in _SOURCES.items():
        if entity in ("medication", "procedure", "immunization", "allergy") and not history:
            terms[entity] = ()
            continue
        rows = store.con.execute(sql).fetchall()
        terms[entity] = tuple(sorted((Term(entity, str(d), str(c) if c is not None else None) for d, c in rows if d),
                                     key=lambda t: (t.description.lower(), t.code or "")))
    classes = tuple(r[0] for r in store.con.execute(
        "SELECT DISTINCT lower(encounter_class) FROM encounters WHERE encounter_class IS NOT NULL ORDER BY 1").fetchall())
    patients = tuple((str(pid), str(name or "")) for pid, name in store.con.execute(
        "SELECT patient_id, name FROM patients").fetchall())
    vocab = Vocabulary(terms, classes, patients)
    _CACHE[key] = (version, vocab)
    return vocab


def nouns(text: str) -> str:
    """Adjectives and everyday words as the nouns the record uses ("hypertensive" -> "hypertension")."""
    out = f" {text.lower()} "
    for word, noun in sorted(ADJECTIVES.items(), key=lambda kv: -len(kv[0])):
        out = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", noun, out)
    return " ".join(out.split())


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def word_begins(word: str, have: str) -> bool:
    """Whether ``word`` begins the description word ``have``, allowing a plural and a changed ending
    ("infection" begins "infectious", "tablets" begins "tablet"); never inside a word ("diabetes" is not in
    "prediabetes")."""
    if have.startswith(word) or (len(word) > 3 and word.endswith("s") and have.startswith(word[:-1])):
        return True
    for suffix in _ENDINGS:  # a changed grammatical ending, never a changed spelling ("hypertenson" stays unread)
        stem = word[:-len(suffix)]
        if word.endswith(suffix) and len(stem) >= 5 and have.startswith(stem) and have[len(stem):] in _ENDINGS:
            return True
    return False


_ENDINGS = ("ions", "ion", "ious", "ous", "ics", "ic", "es", "s", "y", "ies", "al")


def _word_match(words: list[str], description: str) -> bool:
    have = _tokens(description)
    return all(any(word_begins(w, h) for h in have) for w in words)


def resolve(vocab: Vocabulary, entity: str, phrase: str) -> Resolution:
    """The workspace's descriptions a name means (see the module's rules)."""
    text = nouns(phrase).strip()
    pool = vocab.all_terms(entity)
    if not text or not pool:
        return Resolution(phrase)
    by_code = tuple(t for t in pool if t.code and t.code == text.strip())
    if by_code:
        return Resolution(phrase, by_code, how="code")
    exact = tuple(t for t in pool if t.description.lower() == text or t.name.lower() == text)
    words = [w for w in _tokens(text) if w not in _NAME_FILLER]
    if not words:
        return Resolution(phrase)
    inside = tuple(t for t in pool if not _word_match(words, t.description)
                   and all(w in t.description.lower() for w in words))
    matched = tuple(dict.fromkeys((*exact, *(t for t in pool if _word_match(words, t.description)))))
    if exact and len(matched) == len(exact):
        return Resolution(phrase, exact, not_counted=inside, how="exact")
    distinct = {t.description for t in matched}
    if matched and len(distinct) > WIDE_MATCH and len(words) == 1 and len(words[0]) < 5:
        return Resolution(phrase, candidates=matched, how="words")
    if matched:
        return Resolution(phrase, matched, not_counted=inside, how="words")
    names = {t.name.lower(): t for t in pool}
    close = difflib.get_close_matches(text, list(names), n=5, cutoff=0.8)
    if not close:  # a misspelt word inside a longer description ("hypertenson" in "Essential hypertension")
        vocab_words = {w for t in pool for w in _tokens(t.description) if len(w) > 3}
        fixed = [difflib.get_close_matches(w, list(vocab_words), n=1, cutoff=0.84) for w in words]
        if all(fixed):
            repaired = [f[0] for f in fixed]
            close_terms = tuple(t for t in pool if _word_match(repaired, t.description))
            return Resolution(phrase, candidates=close_terms, how="spelling")
        return Resolution(phrase)
    return Resolution(phrase, candidates=tuple(names[c] for c in close), how="spelling")


def canonical(text: str) -> str:
    """A name as its words only: case, spacing and punctuation do not matter ("SARS-COV-2 (COVID-19) vaccine
    mRNA  30 mcg/0.3mL dose" is "sars cov 2 covid 19 vaccine mrna 30 mcg 0.3ml dose")."""
    return " ".join(_TOKEN.findall(text.lower()))


def find_terms_in(vocab: Vocabulary, entity: str, text: str) -> Resolution:
    """The longest description (without its tag) the question spells out whole ("acute viral pharyngitis"),
    compared word by word as written or with everyday words as the record's nouns."""
    said = (f" {canonical(text)} ", f" {canonical(nouns(text))} ")
    best: list[Term] = []
    best_len = 0
    for t in vocab.all_terms(entity):
        name = canonical(t.name)
        if len(name) < 4:
            continue
        if any(f" {name} " in s for s in said):
            if len(name) > best_len:
                best, best_len = [t], len(name)
            elif len(name) == best_len:
                best.append(t)
    return Resolution(text, tuple(best), how="exact") if best else Resolution(text)


_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def _plain_name(name: str) -> str:
    """'Ms. Mei23 Khan870' -> 'mei khan': Synthea's digits and the title dropped."""
    name = re.sub(r"^(mr|mrs|ms|miss|mx|dr|prof)\.?\s+", "", name.strip().lower())
    return " ".join(re.sub(r"\d+", "", name).split())


def find_patient(vocab: Vocabulary, text: str) -> tuple[str | None, str]:
    """(patient_id, the words that named them) for a patient named in the question by id or by name."""
    low = text.lower()
    ids = {pid.lower(): pid for pid, _ in vocab.patients}
    for m in _UUID.finditer(low):
        if m.group() in ids:
            return ids[m.group()], m.group()
    for token in re.findall(r"[a-z0-9][a-z0-9-]{3,}", low):
        if token in ids and not token.isdigit() or (token.isdigit() and token in ids and len(token) >= 3):
            return ids[token], token
    best: tuple[str | None, str] = (None, "")
    for pid, name in vocab.patients:
        for form in {name.lower(), re.sub(r"^(mr|mrs|ms|miss|mx|dr|prof)\.?\s+", "", name.lower()), _plain_name(name)}:
            form = form.strip()
            if len(form.split()) >= 2 and len(form) > len(best[1]) and \
                    re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", low):
                best = (pid, form)
    return best
