"""What the flags of one patient's readings depend on, at the time of each reading.

Ranges, the BP category and NEWS2 eligibility depend on the age AT THE READING (never on today's date,
so results do not change with the computer's clock), on an active pregnancy then, and on the clinician's
SpO2 scale-2 setting. The summary, the plots and the attention list all ask this one object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from desktop.core.clinical.patient_settings import SettingChange, spo2_scale2
from desktop.core.clinical.ranges import PREGNANCY, SPO2_SCALE2, RangeTable, ReferenceRange, load_ranges
from desktop.core.queries.patients import age_years
from desktop.core.store import Store

# A condition counts as a pregnancy when its description says so (Synthea: "Normal pregnancy"); negations
# and history rows do not.
PREGNANCY_SQL = (
    "lower(description) LIKE '%pregnan%' AND lower(description) NOT LIKE '%not pregnant%' "
    "AND lower(description) NOT LIKE '%history of%'"
)
NEWS2_MIN_AGE = 16  # RCP NEWS2 2017: for adults aged 16 and over


@dataclass(frozen=True)
class PatientFacts:
    patient_id: str
    sex: str | None
    birth_date: date | None
    death_date: date | None
    pregnancies: tuple[tuple[date | None, date | None], ...] = ()
    scale2: SettingChange | None = None
    ranges: RangeTable = field(default_factory=load_ranges)

    def age_at(self, when: datetime | date | None) -> float | None:
        if when is None:
            return None
        day = when.date() if isinstance(when, datetime) else when
        return age_years(self.birth_date, day)

    def pregnant_at(self, when: datetime | date) -> bool:
        day = when.date() if isinstance(when, datetime) else when
        return any((start is None or start <= day) and (end is None or day < end) for start, end in self.pregnancies)

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
        return self.ranges.for_patient(code, self.sex, self.age_at(when), populations=self.populations_at(when))

    def is_adult_at(self, when: datetime | date) -> bool | None:
        """None when the birth date is unknown (not a child: unknown)."""
        age = self.age_at(when)
        return None if age is None else age >= self.ranges.adult_age_years


def patient_facts(store: Store, patient_id: str) -> PatientFacts | None:
    row = store.con.execute(
        "SELECT sex, birth_date, death_date FROM patients WHERE patient_id = ?", [patient_id]
    ).fetchone()
    if row is None:
        return None
    pregnancies = store.con.execute(
        f"SELECT onset, resolved FROM conditions WHERE patient_id = ? AND {PREGNANCY_SQL} ORDER BY onset",
        [patient_id],
    ).fetchall()
    return PatientFacts(patient_id, row[0], row[1], row[2], tuple((a, b) for a, b in pregnancies),
                        spo2_scale2(store, patient_id))


def patient_facts_many(store: Store, patient_ids: list[str] | None = None) -> dict[str, PatientFacts]:
    """The same facts for many patients in three queries (cohort questions, the attention list)."""
    where, params = ("WHERE patient_id IN (SELECT unnest(?))", [patient_ids]) if patient_ids is not None else ("", [])
    people = store.con.execute(f"SELECT patient_id, sex, birth_date, death_date FROM patients {where}", params).fetchall()
    pregnancies: dict[str, list[tuple[date | None, date | None]]] = {}
    for pid, onset, resolved in store.con.execute(
        f"SELECT patient_id, onset, resolved FROM conditions WHERE {PREGNANCY_SQL} ORDER BY onset"
    ).fetchall():
        pregnancies.setdefault(pid, []).append((onset, resolved))
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
