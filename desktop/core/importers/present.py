"""Observations the workspace already holds: a reading of the same patient, time and measurement stored by
an earlier import. A corrected or extended export brings them again; they must be neither doubled (two
identical readings would skew every trend and count) nor silently dropped.

The importer inserts the file's accepted rows as usual; then, in the same transaction, each new row whose
(patient, time, code) an earlier import stored is settled here:
- unchanged (an earlier row has the same value): the new copy is removed and counted as already present;
- different values: counted; without ``update_existing`` the new row is removed (the stored values stay);
  with it, the earlier rows at that key are removed and the file's rows stay (all of them at that key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

_KEY = ("patient_id", "observed_at", "code")
_SAME = ("n.value IS NOT DISTINCT FROM s.value AND n.unit IS NOT DISTINCT FROM s.unit "
         "AND (n.value IS NOT NULL OR coalesce(trim(n.value_raw), '') = coalesce(trim(s.value_raw), ''))")
_LISTED = 5000


@dataclass
class PresentObservations:
    unchanged: int = 0
    different: int = 0
    updated: int = 0
    #: up to 5000 of them: (patient, time, measurement code, "unchanged" | "different")
    listed: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.unchanged + self.different


def settle_present_observations(
    con: duckdb.DuckDBPyConnection, import_id: int, *, update_existing: bool
) -> PresentObservations:
    """Settle this import's new observations that an earlier import already stored (see the module doc)."""
    found = PresentObservations()
    earlier = con.execute(
        """SELECT EXISTS (SELECT 1 FROM observations s WHERE s.import_id <> ? AND s.patient_id IN
             (SELECT DISTINCT patient_id FROM observations WHERE import_id = ?))""",
        [import_id, import_id],
    ).fetchone()
    if not earlier or not earlier[0]:
        return found  # the common case (new patients): one cheap look, nothing to settle
    on_key = " AND ".join(f"s.{k} = n.{k}" for k in _KEY)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE vs_present_obs AS
        SELECT n.rowid AS new_row, n.patient_id, n.observed_at, n.code, bool_or({_SAME}) AS unchanged
        FROM observations n JOIN observations s ON {on_key} AND s.import_id <> n.import_id
        WHERE n.import_id = ? GROUP BY ALL""",
        [import_id],
    )
    counts = con.execute("SELECT count(*) FILTER (unchanged), count(*) FILTER (NOT unchanged) "
                         "FROM vs_present_obs").fetchone()
    found.unchanged, found.different = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    found.listed = [
        (str(p), str(t), str(c), "unchanged" if same else "different")
        for p, t, c, same in con.execute(
            f"SELECT patient_id, observed_at, code, unchanged FROM vs_present_obs ORDER BY ALL LIMIT {_LISTED}"
        ).fetchall()
    ]
    if update_existing and found.different:
        # Keys with a different reading take the file's rows: the earlier rows there go, the new ones stay.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE vs_replaced_keys AS
            SELECT DISTINCT {', '.join(_KEY)} FROM vs_present_obs WHERE NOT unchanged"""
        )
        con.execute(
            f"""DELETE FROM observations s USING vs_replaced_keys k
            WHERE {' AND '.join(f's.{c} = k.{c}' for c in _KEY)} AND s.import_id <> ?""",
            [import_id],
        )
        con.execute(
            f"""DELETE FROM vs_present_obs p USING vs_replaced_keys k
            WHERE {' AND '.join(f'p.{c} = k.{c}' for c in _KEY)}"""
        )
        con.execute("DROP TABLE vs_replaced_keys")
        found.updated = found.different
    con.execute("DELETE FROM observations WHERE rowid IN (SELECT new_row FROM vs_present_obs)")
    con.execute("DROP TABLE vs_present_obs")
    return found
