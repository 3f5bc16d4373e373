"""The ``measurements`` table: measured latency and memory per trial, beside ``trials``.

One row per (trial, key), e.g. ``latency_ms_b1_torch_cpu``: the median, its spread (IQR), and the
device, batch and threads it was measured with. Created by ``nasx measure`` with CREATE TABLE IF
NOT EXISTS, like the proxies table: no schema version, and a run without it has no measurements.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from nasx.store.run_store import RunStore
from nasx.store.schema import db_error, table_exists

MEASUREMENTS_SQL = (
    "CREATE TABLE IF NOT EXISTS measurements (trial_id INTEGER REFERENCES trials(id),"
    " key TEXT, value REAL, spread REAL, device TEXT, batch INTEGER, threads INTEGER,"
    " method TEXT, PRIMARY KEY (trial_id, key))")


@dataclass(frozen=True)
class StoredMeasurement:
    """One row of the table."""

    key: str
    value: float
    spread: float
    device: str
    batch: int
    threads: int
    method: str


def ensure_table(store: RunStore) -> None:
    """Create the measurements table unless the run has it (a writable store only)."""
    with store.transaction() as c:
        c.execute(MEASUREMENTS_SQL)


def has_table(store: RunStore) -> bool:
    """Whether the run has a measurements table."""
    return table_exists(store.connection(), "measurements")


def put_measurements(store: RunStore, trial_id: int, rows: Iterable[StoredMeasurement]) -> None:
    """Record one trial's measurements in one transaction."""
    values = [(trial_id, m.key, m.value, m.spread, m.device, m.batch, m.threads, m.method)
              for m in rows]
    with store.transaction() as c:
        c.executemany("INSERT OR REPLACE INTO measurements (trial_id, key, value, spread, device,"
                      " batch, threads, method) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)


def get_measurements(store: RunStore) -> dict[int, dict[str, StoredMeasurement]]:
    """trial id -> {key -> measurement}; empty when the run has no table."""
    try:
        if not has_table(store):
            return {}
        out: dict[int, dict[str, StoredMeasurement]] = {}
        for tid, key, value, spread, device, batch, threads, method in store.connection().execute(
                "SELECT trial_id, key, value, spread, device, batch, threads, method"
                " FROM measurements ORDER BY trial_id, key"):
            out.setdefault(int(tid), {})[str(key)] = StoredMeasurement(
                str(key), float(value), float(spread), str(device), int(batch), int(threads),
                str(method))
    except sqlite3.Error as exc:
        raise db_error(store.root, exc) from exc
    return out
