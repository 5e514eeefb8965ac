"""Questions about data the workspace does not hold: declined in one plain sentence, never guessed.

A Synthea-style workspace holds patients, readings, conditions, medications, encounters, procedures,
immunizations and allergies (desktop/core/workspace/migrations.py). It has no blood group, no fluid intake or output, no
microbiology, no ward or bed, no future appointments, no family history and no consent or resuscitation
status: a question about any of these gets the sentence below (contracts.md 1), not the model's invention.
A knowledge question about the same words ("what is a blood type?") is not declined: the model answers it.
"""

from __future__ import annotations

import re

NOT_HELD: tuple[tuple[str, str], ...] = (
    (r"\bblood (type|group)s?\b|\babo\b|\brh(esus)? (factor|type|status)\b",
     "The record does not hold blood types: the workspace has no blood group field or test."),
    (r"\b(fluid )?(intake|output)s?\b|\burine (output|volume)\b|\bfluid balance\b|\bi ?/ ?o\b|\bdrain(age)?\b|"
     r"\bhow much (urine|fluid|water)\b|\burine\b.*\b(pass(ed)?|produced?|void(ed)?|made)\b|"
     r"\b(pass(ed)?|produced?|void(ed)?)\b.*\burine\b",
     "The record does not hold intake or output volumes: the workspace has no fluid balance charts."),
    (r"\bmicrobiolog\w*|\borganisms?\b|\b(blood |urine |sputum |wound )?cultures?\b|\bspecimens?\b|\bgram stain|"
     r"\bbacteri\w+ (grew|found|isolated)|\bsusceptib\w+|\bantibiogram",
     "The record does not hold microbiology: the workspace has no cultures, specimens or organisms."),
    (r"\b(which|what) (ward|room|bed|unit|care ?unit)\b|\b(ward|bed|room) (number|was|is)\b|\bcare ?unit\b|"
     r"\bwards?\b|\btransferred (to|between)\b|\bicu\b|\bintensive care\b|\bwhere (is|was) (she|he|the patient) "
     r"(staying|admitted|located)\b",
     "The record does not hold wards, rooms or beds: encounters have a class (such as inpatient), not a place."),
    (r"\bnext (appointment|visit|follow-?up|review|check-?up)\b|\b(upcoming|scheduled|future|planned) "
     r"(appointment|visit|follow-?up)s?\b|\bwhen (is|will) (she|he|they|the patient) (be )?(seen|coming|due)\b|"
     r"\b(should|will|must|needs? to|ought to|is due to) (she|he|they|the patient) (come back|return|be seen|"
     r"be reviewed|follow up)\b|\b(should|will|must|needs? to|is due to) (come back|return|be seen|be reviewed)\b|"
     r"\bwhen is (her|his|their|the patient'?s) (follow-?up|review|check-?up|recall)( visit)? due\b",
     "The record does not hold future appointments: it holds only visits that have happened."),
    (r"\bfamily (medical )?history\b|\b(mother|father|parent|sibling|brother|sister)s?'?s? "
     r"(history|conditions?|diagnos\w+|had)\b|\bhereditary\b|\brun in the family\b",
     "The record does not hold family history: it has no relatives' conditions."),
    (r"\bventilat\w* (mode|settings?|pressures?)\b|\b(fio2|peep|tidal volume|ventilator)\b|\boxygen (flow|device|delivery)\b|"
     r"\b(infusion|drip) rates?\b|\bpump settings?\b",
     "The record does not hold ventilator, oxygen-delivery or infusion settings: it holds coded readings only."),
    (r"\bconsent\b|\bdnr\b|\bdnacpr\b|\bdo not resuscitate\b|\badvance (directive|decision)\b|\bcode status\b|"
     r"\bresuscitation status\b|\bpower of attorney\b",
     "The record does not hold consent, resuscitation or advance-decision status."),
    (r"\bcost\b|\bcosts\b|\bcharges?\b|\bbill(ed|ing)?\b|\bhow much did .* cost\b|\bpaid\b",
     "The record does not hold costs or charges: they were not imported into the workspace."),
    (r"\b(which|what|who (is|was)) (the )?(doctor|physician|provider|nurse|clinician|consultant|gp|surgeon)\b|"
     r"\battending\b|\bcare team\b",
     "The record does not hold the names of clinicians: encounters are imported without their providers."),
    (r"\b(marital status|married|religion|occupation|language spoken|next of kin|phone number|address)\b",
     "The record does not hold that personal detail: the workspace keeps name, sex, birth and death only."),
    (r"\b(dose|dosage|route|frequency|how often .* (take|given)|strength) of\b|\bwhat (dose|route)\b",
     "The record does not hold doses, routes or frequencies apart from the drug's name as prescribed "
     "(for example 'lisinopril 10 MG Oral Tablet'): ask when it was prescribed to see that name."),
    (r"\bdischarge (location|destination|disposition|summary|letter)\b|\bdischarged to\b",
     "The record does not hold discharge destinations or letters: an encounter has only its dates, class and "
     "reason."),
    (r"\b(x-?ray|ct|mri|ultrasound|echo|ecg|ekg) (report|result|finding|image)s?\b|\bradiology report\b|"
     r"\bimaging (report|result|finding)s?\b|\bclinical notes?\b|\bprogress notes?\b|\bnotes say\b",
     "The record does not hold reports or notes: the workspace holds coded readings and events, not free text."),
)

# Knowledge questions about the same words: the model answers them (they are not about this record).
_KNOWLEDGE = (r"^(what|why|how) (is|are|does|do) (a |an )?(blood types?|blood groups?|microbiology|cultures?|"
              r"family history|consent|dnr|advance directives?|fluid balance|urine output|intake)( (mean|measure|for))?"
              r"\s*\??$|\b(explain|define|definition of|meaning of)\b(?!.*\b(her|his|their|patient|this)\b)")


def not_held(text: str) -> str | None:
    """The sentence that declines ``text`` (normalised question), or None when the record may hold it."""
    if re.search(_KNOWLEDGE, text):
        return None
    for pattern, sentence in NOT_HELD:
        if re.search(pattern, text):
            return sentence
    return None


# A question about one patient's record that no plan reads, and that is not a question of knowledge or
# interpretation: answering it would mean the model's guess about this patient, so it is declined.
NOT_IN_RECORD = ("The assistant cannot answer this from the record: the workspace holds this patient's "
                 "readings, diagnoses, prescriptions, visits, procedures, immunizations and allergies, and the "
                 "question asks for something else or in a form it cannot compute. Nothing was guessed.")
CANNOT_EXPRESS = ("The record may hold this, but the assistant's plan language cannot compute it exactly, so it "
                  "is not answered: ask for one thing at a time, such as a diagnosis, a prescription, a visit, "
                  "a measurement or a count of patients.")
