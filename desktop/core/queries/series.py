"""One patient's measurements as time series, with the reference band that applies to them.

Times come back as float seconds since the epoch (UTC) in numpy arrays, which is what the plots
draw on a time-proportional axis; values are in the canonical unit (display units convert later).
numpy is imported here because only the window uses these series; the CLI never does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop.core.clinical.measurements import load_catalog
from desktop.core.queries.patients import age_years
from desktop.core.clinical.ranges import ReferenceRange, load_ranges
from desktop.core.store import Store


@dataclass(frozen=True)
class MeasurementInfo:
    code: str
    name: str
    unit: str
    category: str
    count: int


@dataclass
class Series:
    code: str
    name: str
    unit: str
    times: np.ndarray  # float64 seconds since 1970-01-01 UTC, ascending
    values: np.ndarray  # float64, canonical unit
    reference: ReferenceRange | None

    def flags(self) -> np.ndarray:
        """Per point: '' in range (or no range), 'L', 'H', 'LL' or 'HH' (HL7 Table 0078)."""
        out = np.full(self.values.shape, "", dtype="<U2")
        r = self.reference
        if r is None:
            return out
        v = self.values
        if r.low is not None:
            out[v < r.low] = "L"
        if r.high is not None:
            out[v > r.high] = "H"
        if r.critical_low is not None:
            out[v <= r.critical_low] = "LL"
        if r.critical_high is not None:
            out[v >= r.critical_high] = "HH"
        return out


def patient_measurements(store: Store, patient_id: str) -> list[MeasurementInfo]:
    """The numeric measurements this patient has, in the catalog's order (vitals, then labs)."""
    rows = store.con.execute(
        """
        SELECT o.code, any_value(o.unit), count(*), any_value(c.description)
        FROM observations o LEFT JOIN observation_codes c USING (code)
        WHERE o.patient_id = ? AND o.value IS NOT NULL GROUP BY o.code
        """,
        [patient_id],
    ).fetchall()
    catalog = load_catalog()
    order = {m.code: i for i, m in enumerate(catalog.measurements)}
    out = []
    for code, unit, count, description in rows:
        m = catalog.by_code(code)
        out.append(MeasurementInfo(
            code=code, name=m.name if m else (description or code), unit=unit or (m.unit if m else ""),
            category=m.category if m else "other", count=int(count),
        ))
    out.sort(key=lambda i: (order.get(i.code, len(order)), i.name))
    return out


def patient_series(store: Store, patient_id: str, codes: list[str] | None = None) -> list[Series]:
    """Every numeric series of the patient (or only ``codes``), in one query, with its band.

    The band is the range for the patient's sex and their age now; ranges are adult-only, so a child
    gets no band rather than an adult one that would mislead.
    """
    info = patient_measurements(store, patient_id)
    if codes is not None:
        wanted = set(codes)
        info = [i for i in info if i.code in wanted]
    if not info:
        return []
    demo = store.con.execute(
        "SELECT sex, birth_date, coalesce(death_date, current_date) FROM patients WHERE patient_id = ?",
        [patient_id],
    ).fetchone()
    sex, birth, at = demo if demo else (None, None, None)
    age = age_years(birth, at) if at is not None else None
    data = store.con.execute(
        f"""
        SELECT code, epoch(observed_at) AS t, value FROM observations
        WHERE patient_id = ? AND value IS NOT NULL AND code IN ({", ".join("?" for _ in info)})
        ORDER BY code, observed_at
        """,
        [patient_id, *[i.code for i in info]],
    ).fetchnumpy()
    codes_arr = np.asarray(data["code"], dtype=object)
    times = np.asarray(data["t"], dtype=np.float64)
    values = np.asarray(data["value"], dtype=np.float64)
    ranges = load_ranges()
    out = []
    for i in info:
        mask = codes_arr == i.code
        out.append(Series(i.code, i.name, i.unit, times[mask], values[mask], ranges.for_patient(i.code, sex, age)))
    return out
