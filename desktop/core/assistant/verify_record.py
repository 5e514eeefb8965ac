"""What the verifier checks a model's record claims against: one patient's conditions, medications, visits,
procedures, immunizations and allergies, read once from the workspace, plus the workspace's own vocabulary.

The streaming verifier judges sentences on the model's thread, away from the one DuckDB thread, so
:func:`record_book` reads everything it needs up front (a few parameterised queries) and the book is plain
data afterwards. The vocabulary (every description the workspace holds, and a short list of common terms
a model invents: "sickle cell disease", "bone marrow transplant") is how a claim about something this
patient never had is recognised at all: a diagnosis the record does not hold can only be contradicted if
it is noticed as a diagnosis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from desktop.core.clinical.social_findings import is_social_finding
from desktop.core.queries.medications import has_history_tables
from desktop.core.workspace.store import Store

CONDITION, MEDICATION, VISIT, PROCEDURE, IMMUNIZATION, ALLERGY = (
    "diagnosis", "medication", "visit", "procedure", "immunization", "allergy")

# Synthea's semantic tags: "(disorder)", "(finding)", "(situation)", "(procedure)", "(regime/therapy)".
_TAG = re.compile(r"\s*\((disorder|finding|situation|person|procedure|regime/therapy|substance|environment|"
                  r"observable entity|morphologic abnormality|event|qualifier value)\)\s*$", re.IGNORECASE)


def clean(description: str) -> str:
    """"Acute viral pharyngitis (disorder)" -> "acute viral pharyngitis"; double spaces collapsed."""
    return " ".join(_TAG.sub("", description).lower().replace("-", " ").split())


_WORD = re.compile(r"[a-z][a-z0-9']*")
# Spellings and everyday names mapped to the words the record uses.
SPELLING = {"anaemia": "anemia", "haemoglobin": "hemoglobin", "oedema": "edema", "tumour": "tumor",
            "paracetamol": "acetaminophen", "salbutamol": "albuterol", "hypertensive": "hypertension",
            "diabetic": "diabetes", "asthmatic": "asthma", "obese": "obesity", "anaemic": "anemia",
            "anemic": "anemia", "pregnant": "pregnancy", "covid": "coronavirus", "sars": "coronavirus",
            "immunisation": "immunization", "immunised": "immunized", "vaccinated": "vaccine",
            "vaccination": "vaccine", "vaccinations": "vaccine", "vaccines": "vaccine", "jab": "vaccine",
            "shot": "vaccine", "flu": "influenza", "uti": "urinary", "ckd": "kidney", "renal": "kidney",
            "hyperlipidaemia": "hyperlipidemia", "cholesterol": "hyperlipidemia"}
# Words that never decide a match ("disease" is in half the vocabulary).
_GENERIC = {"disease", "disorder", "finding", "syndrome", "acute", "chronic", "of", "the", "a", "an", "and", "by",
            "caused", "in", "with", "to", "for", "stage", "type", "mg", "ml", "oral", "tablet", "capsule",
            "injection", "extended", "release", "hr", "human", "unt", "suspension", "injectable", "hydrochloride",
            "sulfate", "potassium", "regular", "isophane", "preservative", "free", "dose", "mcg", "hcl", "mellitus",
            "essential", "viral", "primary", "seasonal", "adult", "procedure", "lnp", "spike", "protein",
            "infectious", "severe", "respiratory", "v", "g", "1", "2", "3", "30", "tract"}


def words(text: str) -> frozenset[str]:
    """The deciding words of a phrase, spelled as the record spells them."""
    out = set()
    for w in _WORD.findall(text.lower().replace("-", " ")):
        w = SPELLING.get(w, w)
        if w not in _GENERIC and len(w) > 1:
            out.add(w)
    return frozenset(out)


@dataclass(frozen=True)
class Event:
    """One row of the record: what, when it started and stopped, and (visits, drugs) its class and reason."""

    kind: str
    description: str
    start: date | None
    stop: date | None = None
    klass: str | None = None   # a visit's encounter class
    reason: str | None = None

    @property
    def words(self) -> frozenset[str]:
        return words(clean(self.description))


@dataclass
class RecordBook:
    """One patient's record as the verifier needs it; plain data once read."""

    patient_id: str
    sex: str | None = None
    birth: date | None = None
    death: date | None = None
    events: list[Event] = field(default_factory=list)
    vocabulary: dict[str, str] = field(default_factory=dict)   # phrase -> kind, the workspace's own names

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def days(self) -> set[str]:
        out = {d.isoformat() for e in self.events for d in (e.start, e.stop) if d is not None}
        out |= {d.isoformat() for d in (self.birth, self.death) if d is not None}
        return out


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def record_book(store: Store, patient_id: str) -> RecordBook:
    """Read one patient's record (and the workspace's vocabulary) for the verifier. Raises ``LookupError``
    for an unknown patient."""
    con = store.con
    row = con.execute("SELECT sex, birth_date, death_date FROM patients WHERE patient_id = ?", [patient_id]).fetchone()
    if row is None:
        raise LookupError(f"no patient with id {patient_id!r} in {store.path}")
    book = RecordBook(patient_id, row[0], row[1], row[2])
    queries: list[tuple[str, str]] = [
        (CONDITION, "SELECT description, onset, resolved, NULL, NULL FROM conditions WHERE patient_id = ?"),
        (VISIT, ("SELECT coalesce(description, ''), started_at, ended_at, encounter_class, reason FROM encounters "
                 "WHERE patient_id = ?")),
    ]
    vocab_sql = ["SELECT 'diagnosis', description FROM conditions", "SELECT 'diagnosis', reason FROM encounters"]
    if has_history_tables(store):
        queries += [
            (MEDICATION, "SELECT description, started_at, stopped_at, NULL, reason FROM medications WHERE patient_id = ?"),
            (PROCEDURE, "SELECT description, started_at, stopped_at, NULL, reason FROM procedures WHERE patient_id = ?"),
            (IMMUNIZATION, "SELECT description, given_at, NULL, NULL, NULL FROM immunizations WHERE patient_id = ?"),
            (ALLERGY, "SELECT description, recorded_on, resolved_on, NULL, NULL FROM allergies WHERE patient_id = ?"),
        ]
        vocab_sql += ["SELECT 'medication', description FROM medications",
                      "SELECT 'procedure', description FROM procedures",
                      "SELECT 'immunization', description FROM immunizations",
                      "SELECT 'allergy', description FROM allergies"]
    for kind, sql in queries:
        for description, start, stop, klass, reason in con.execute(sql, [patient_id]).fetchall():
            book.events.append(Event(kind, str(description), _day(start), _day(stop), klass, reason))
    vocab = [(k, d) for k, d in con.execute(" UNION ".join(vocab_sql)).fetchall() if d]
    book.vocabulary = vocabulary_phrases(tuple(sorted(vocab)))
    return book


