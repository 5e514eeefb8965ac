"""Social history recorded as conditions: one rule for the patient header, the handover and the verifier.

Synthea records social history as conditions ("Unemployed (finding)", "Received certificate of high school
equivalency (finding)", "Stress (finding)", "Medication review due (situation)"); in a real export most
condition rows are such findings (shared/reference/real-data.md). They matter, but they are not diagnoses
and must not push "Chronic kidney disease" out of a clinician's first glance or a handover's problem list.

The SNOMED semantic tag alone does not decide it: "Prediabetes (finding)" and "Body mass index 30+ -
obesity (finding)" are clinical. The rule:
- "(situation)", "(person)" and "(environment)" rows are social/administrative;
- any other tag but "(finding)" ("(disorder)", "(morphologic abnormality)" ...) is clinical, whatever the
  words;
- a "(finding)" row, or one with no tag, is social when its words are the social-history vocabulary below
  (employment, education, housing, income, social contact, stress, violence, legal, migration, military
  service, tobacco, alcohol and drug misuse: Synthea's social-history module and the Gravity Project's
  domains).
"""

from __future__ import annotations

import re

SOCIAL_WORDS = re.compile(
    r"\b(employ\w*|unemploy\w*|labou?r force|education|school|college|received (higher|certificate)|"
    r"housing|homeless\w*|shelter|lives alone|income|poverty|transport\w*|insurance|"
    r"social (isolation|contact)|limited social|isolation|stress\b|partner|intimate|"
    r"criminal|prison|jail|incarcerat\w*|violence|abuse|victim|refugee|migrant|armed forces|military|served in|"
    r"misuses drugs|drug misuse|dependent drug|alcohol misuse|risk activity|smok\w*|tobacco)",
    re.IGNORECASE,
)
_TAG = re.compile(r"\s*\(([^()]*)\)\s*$")
_SOCIAL_TAGS = ("situation", "person", "environment")


def is_social_finding(description: str) -> bool:
    """True for social history and administrative situations, False for a diagnosis or clinical finding."""
    tag = _TAG.search(description)
    kind = tag.group(1).strip().lower() if tag else "finding"
    if kind in _SOCIAL_TAGS:
        return True
    if kind != "finding":
        return False
    return bool(SOCIAL_WORDS.search(_TAG.sub("", description)))
