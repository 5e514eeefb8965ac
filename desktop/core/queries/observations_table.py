"""The observations table: filtered, sorted pages of readings, and the same rows exported to CSV.

The table view and the export run the very same query, so the file holds exactly the rows on screen.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from desktop.core.clinical.measurements import load_catalog
from desktop.core.deidentify import NAME_COLUMNS, Deidentifier
from desktop.core.workspace.store import Store

# (header, SQL expression) in display order; the expressions are what sorting uses.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Time (UTC)", "o.observed_at"),
    ("Patient", "o.patient_id"),
    ("Measurement", "coalesce(n.name, c.description, o.code)"),
    ("Code", "o.code"),
    ("Value", "o.value"),
    ("Unit", "o.unit"),
    ("As recorded", "o.value_raw"),
    ("Recorded unit", "o.unit_raw"),
)


@dataclass(frozen=True)
class ObservationFilter:
    patient_id: str | None = None
    code: str | None = None
    text: str = ""  # part of the measurement name, code or recorded value
    sort_column: int = 0
    descending: bool = True  # newest first, as a results review reads

    def query(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self.patient_id:
            clauses.append("o.patient_id = ?")
            params.append(self.patient_id)
        if self.code:
            clauses.append("o.code = ?")
            params.append(self.code)
        if self.text.strip():
            clauses.append("(n.name ILIKE ? OR c.description ILIKE ? OR o.code ILIKE ? OR o.value_raw ILIKE ?)")
            params += [f"%{self.text.strip()}%"] * 4
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        sort_expr = COLUMNS[self.sort_column][1] if 0 <= self.sort_column < len(COLUMNS) else COLUMNS[0][1]
        direction = "DESC" if self.descending else "ASC"
        select = ", ".join(f'{expr} AS "{name}"' for name, expr in COLUMNS)
        sql = (
            f"SELECT {select} FROM observations o LEFT JOIN observation_codes c USING (code) "
            f"LEFT JOIN ({_names_sql()}) n USING (code) {where} "
            f"ORDER BY {sort_expr} {direction} NULLS LAST, o.observed_at, o.code"
        )
        return sql, params


def count_observations(store: Store, flt: ObservationFilter) -> int:
    sql, params = flt.query()
    row = store.con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()
    return int(row[0]) if row else 0


def page_observations(store: Store, flt: ObservationFilter, offset: int, limit: int) -> list[tuple[object, ...]]:
    sql, params = flt.query()
    return store.con.execute(f"{sql} LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()


def export_observations_csv(store: Store, flt: ObservationFilter, path: str | Path, *,
                            deidentified: bool = False) -> int:
    """Write the filtered, sorted rows to ``path`` as UTF-8 CSV with a header; returns the row count.

    ``deidentified``: patient ids replaced and each patient's times shifted by one random offset
    (desktop/core/deidentify.py), for a file that leaves the clinic.
    """
    sql, params = flt.query()
    target = str(Path(path))
    if deidentified:
        return _export_deidentified(store, sql, params, target)
    # COPY takes no bound parameters for its source query, so the filtered rows go through a temp view.
    store.con.execute(f"CREATE OR REPLACE TEMP TABLE _export AS {sql}", params)
    try:
        store.con.execute(f"COPY _export TO '{_quote(target)}' (HEADER, DELIMITER ',')")
        row = store.con.execute("SELECT count(*) FROM _export").fetchone()
    finally:
        store.con.execute("DROP TABLE IF EXISTS _export")
    return int(row[0]) if row else 0


def _export_deidentified(store: Store, sql: str, params: list[object], target: str) -> int:
    cursor = store.con.execute(sql, params)
    headers = [d[0] for d in cursor.description]
    rows = [dict(zip(headers, row, strict=True)) for row in cursor.fetchall()]
    cleaned = Deidentifier().rows(rows, patient_column="Patient")
    with open(target, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[h for h in headers if h.lower() not in NAME_COLUMNS])
        writer.writeheader()
        writer.writerows(cleaned)
    return len(cleaned)


def _names_sql() -> str:
    """The catalog's measurement names as an inline table: the same names the summary uses, also for
    files that brought only a code."""
    rows = ", ".join(f"('{_quote(m.code)}', '{_quote(m.name)}')" for m in load_catalog().measurements)
    return f"SELECT * FROM (VALUES {rows}) t(code, name)"


def _quote(text: str) -> str:
    return text.replace("'", "''")
