"""How old the data is: the workspace's newest reading, and a day's distance from it.

"Recent" and "how long ago" count back from the workspace's newest reading, never from the clock: an export
from 2020 opened today is not five years stale to the clinician reading it, and its last admission is what
"the last 30 days" means.
"""

from __future__ import annotations

from datetime import date

from desktop.core.workspace.store import Store


def workspace_newest(store: Store) -> date | None:
    """The day of the newest reading in the workspace (None when it holds none)."""
    row = store.con.execute("SELECT max(observed_at)::DATE FROM observations").fetchone()
    return row[0] if row and row[0] is not None else None


def days_before(newest: date | None, day: date | None) -> int | None:
    """Whole days from ``day`` to the workspace's newest reading (0 on that day)."""
    if newest is None or day is None:
        return None
    return max((newest - day).days, 0)
