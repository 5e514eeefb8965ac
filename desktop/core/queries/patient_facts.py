"""What the flags of one patient's readings depend on, at the time of each reading.

Ranges, the BP category and NEWS2 eligibility depend on the age AT THE READING (never on today's date,
so results do not change with the computer's clock), on a pregnancy ongoing then (see
``desktop/core/clinical/pregnancy.py``: its stop date, else at most 42 weeks; ectopic, tubal and molar
pregnancies and miscarriages are not ongoing) and on the clinician's SpO2 scale-2 setting. The summary,
the plots and the attention list all ask this one object.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from desktop.core.clinical.patient_settings import SettingChange, spo2_scale2
from desktop.core.clinical.pregnancy import (
    PREGNANCY_CANDIDATE_SQL,
    PregnancyCondition,
    PregnancyStatus,
    pregnancy_at,
    pregnancy_periods,
)
from desktop.core.clinical.ranges import PREGNANCY, SPO2_SCALE2, RangeTable, ReferenceRange, load_ranges
from desktop.core.queries.patients import age_years
from desktop.core.workspace.store import Store

PREGNANCY_SQL = PREGNANCY_CANDIDATE_SQL  # the conditions read as pregnancies (ongoing or not), by description
NEWS2_MIN_AGE = 16  # RCP NEWS2 2017: for adults aged 16 and over


def _day(when: datetime | date) -> date:
    return when.date() if isinstance(when, datetime) else when


def age_in_months(birth: date, day: date) -> int:
    return (day.year - birth.year) * 12 + day.month - birth.month - (day.day < birth.day)


@dataclass(frozen=True)
class PatientFacts:
    patient_id: str
    sex: str | None
    birth_date: date | None
    death_date: date | None
    pregnancy_conditions: tuple[PregnancyCondition, ...] = ()
    scale2: SettingChange | None = None
    ranges: RangeTable = field(default_factory=load_ranges)

    def age_at(self, when: datetime | date | None) -> float | None:
        """Completed years (what the header and NEWS2's 'aged 16 and over' use)."""
        if when is None:
            return None
        return age_years(self.birth_date, _day(when))

    def range_age_at(self, when: datetime | date) -> float | None:
        """Completed months as years (5 months = 0.4167): the children's tables change by the month."""
        if self.birth_date is None:
            return None
        return age_in_months(self.birth_date, _day(when)) / 12

    @property
    def pregnancies(self) -> tuple[tuple[date | None, date | None], ...]:
        """(start, exclusive end) of each ongoing pregnancy."""
        return tuple((start, end) for start, end, _ in pregnancy_periods(self.pregnancy_conditions))

    def pregnancy_at(self, when: datetime | date) -> PregnancyStatus:
        return pregnancy_at(self.pregnancy_conditions, _day(when))

    def pregnant_at(self, when: datetime | date) -> bool:
        return self.pregnancy_at(when).pregnant

    @property
    def scale2_on(self) -> bool:
        return bool(self.scale2 and self.scale2.value)

    def populations_at(self, when: datetime | date) -> frozenset[str]:
        out = set()
        if self.pregnant_at(when):
            out.add(PREGNANCY)
        if self.scale2_on:
            out.add(SPO2_SCALE2)
        return frozenset(out)

    def reference_at(self, code: str, when: datetime | date) -> ReferenceRange | None:
        reference = self.ranges.for_patient(code, self.sex, self.range_age_at(when),
                                            populations=self.populations_at(when))
        if reference is not None and reference.population == PREGNANCY:
            rule = self.pregnancy_at(when).rule
            reference = replace(reference, note=f"{reference.note}; {rule}" if reference.note else rule)
        return reference

    def no_range_reason(self, code: str, when: datetime | date) -> str:
        return self.ranges.no_range_reason(code, self.range_age_at(when))

    def is_adult_at(self, when: datetime | date) -> bool | None:
        """None when the birth date is unknown (not a child: unknown)."""
        age = self.age_at(when)
        return None if age is None else age >= self.ranges.adult_age_years

    def range_change_dates(self) -> list[date]:
        """Days on which the range that applies can change: each children's-table age boundary, adulthood,
        and each pregnancy's start and end."""
        days: set[date] = set()
        if self.birth_date is not None:
            boundaries = {self.ranges.adult_age_years}
            if self.ranges.children is not None:
                for r in self.ranges.children.ranges:
                    boundaries.update(x for x in (r.age_from, r.age_to) if x is not None)
                boundaries.update((self.ranges.children.bp.first_age, self.ranges.children.bp.adult_style_from))
            for years in boundaries:
                days.add(_add_months(self.birth_date, round(years * 12)))
        for start, end in self.pregnancies:
            days.update(d for d in (start, end) if d is not None)
        return sorted(days)


def _add_months(day: date, months: int) -> date:
    """The first day on which ``months`` completed months have passed since ``day``."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    try:
        return date(year, month, day.day)
    except ValueError:  # born on a 31st or 29 February: the age is reached on the 1st of the next month
        return date(year + month // 12, month % 12 + 1, 1)


def patient_facts(store: Store, patient_id: str) -> PatientFacts | None:
    row = store.con.execute(
        "SELECT sex, birth_date, death_date FROM patients WHERE patient_id = ?", [patient_id]
    ).fetchone()
    if row is None:
        return None
    pregnancies = store.con.execute(
        f"SELECT description, onset, resolved FROM conditions WHERE patient_id = ? AND {PREGNANCY_SQL} "
        "ORDER BY onset, description", [patient_id],
    ).fetchall()
    return PatientFacts(patient_id, row[0], row[1], row[2], tuple(PregnancyCondition(*p) for p in pregnancies),
                        spo2_scale2(store, patient_id))


def patient_facts_many(store: Store, patient_ids: list[str] | None = None) -> dict[str, PatientFacts]:
    """The same facts for many patients in three queries (cohort questions, the attention list)."""
    where, params = ("WHERE patient_id IN (SELECT unnest(?))", [patient_ids]) if patient_ids is not None else ("", [])
    people = store.con.execute(f"SELECT patient_id, sex, birth_date, death_date FROM patients {where}", params).fetchall()
    pregnancies: dict[str, list[PregnancyCondition]] = {}
    for pid, description, onset, resolved in store.con.execute(
        f"SELECT patient_id, description, onset, resolved FROM conditions WHERE {PREGNANCY_SQL} "
        "ORDER BY onset, description"
    ).fetchall():
        pregnancies.setdefault(pid, []).append(PregnancyCondition(description, onset, resolved))
    settings: dict[str, SettingChange] = {}
    if store.schema_version() >= 3:
        for pid, value, by, at, reason in store.con.execute(
            "SELECT patient_id, value, set_by, set_at, reason FROM patient_settings_log WHERE setting = 'spo2_scale2' "
            "QUALIFY row_number() OVER (PARTITION BY patient_id ORDER BY set_at DESC, rowid DESC) = 1"
        ).fetchall():
            settings[pid] = SettingChange(value == "on", by, at, reason)
    ranges = load_ranges()
    return {pid: PatientFacts(pid, sex, birth, death, tuple(pregnancies.get(pid, ())), settings.get(pid), ranges)
            for pid, sex, birth, death in people}
