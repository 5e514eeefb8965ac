"""Rows without an Id that the workspace already holds: a reading of the same patient, time and measurement
(or a Synthea condition of the same patient, code and onset) stored by an earlier import. A corrected or
extended export brings them again; they must be neither doubled (two identical readings would skew every
trend and count) nor silently dropped.

The importer inserts the file's accepted rows as usual; then, in the same transaction, each new row whose
natural key an earlier import stored is settled here:
- unchanged (an earlier row has the same value): the new copy is removed and counted as already present;
- different values: counted; without ``update_existing`` the new row is removed (the stored values stay);
  with it, the earlier rows at that key are removed and the file's rows stay (all of them at that key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb


@dataclass(frozen=True)
class NaturalKey:
    """How a table without an Id tells "the same row": its natural key and what must also be equal."""

    table: str
    key: tuple[str, ...]
    same: str  # SQL over the new row (n) and a stored row (s)
    nullable_key: bool = False  # compare the key with IS NOT DISTINCT FROM (slower; only small tables)


OBSERVATIONS = NaturalKey(
    "observations", ("patient_id", "observed_at", "code"),
    "n.value IS NOT DISTINCT FROM s.value AND n.unit IS NOT DISTINCT FROM s.unit "
    "AND (n.value IS NOT NULL OR coalesce(trim(n.value_raw), '') = coalesce(trim(s.value_raw), ''))",
)
CONDITIONS = NaturalKey(
    "conditions", ("patient_id", "code", "onset"),
    "n.resolved IS NOT DISTINCT FROM s.resolved AND n.description IS NOT DISTINCT FROM s.description",
    nullable_key=True,
)
_LISTED = 5000


@dataclass
class PresentRows:
    unchanged: int = 0
    different: int = 0
    updated: int = 0
    #: up to 5000 of them: (patient, time or onset, code, "unchanged" | "different")
    listed: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.unchanged + self.different


#: left by settle_present_rows(keep_keys=True): the natural keys of this import's rows found present
PRESENT_KEYS = "vs_present_keys"


def settle_present_rows(
    con: duckdb.DuckDBPyConnection, import_id: int, *, update_existing: bool, natural: NaturalKey = OBSERVATIONS,
    keep_keys: bool = False,
) -> PresentRows:
    """Settle this import's new rows (observations, or Synthea conditions) that an earlier import already
    stored (see the module doc). With ``keep_keys`` the keys found present stay in :data:`PRESENT_KEYS`
    (a temp table, empty when none), for a file whose rows hold several values to count its rows."""
    found = PresentRows()
    table, key = natural.table, natural.key
    earlier = con.execute(
        f"""SELECT EXISTS (SELECT 1 FROM {table} s WHERE s.import_id <> ? AND s.patient_id IN
             (SELECT DISTINCT patient_id FROM {table} WHERE import_id = ?))""",
        [import_id, import_id],
    ).fetchone()
    if keep_keys:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {PRESENT_KEYS} AS SELECT {', '.join(natural.key)} "
                    f"FROM {natural.table} WHERE false")
    if not earlier or not earlier[0]:
        return found  # the common case (new patients): one cheap look, nothing to settle
    equal = "IS NOT DISTINCT FROM" if natural.nullable_key else "="
    on_key = " AND ".join(f"s.{k} {equal} n.{k}" for k in key)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE vs_present_obs AS
        SELECT n.rowid AS new_row, {', '.join(f'n.{k}' for k in key)}, bool_or({natural.same}) AS unchanged
        FROM {table} n JOIN {table} s ON {on_key} AND s.import_id <> n.import_id
        WHERE n.import_id = ? GROUP BY ALL""",
        [import_id],
    )
    if keep_keys:
        con.execute(f"INSERT INTO {PRESENT_KEYS} SELECT DISTINCT {', '.join(key)} FROM vs_present_obs")
    counts = con.execute("SELECT count(*) FILTER (unchanged), count(*) FILTER (NOT unchanged) "
                         "FROM vs_present_obs").fetchone()
    found.unchanged, found.different = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    found.listed = [
        (*(str(v) for v in row[:-1]), "unchanged" if row[-1] else "different")
        for row in con.execute(
            f"SELECT {', '.join(key)}, unchanged FROM vs_present_obs ORDER BY ALL LIMIT {_LISTED}"
        ).fetchall()
    ]
    if update_existing and found.different:
        # Keys with a different reading take the file's rows: the earlier rows there go, the new ones stay.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE vs_replaced_keys AS
            SELECT DISTINCT {', '.join(key)} FROM vs_present_obs WHERE NOT unchanged"""
        )
        con.execute(
            f"""DELETE FROM {table} s USING vs_replaced_keys k
            WHERE {' AND '.join(f's.{c} {equal} k.{c}' for c in key)} AND s.import_id <> ?""",
            [import_id],
        )
        con.execute(
            f"""DELETE FROM vs_present_obs p USING vs_replaced_keys k
            WHERE {' AND '.join(f'p.{c} {equal} k.{c}' for c in key)}"""
        )
        con.execute("DROP TABLE vs_replaced_keys")
        found.updated = found.different
    con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT new_row FROM vs_present_obs)")
    con.execute("DROP TABLE vs_present_obs")
    return found
