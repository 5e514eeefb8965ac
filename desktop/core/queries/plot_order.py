"""The order a patient's plots are shown in: what a clinician reads first.

Vital signs first (catalog order), then measurements whose latest reading is flagged (critical before
merely abnormal), then the rest; survey scores, QALY/DALY/QOLS and other administrative rows go to a
"More" group the window keeps closed. A real Synthea record has about 80 numeric series; without an order
the admission's vitals sit between a DALY and a depression questionnaire.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.clinical.measurements import load_catalog
from desktop.core.queries.series import Series
from desktop.core.workspace.store import Store

#: Synthea's quality-of-life rows: computed years and a score, not measurements of the patient.
ADMINISTRATIVE_CODES = frozenset({"QALY", "DALY", "QOLS"})
#: Synthea's observation categories that hold questionnaires and social history, not physiology.
ADMINISTRATIVE_CATEGORIES = frozenset({"survey", "social-history"})
VITAL_CATEGORIES = frozenset({"vital", "vital-signs"})


@dataclass(frozen=True)
class PlotGroups:
    main: list[Series]  # vital signs, then abnormal latest value, then the rest
    more: list[Series]  # surveys, QALY/DALY and other administrative rows (shown folded)


def code_categories(store: Store, codes: list[str]) -> dict[str, str | None]:
    """The category each code arrived with (Synthea's CATEGORY column; None when the file had none)."""
    if not codes:
        return {}
    rows = store.con.execute(
        f"SELECT code, category FROM observation_codes WHERE code IN ({', '.join('?' for _ in codes)})", codes
    ).fetchall()
    return {str(code): (str(category) if category is not None else None) for code, category in rows}


def is_administrative(code: str, category: str | None) -> bool:
    return code in ADMINISTRATIVE_CODES or (category or "").lower() in ADMINISTRATIVE_CATEGORIES


def _latest_flag(series: Series) -> str:
    return str(series.flags()[-1]) if series.times.size else ""


def plot_groups(series: list[Series], categories: dict[str, str | None]) -> PlotGroups:
    """Split and order ``series`` (given in catalog order) for display."""
    catalog = load_catalog()
    vitals: list[Series] = []
    abnormal: list[tuple[int, int, Series]] = []
    rest: list[Series] = []
    more: list[Series] = []
    for n, s in enumerate(series):
        category = categories.get(s.code)
        known = catalog.by_code(s.code)
        if known is None and is_administrative(s.code, category):
            more.append(s)
        elif (known is not None and known.category in VITAL_CATEGORIES) or (category or "") in VITAL_CATEGORIES:
            vitals.append(s)
        elif flag := _latest_flag(s):
            abnormal.append((0 if len(flag) == 2 else 1, n, s))  # LL/HH before L/H, then catalog order
        else:
            rest.append(s)
    return PlotGroups(main=vitals + [s for _, _, s in sorted(abnormal, key=lambda a: a[:2])] + rest, more=more)
