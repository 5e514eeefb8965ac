"""What a patient takes, is allergic to, and had done: medications, allergies, procedures, immunizations.

"Active" is judged at the workspace's latest date (the newest reading, encounter or prescription in it),
never at the computer's clock: an export from 2021 opened in 2026 shows what was taken in 2021, and the
answer does not change from one day to the next. A medication is active when it has no STOP or its STOP
is after that date; an allergy likewise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from desktop.core.workspace.store import Store

HISTORY_TABLES = ("medications", "allergies", "procedures", "immunizations")
RECENT_LIMIT = 10


#: Every medication of a patient started by a date, newest first, with whether it is still taken then.
MEDICATIONS_SQL = """SELECT description, code, started_at, stopped_at, reason, dispenses,
       stopped_at IS NULL OR (?::TIMESTAMP IS NOT NULL AND stopped_at > ?::TIMESTAMP) AS active
FROM medications WHERE patient_id = ? AND (?::TIMESTAMP IS NULL OR started_at <= ?::TIMESTAMP)
ORDER BY started_at DESC, description"""
#: The allergies current at a date, one row per substance (its newest record).
ALLERGIES_SQL = """SELECT description, code, allergy_type, category, recorded_on, resolved_on, reaction1, severity1,
       reaction2, severity2
FROM allergies WHERE patient_id = ? AND (?::DATE IS NULL OR (recorded_on <= ?::DATE
  AND (resolved_on IS NULL OR resolved_on > ?::DATE)))