# Common terms a model writes, beyond what the workspace holds: enough to notice an invented diagnosis, drug or
# procedure. Each is checked like the workspace's own names.
COMMON_TERMS: dict[str, tuple[str, ...]] = {
    CONDITION: (
        "diabetes", "prediabetes", "hypertension", "high blood pressure", "asthma", "copd", "heart failure",
        "atrial fibrillation", "stroke", "myocardial infarction", "heart attack", "coronary artery disease", "cancer",
        "tumor", "tumour", "leukemia", "leukaemia", "lymphoma", "sickle cell disease", "sepsis", "dementia",
        "alzheimer's disease", "depression", "anxiety", "epilepsy", "tuberculosis", "hiv", "hepatitis", "cirrhosis",
        "arthritis", "osteoarthritis", "osteoporosis", "acute respiratory distress syndrome", "ards", "obesity",
        "anemia", "anaemia", "pneumonia", "covid-19", "covid", "influenza", "kidney disease", "renal failure",
        "kidney failure", "hypothyroidism", "hyperthyroidism", "hyperlipidemia", "hyperlipidaemia",
        "high cholesterol", "bronchitis", "sinusitis", "pharyngitis", "otitis media", "urinary tract infection",
        "uti", "pregnancy", "lupus", "multiple sclerosis", "parkinson's disease", "gout", "migraine", "fracture",
        "concussion", "appendicitis", "pulmonary embolism", "deep vein thrombosis", "hypertensive", "diabetic",
        "asthmatic"),
    MEDICATION: (
        "amlodipine", "lisinopril", "metformin", "insulin", "nitrofurantoin", "aspirin", "atorvastatin",
        "simvastatin", "warfarin", "apixaban", "heparin", "ibuprofen", "paracetamol", "acetaminophen",
        "amoxicillin", "penicillin", "ceftriaxone", "cefazolin", "prednisone", "salbutamol", "albuterol",
        "furosemide", "hydrochlorothiazide", "omeprazole", "levothyroxine", "morphine", "oxycodone", "clopidogrel",
        "losartan", "metoprolol", "atenolol", "digoxin", "remdesivir", "dexamethasone", "allopurinol",
        "ferrous sulfate", "piperacillin", "tazobactam", "vancomycin", "fluticasone", "naproxen", "codeine",
        "hydrocodone", "fentanyl", "sertraline", "fluoxetine", "citalopram", "gabapentin", "tramadol",
        "doxycycline", "azithromycin", "ciprofloxacin", "lipitor"),
    PROCEDURE: (
        "transplant", "bone marrow", "dialysis", "hemodialysis", "surgery", "operation", "intubation", "intubated",
        "mechanical ventilation", "ventilator", "chemotherapy", "radiotherapy", "radiation therapy", "appendectomy",
        "biopsy", "ct scan", "mri", "x-ray", "colonoscopy", "catheterization", "bypass", "amputation",
        "transfusion", "resuscitation", "cpr", "pacemaker", "stent", "angioplasty", "cesarean", "caesarean"),
    IMMUNIZATION: (
        "vaccine", "vaccinated", "vaccination", "immunized", "immunised", "immunization", "immunisation",
        "flu shot", "tetanus", "tdap", "mmr", "hpv", "pneumococcal", "booster"),
}
# A drug's name ends where its dose begins: "amLODIPine 5 MG Oral Tablet" -> "amlodipine"; "24 HR" leads.
_DOSE = re.compile(r"\s\d+(\.\d+)?\s*(mg|ml|mcg|unt|g|%|meq)\b.*$|\s(oral|injection|injectable|topical)\b.*$",
                   re.IGNORECASE)
