"""Active conditions split into diagnoses and social findings, for the patient header.

Synthea records social history as conditions: "Unemployed (finding)", "Received certificate of high
school equivalency (finding)", "Stress (finding)". They matter, but they are not diagnoses and must not push
"Chronic kidney disease" out of a clinician's first glance. The SNOMED semantic tag "(finding)" alone does
not decide it: "Prediabetes (finding)" and "Body mass index 30+ - obesity (finding)" are clinical. A
condition is a social finding when it carries the "(finding)" tag (or none) *and* its words are the
social-history vocabulary below (employment, education, housing, income, social contact, violence, legal,
substance misuse, migration); everything else is a diagnosis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Word stems of social determinants of health as SNOMED words them (Synthea's social-history module and
# the Gravity Project's domains).
SOCIAL_WORDS = re.compile(
    r"\b(employ\w*|unemploy\w*|labou?r force|education|school|college|"
    r"housing|homeless\w*|shelter|income|poverty|transport\w*|insurance|"
    r"social (isolation|contact)|limited social|isolation|stress\b|"
    r"criminal|prison|jail|incarcerat\w*|violence|abuse|victim|refugee|migrant|armed forces|military|"
    r"misuses drugs|drug misuse|alcohol misuse|risk activity|sexual partner)",
    re.IGNORECASE,
)
TAG = re.compile(r"\s*\(([^()]*)\)\s*$")


@dataclass(frozen=True)
class ConditionGroups:
    diagnoses: list[str]
    social: list[str]


def is_social_finding(description: str) -> bool:
    tag = TAG.search(description)
    if tag is not None and tag.group(1).lower() not in ("finding", "situation"):
        return False  # "(disorder)", "(morphologic abnormality)" ...: clinical whatever the words
    return bool(SOCIAL_WORDS.search(TAG.sub("", description)))


def split_conditions(descriptions: list[str]) -> ConditionGroups:
    """Keep each group in the given order (onset order from the summary query)."""
    social = [d for d in descriptions if is_social_finding(d)]
    return ConditionGroups(diagnoses=[d for d in descriptions if not is_social_finding(d)], social=social)
