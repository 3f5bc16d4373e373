"""The ``proxies`` table: zero-cost proxy values per trial (name -> value), beside ``trials``.

Created by the writer that needs it (``nasx proxies``) with CREATE TABLE IF NOT EXISTS: a new
table needs no schema version, and a run without it (older, or opened read-only) has no proxies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from nasx.store.run_store import RunStore
from nasx.store.schema import db_error, table_exists

PROXIES_SQL = ("CREATE TABLE IF NOT EXISTS proxies (trial_id INTEGER REFERENCES trials(id),"
               " name TEXT, value REAL, PRIMARY KEY (trial_id, name))")


def ensure_table(store: RunStore) -> None:
    """Create the proxies table unless the run has it (a writable store only)."""
    with store.transaction() as c:
        c.execute(PROXIES_SQL)


def has_table(store: RunStore) -> bool:
    """Whether the run has a proxies table."""
    return table_exists(store.connection(), "proxies")


def put_proxies(store: RunStore, trial_id: int, values: Mapping[str, float]) -> None:
    """Record one trial's proxy values in one transaction (a non-finite value is stored NULL)."""
    rows = [(trial_id, name, float(v) if math.isfinite(v) else None)
            for name, v in values.items()]
    with store.transaction() as c:
        c.executemany("INSERT OR REPLACE INTO proxies (trial_id, name, value) VALUES (?, ?, ?)",
                      rows)


def get_proxies(store: RunStore) -> dict[int, dict[str, float | None]]:
    """trial id -> {proxy name -> value (None: not finite)}; empty when the run has no table."""
    import sqlite3

    try:
        if not has_table(store):
            return {}
        out: dict[int, dict[str, float | None]] = {}
        for tid, name, value in store.connection().execute(
                "SELECT trial_id, name, value FROM proxies ORDER BY trial_id, name"):
            out.setdefault(int(tid), {})[str(name)] = None if value is None else float(value)
    except sqlite3.Error as exc:
        raise db_error(store.root, exc) from exc
    return out
