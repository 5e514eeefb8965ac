"""A question read against the workspace: the patient it names (by id or by name, read like any other word),
then the whole-record parser (record_parse.py), else the measurement parser (parse.py) with what
reading_parse.py adds, and the words neither read (coverage.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from desktop.core.assistant.coverage import unread_words
from desktop.core.assistant.decline import CANNOT_EXPRESS, NOT_IN_RECORD
from desktop.core.assistant.parse import _is_general, plan_question
from desktop.core.assistant.plan import Plan, PlanError
from desktop.core.assistant.reading_parse import amend_reading_plan
from desktop.core.assistant.record_parse import normalise, plan_record
from desktop.core.assistant.vocabulary import Vocabulary, find_patient, resolve, workspace_vocabulary
from desktop.core.workspace.store import Store

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
# Words that make a question one about this record (and so declined, not sent to the model's prose, when no
# plan can compute it).
_RECORD_WORDS = (r"\b(diagnos\w*|prescri\w*|medications?|visits?|admissions?|admitted|procedures?|vaccin\w*|"
                 r"immuni[sz]\w*|allerg\w*|encounters?|lab (tests?|results?)|test results?|readings?|measured|"
                 r"recorded)\b|\b\d{4}-\d{1,2}-\d{1,2}\b")
_NOT_A_LOOKUP = r"\b(summar\w+|handover|hand-over|sbar|overview|advice|advise|recommend\w*|should|explain|why)\b"
# A question about this one patient ("the patient" stands for one named by id or name).
_THIS_PATIENT = r"\b(the patient'?s?|this patient'?s?|her|his|him|she|he)\b"
# Knowledge and interpretation about the patient stay with the model's prose (its claims verified).
# "Risk" asks for a judgement, except as the name of a recorded score ("fall risk score").
_INTERPRETS = (r"\b(mean|means|meaning|interpret\w*|significan\w*|concern\w*|worr\w*|implication\w*)\b|"
               r"\brisks?\b(?! (scores?|scales?|assessments?|index|levels?|categor\w+|ratings?|tools?)\b)")


_LOOKUP = (r"\b(latest|last|first|earliest|highest|lowest|max\w*|min\w*|mean|average|median|how many|count|"
           r"when was|value|level|result|score|scale|index|rating|grade|stage)\b")
_LOOKUP_WORDS = frozenset("""latest last first earliest highest lowest maximum minimum max min mean average median how
many count when was what is the her his their patient's value level result results reading readings of a an
recorded measured test tested""".split())


def _uncatalogued(vocab: Vocabulary, text: str) -> str:
    """The description of a reading the workspace holds that the question names, outside the catalog."""
    words = " ".join(w for w in re.findall(r"[a-z0-9][a-z0-9.-]*", text) if w not in _LOOKUP_WORDS)
    if not words:
        return ""
    found = resolve(vocab, "observation", words)
    names = list(dict.fromkeys(t.name for t in found.matched))
    return names[0] if len(names) == 1 else ""


@dataclass(frozen=True)
class Reading:
    plan: Plan
    error: str | None
    unread: tuple[str, ...]
    patient_id: str | None
    today: date


def read_question(store: Store, question: str, patient_id: str | None, today_of: object) -> Reading:
    """``today_of(store, patient_id)`` gives the record's today (execute.record_today)."""
    vocab = workspace_vocabulary(store)
    named, words = find_patient(vocab, question)
    text = question
    if named is not None:
        patient_id = named
        # Kept as "the patient" so the question still reads as one about this record ("the blood type of ...").
        # "patient 5eed0a04-..." as a whole, so that it reads "when should the patient come back", not "patient the
        # patient".
        text = re.sub(r"(?:\bpatient\s+)?" + re.escape(words), " the patient ", text, flags=re.I)
    else:
        unknown = _UUID.search(question)
        if unknown:
            plan = Plan("declined", decline=f"No patient with id {unknown.group()} is in this workspace.")
            return Reading(plan, None, (), patient_id, date.today())
    today = today_of(store, patient_id)  # type: ignore[operator]
    try:
        record = plan_record(text, patient_id=patient_id, today=today, vocab=vocab)
        if record is not None:
            return Reading(record, None, (), patient_id, today)
        plan = plan_question(text, patient_id=patient_id, today=today)
        plan, also = amend_reading_plan(plan, normalise(text), vocab)
    except PlanError as exc:
        return Reading(Plan("general"), str(exc), (), patient_id, today)
    low = normalise(text)
    if plan.kind == "general" and re.search(_RECORD_WORDS, low) and not _is_general(low) \
            and not re.search(_NOT_A_LOOKUP, low):
        return Reading(Plan("declined", decline=CANNOT_EXPRESS), None, (), patient_id, today)
    if plan.kind == "general" and not _is_general(low) and not re.search(_NOT_A_LOOKUP, low) \
            and re.search(_LOOKUP, low):
        held = _uncatalogued(vocab, low)
        if held:
            return Reading(Plan("declined", decline=(
                f"The record holds {held} readings, but the assistant computes only the measurements its catalog "
                "knows, so it does not answer this: the patient's results table lists them.")), None, (),
                           patient_id, today)
    if plan.kind == "general" and not _is_general(low) and not re.search(_NOT_A_LOOKUP, low) \
            and not re.search(_INTERPRETS, low) and (named is not None or re.search(_THIS_PATIENT, low)
                                                      or (patient_id and re.search(_LOOKUP, low))):
        # Never the model's guess about a fact of this patient's record ("the PEEP setting of patient X").
        return Reading(Plan("declined", decline=NOT_IN_RECORD), None, (), patient_id, today)
    return Reading(plan, None, unread_words(text, plan, also), patient_id, today)
