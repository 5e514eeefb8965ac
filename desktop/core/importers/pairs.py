"""How each row of a file finds what its (measurement, unit) pair means: the pairs are few and resolved once in
Python (observations.resolve); every row then looks its pair up in SQL.

Two lookups, one result (the columns ``pair``, its 1-based position, and ``r``, its resolution as a struct):
- up to ``ENUM_PAIRS`` pairs, an ENUM cast of the pair's text (a hash lookup) and an index into a constant list:
  no join in the query, so DuckDB inserts row groups in parallel (BATCH_INSERT), about a fifth faster for the
  whole import of a Synthea or long file, which hold tens to a few hundred pairs;
- more pairs than that (a laboratory export naming thousands of tests), a join with a temporary table: the
  ENUM and the list make the query text grow with the pairs, and DuckDB's parsing and binding of it cost
  more than the parallel insert saves. Measured on a million rows: 100 pairs 0.68 s by ENUM, 0.76 s by
  table; 400 pairs even (0.78 s); 1,000 pairs 0.94 s by ENUM, 0.78 s by table; 3,000 pairs 0.5 s of binding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import duckdb

from desktop.core.importers.sql import literal

#: What observations.resolve says of each pair, by name and type, in its order.
RESOLVED_FIELDS = (
    ("code_key", "VARCHAR"), ("unit_key", "VARCHAR"), ("code", "VARCHAR"), ("known", "BOOLEAN"),
    ("is_text", "BOOLEAN"), ("factor", "DOUBLE"), ("offset", "DOUBLE"), ("plaus_min", "DOUBLE"),
    ("plaus_max", "DOUBLE"), ("unit_problem", "VARCHAR"), ("m_name", "VARCHAR"), ("limits", "VARCHAR"),
    ("m_unit", "VARCHAR"),
)
#: Beside them in ``r``: the unit the values are stored in (the measurement's own, or for a measurement not in
#: the catalog the file's, trimmed).
STORED_UNIT = ("stored_unit", "VARCHAR")
ENUM_PAIRS = 300
PAIRS_TABLE = "vs_pairs"


@dataclass(frozen=True)
class ResolvedPairs:
    resolved: list[tuple[object, ...]]

    @property
    def by_enum(self) -> bool:
        return len(self.resolved) <= ENUM_PAIRS

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """For the join: the pairs as a temporary table (one statement, whatever their number)."""
        if self.by_enum:
            return
        fields = [*RESOLVED_FIELDS, STORED_UNIT]
        columns = list(zip(*self._rows(), strict=True))
        picks = ", ".join(f"unnest(${i + 1}::{kind}[]) AS \"{name}\"" for i, (name, kind) in enumerate(fields))
        packed = ", ".join(f'"{name}" := "{name}"' for name, _ in fields)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {PAIRS_TABLE} AS SELECT code_key, unit_key, "
                    f"row_number() OVER ()::INTEGER AS pair, struct_pack({packed}) AS r FROM (SELECT {picks})",
                    [list(c) for c in columns])

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        if not self.by_enum:
            con.execute(f"DROP TABLE IF EXISTS {PAIRS_TABLE}")

    def looked_up_sql(self, source: str) -> str:
        """``source``'s rows (with ``code_in`` and ``unit_text``) and their ``pair`` and ``r``; a pair the file did
        not hold when it was read for its pairs (it changed since) has a NULL ``pair``."""
        code, unit = "coalesce(code_in, '')", "coalesce(unit_text, '')"
        if not self.by_enum:
            return (f"SELECT s.*, p.pair, p.r FROM ({source}) s LEFT JOIN {PAIRS_TABLE} p "
                    f"ON p.code_key = coalesce(s.code_in, '') AND p.unit_key = coalesce(s.unit_text, '')")
        keys = ", ".join(literal(self._key(str(r[0]), str(r[1]))) for r in self.resolved)
        index = f"enum_code(TRY_CAST({self._key_sql(code, unit)} AS ENUM({keys}))) + 1"
        return f"SELECT *, {self._list_sql()}[pair] AS r FROM (SELECT *, {index} AS pair FROM ({source}))"

    def _rows(self) -> list[tuple[object, ...]]:
        return [(*r, r[12] if r[3] else (str(r[1]).strip() or None)) for r in self.resolved]

    @cached_property
    def _separator(self) -> str | None:
        """A control character in none of the pairs, to join a pair into one text that no other pair gives;
        None when each of them is in one (then the code's length goes first instead, which is slower)."""
        used = "".join(f"{r[0]}{r[1]}" for r in self.resolved)
        return next((sep for sep in ("\x1f", "\x1e", "\x1d", "\x1c") if sep not in used), None)

    def _key(self, code: str, unit: str) -> str:
        sep = self._separator
        return f"{code}{sep}{unit}" if sep else f"{len(code.encode())}:{code}{unit}"

    def _key_sql(self, code_key: str, unit_key: str) -> str:
        sep = self._separator
        if sep:
            return f"{code_key} || chr({ord(sep)}) || {unit_key}"
        return f"strlen({code_key})::VARCHAR || ':' || {code_key} || {unit_key}"

    def _list_sql(self) -> str:
        fields = [*RESOLVED_FIELDS, STORED_UNIT]
        return "[" + ", ".join(
            "{" + ", ".join(f'"{name}": {_typed(v, kind)}' for (name, kind), v in zip(fields, row, strict=True)) + "}"
            for row in self._rows()) + "]"


def _typed(value: object, kind: str) -> str:
    if value is None:
        return f"NULL::{kind}"
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if kind == "DOUBLE":
        return f"{float(str(value))!r}::DOUBLE"
    return literal(str(value))