_LEADING_DURATION = re.compile(r"^\d+\s*hr\s+|^\d+\s+", re.IGNORECASE)
# Everyday phrases whose deciding words differ from their own: "high blood pressure" is "hypertension".
PHRASE_WORDS: dict[str, frozenset[str]] = {
    "high blood pressure": frozenset({"hypertension"}), "heart attack": frozenset({"myocardial", "infarction"}),
    "high cholesterol": frozenset({"hyperlipidemia"}), "urinary tract infection": frozenset({"urinary"}),
    "flu shot": frozenset({"influenza"}), "covid-19": frozenset({"coronavirus"}),
}
_WEAK_TAILS = {"media", "index", "normal", "general", "body", "mass", "substance", "to substance"}


@lru_cache(maxsize=8)
def vocabulary_phrases(vocab: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Phrases that name a diagnosis, drug, procedure or vaccine, from the workspace's descriptions (and their
    shorter forms: "acute viral pharyngitis", "viral pharyngitis", "pharyngitis") and the common terms."""
    phrases: dict[str, str] = {}
    for kind, terms in COMMON_TERMS.items():
        for term in terms:
            phrases[term] = kind
    for kind, description in vocab:
        if kind == CONDITION and is_social_finding(description):
            continue
        text = clean(description)
        if kind == MEDICATION:
            text = _LEADING_DURATION.sub("", _DOSE.sub("", " " + text).strip()).strip()
        if not text or len(text) < 4 or not words(text):
            continue
        phrases.setdefault(text, kind)
        tokens = text.split()
        for i in range(1, len(tokens)):
            tail = " ".join(tokens[i:])
            if words(tail) and len(tail) >= 5 and tail not in _WEAK_TAILS and not tail[0].isdigit():
                phrases.setdefault(tail, kind)
        if kind == MEDICATION and len(tokens[0]) >= 5:
            phrases.setdefault(tokens[0], kind)   # the ingredient alone: "metformin", "amlodipine"
    return phrases
