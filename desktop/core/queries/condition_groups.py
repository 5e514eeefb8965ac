"""Active conditions split into diagnoses and social findings, for the patient header.

The rule is desktop/core/clinical/social_findings.py's, shared with the handover and the verifier.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.clinical.social_findings import is_social_finding


@dataclass(frozen=True)
class ConditionGroups:
    diagnoses: list[str]
    social: list[str]


def split_conditions(descriptions: list[str]) -> ConditionGroups:
    """Keep each group in the given order (onset order from the summary query)."""
    social = [d for d in descriptions if is_social_finding(d)]
    return ConditionGroups(diagnoses=[d for d in descriptions if not is_social_finding(d)], social=social)
