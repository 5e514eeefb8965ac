"""One patient's measurements as time series, with the reference band that applies to them.

Times come back as float seconds since the epoch (UTC) in numpy arrays, which is what the plots
draw on a time-proportional axis; values are in the canonical unit (display units convert later).
numpy is imported here because only the window uses these series; the CLI never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise

import numpy as np

from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.ranges import ReferenceRange
from desktop.core.queries.patient_facts import PatientFacts, patient_facts
from desktop.core.workspace.store import Store


@dataclass(frozen=True)
class MeasurementInfo:
    code: str
    name: str
    unit: str
    category: str
    count: int


_OPEN_START, _OPEN_END = -1e18, 1e18  # before and after every reading


@dataclass(frozen=True)
class RangeSpan:
    """The range that applies to readings taken from ``start`` (inclusive) to ``end`` (exclusive), in epoch
    seconds: it changes at the 18th birthday and at the start and end of a pregnancy."""

    start: float
    end: float
    reference: ReferenceRange | None


@dataclass
class Series:
    code: str
    name: str
    unit: str
    times: np.ndarray  # float64 seconds since 1970-01-01 UTC, ascending
    values: np.ndarray  # float64, canonical unit
    reference: ReferenceRange | None  # the range at the newest reading: the shaded band
    spans: tuple[RangeSpan, ...] = ()  # the range at each reading (empty: ``reference`` throughout)
    facts: PatientFacts | None = None

    def _span_index(self) -> np.ndarray:
        if not self.spans:
            return np.zeros(self.times.shape, dtype=np.int64)
        starts = np.array([s.start for s in self.spans])
        return np.clip(np.searchsorted(starts, self.times, side="right") - 1, 0, len(self.spans) - 1)

    def flags(self) -> np.ndarray:
        """Per point: '' in range (or no range at that reading), 'L', 'H', 'LL' or 'HH' (HL7 Table 0078),
        judged against the range that applied at the reading (a childhood reading is never flagged)."""
        out = np.full(self.values.shape, "", dtype="<U2")
        if not self.spans:
            return out if self.reference is None else self.reference.classify_array(self.values)
        which = self._span_index()
        for k, span in enumerate(self.spans):
            mask = which == k
            if span.reference is not None and mask.any():
                out[mask] = span.reference.classify_array(self.values[mask])
        return out

    def reference_at(self, index: int) -> ReferenceRange | None:
        if not self.spans:
            return self.reference
        return self.spans[int(self._span_index()[index])].reference

    def describe_point(self, index: int, flag: str, unit_text: str) -> str:
        """Hover text: the age at the reading and the rule that gave (or withheld) its flag."""
        when = datetime.fromtimestamp(float(self.times[index]), UTC).replace(tzinfo=None)
        age = self.facts.age_at(when) if self.facts is not None else None
        age_text = "age unknown" if age is None else f"aged {age:g}"
        reference = self.reference_at(index)
        if reference is None:
            rule = self.facts.no_range_reason(self.code, when) if self.facts is not None else "no reference range"
        else:
            rule = reference.rule_for(flag or "N", unit_text, float(self.values[index]))
        return f"{age_text} · {rule}"


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
    """Every numeric series of the patient (or only ``codes``), in one query, with the range at each
    reading: ages and pregnancies are those at the reading, never today's."""
    info = patient_measurements(store, patient_id)
    if codes is not None:
        wanted = set(codes)
        info = [i for i in info if i.code in wanted]
    facts = patient_facts(store, patient_id)
    if not info or facts is None:
        return []
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
    edges = _range_edges(facts)
    edge_array = np.array(edges)
    out = []
    for i in info:
        mask = codes_arr == i.code
        t = times[mask]
        # Only spans holding a reading need their range (a child's tables add many spans an adult never uses).
        used = set((np.searchsorted(edge_array, t, side="right") - 1).tolist())
        spans = tuple(
            RangeSpan(start, end, facts.reference_at(i.code, _inside(start, end)) if k in used else None)
            for k, (start, end) in enumerate(pairwise(edges))
        )
        newest = _at(float(t[-1])) if t.size else datetime.now(UTC).replace(tzinfo=None)
        out.append(Series(i.code, i.name, i.unit, t, values[mask], facts.reference_at(i.code, newest), spans, facts))
    return out


def _inside(start: float, end: float) -> datetime:
    """A moment inside the span (its start; the end of an open-ended first span; now for all time)."""
    if start > _OPEN_START:
        return _at(start)
    if end < _OPEN_END:
        return _at(end - 1)
    return datetime.now(UTC).replace(tzinfo=None)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _range_edges(facts: PatientFacts) -> list[float]:
    """Times at which the applicable range can change: the children's-table ages, adulthood and each
    pregnancy's start and end (see ``PatientFacts.range_change_dates``)."""
    return sorted({_OPEN_START, _OPEN_END, *(_epoch(day) for day in facts.range_change_dates())})