QUALIFY row_number() OVER (PARTITION BY coalesce(code, description) ORDER BY recorded_on DESC) = 1"""


def medications_params(patient_id: str, when: datetime | None) -> list[object]:
    return [when, when, patient_id, when, when]


def allergies_params(patient_id: str, day: date | None) -> list[object]:
    return [patient_id, day, day, day]


@dataclass(frozen=True)
class Medication:
    description: str
    code: str | None
    started_at: datetime
    stopped_at: datetime | None
    reason: str | None
    dispenses: int | None

    @property
    def active(self) -> bool:
        return self.stopped_at is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "started_at": self.started_at.isoformat(),
                "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None}


@dataclass(frozen=True)
class Allergy:
    substance: str
    code: str | None
    allergy_type: str | None  # allergy / intolerance (newer exports only)
    category: str | None      # food, medication, environment (newer exports only)
    recorded_on: date
    resolved_on: date | None
    reactions: tuple[tuple[str, str | None], ...]  # (reaction, severity), as many as the file gave

    @property
    def severe(self) -> bool:
        return any((severity or "").upper() == "SEVERE" for _, severity in self.reactions)

    def reaction_text(self) -> str:
        """"Anaphylaxis (disorder), severe; Wheal (finding), mild", or "" when the file gave none."""
        return "; ".join(f"{r}, {s.lower()}" if s else r for r, s in self.reactions)

    def to_dict(self) -> dict[str, Any]:
        return {"substance": self.substance, "code": self.code, "type": self.allergy_type, "category": self.category,
                "recorded_on": self.recorded_on.isoformat(),
                "resolved_on": self.resolved_on.isoformat() if self.resolved_on else None,
                "reactions": [{"reaction": r, "severity": s} for r, s in self.reactions], "severe": self.severe}


@dataclass(frozen=True)
class Event:
    """A procedure or an immunization: what, when, and why where the file said."""

    description: str
    code: str | None
    at: datetime
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


@dataclass(frozen=True)
class PatientHistory:
    as_of: datetime | None  # the workspace's latest date: what "active" is judged at
    active_medications: list[Medication]
    past_medications: list[Medication]
    allergies: list[Allergy]  # current ones (not resolved by as_of)
    recent_procedures: list[Event]
    procedures_total: int
    recent_immunizations: list[Event]
    immunizations_total: int

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None,
                "active_medications": [m.to_dict() for m in self.active_medications],
                "past_medications": [m.to_dict() for m in self.past_medications],
                "allergies": [a.to_dict() for a in self.allergies],
                "recent_procedures": [e.to_dict() for e in self.recent_procedures],
                "procedures_total": self.procedures_total,
                "recent_immunizations": [e.to_dict() for e in self.recent_immunizations],
                "immunizations_total": self.immunizations_total}


def has_history_tables(store: Store) -> bool:
    """False for a workspace opened read-only before its upgrade to schema 4 (it has none of the tables)."""
    row = store.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name IN "
        "('medications', 'allergies', 'procedures', 'immunizations')").fetchone()
    return row is not None and int(row[0]) == len(HISTORY_TABLES)


def workspace_as_of(store: Store) -> datetime | None:
    """The newest date the workspace knows of (a reading, an encounter, a prescription, a procedure)."""
    parts = ["SELECT max(observed_at) AS t FROM observations", "SELECT max(started_at) FROM encounters"]
    if has_history_tables(store):
        parts += ["SELECT max(started_at) FROM medications", "SELECT max(started_at) FROM procedures",
                  "SELECT max(given_at) FROM immunizations"]
    row = store.con.execute(f"SELECT max(t) FROM ({' UNION ALL '.join(parts)})").fetchone()
    return row[0] if row else None


def medications(store: Store, *, patient_id: str, as_of: datetime | None = None) -> tuple[list[Medication], list[Medication]]:
    """(active, past) medications of ``patient_id`` at ``as_of`` (default: the workspace's latest date).

    Active: newest start first. Past: most recently stopped first. The same drug prescribed again is listed
    once in active (its newest prescription) and its earlier courses stay in past.
    """
    if not has_history_tables(store):
        return [], []
    when = as_of or workspace_as_of(store)
    rows = store.con.execute(MEDICATIONS_SQL, medications_params(patient_id, when)).fetchall()
    active: list[Medication] = []
    past: list[Medication] = []
    seen: set[str] = set()
    for description, code, started, stopped, reason, dispenses, is_active in rows:
        key = code or description
        # A running prescription is not past, but "stopped after as_of" means it is still running then.
        m = Medication(description, code, started, None if is_active else stopped, reason, dispenses)
        if is_active and key not in seen:
            seen.add(key)
            active.append(m)
        elif is_active:
            past.append(Medication(description, code, started, stopped, reason, dispenses))
        else:
            past.append(m)
    past.sort(key=lambda m: (m.stopped_at or m.started_at), reverse=True)
    return active, past


def allergies(store: Store, *, patient_id: str, as_of: datetime | None = None) -> list[Allergy]:
    """The allergies and intolerances current at ``as_of``: severe ones first, then by substance."""
    if not has_history_tables(store):
        return []
    when = as_of or workspace_as_of(store)
    day = when.date() if isinstance(when, datetime) else when
    rows = store.con.execute(ALLERGIES_SQL, allergies_params(patient_id, day)).fetchall()
    out = []
    for substance, code, kind, category, recorded, resolved, r1, s1, r2, s2 in rows:
        reactions = tuple((r, s) for r, s in ((r1, s1), (r2, s2)) if r)
        out.append(Allergy(substance, code, kind, category, recorded, resolved, reactions))
    out.sort(key=lambda a: (not a.severe, a.substance.lower()))
    return out


def _events(store: Store, sql: str, patient_id: str, limit: int) -> tuple[list[Event], int]:
    rows = store.con.execute(sql + " ORDER BY event_at DESC, description LIMIT ?", [patient_id, limit]).fetchall()
    total = store.con.execute(f"SELECT count(*) FROM ({sql})", [patient_id]).fetchone()
    return [Event(d, c, at, r) for d, c, at, r in rows], int(total[0]) if total else 0


def recent_procedures(store: Store, *, patient_id: str, limit: int = RECENT_LIMIT) -> tuple[list[Event], int]:
    """The newest ``limit`` procedures and how many the patient has in all."""
    if not has_history_tables(store):
        return [], 0
    return _events(store, "SELECT description, code, started_at AS event_at, reason FROM procedures WHERE patient_id = ?",
                   patient_id, limit)


def recent_immunizations(store: Store, *, patient_id: str, limit: int = RECENT_LIMIT) -> tuple[list[Event], int]:
    if not has_history_tables(store):
        return [], 0
    return _events(store, "SELECT description, code, given_at AS event_at, NULL AS reason FROM immunizations "
                          "WHERE patient_id = ?", patient_id, limit)


def patient_history(store: Store, *, patient_id: str, as_of: datetime | None = None,
                    recent: int = RECENT_LIMIT) -> PatientHistory:
    """Everything above for one patient, judged at one date (the view, the context and the CLI ask this)."""
    when = as_of or workspace_as_of(store)
    died = store.con.execute("SELECT death_date FROM patients WHERE patient_id = ?", [patient_id]).fetchone()
    if died and died[0] is not None and (when is None or datetime.combine(died[0], datetime.min.time()) < when):
        when = datetime.combine(died[0], datetime.max.time())  # nothing is taken after death: judged then
    active, past = medications(store, patient_id=patient_id, as_of=when)
    procs, n_procs = recent_procedures(store, patient_id=patient_id, limit=recent)
    shots, n_shots = recent_immunizations(store, patient_id=patient_id, limit=recent)
    return PatientHistory(when, active, past, allergies(store, patient_id=patient_id, as_of=when),
                          procs, n_procs, shots, n_shots)
