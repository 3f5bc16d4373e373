"""The SQLite side of the run store: file names, the schema, and one-line errors for SQLite's.

The status and origin CHECKs are derived from :class:`~nasx.store.records.TrialStatus` and
:class:`~nasx.store.records.Origin`, so a new status is declared once.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from nasx.errors import StoreError, printable
from nasx.store.records import ORIGINS, STATUSES

DB_NAME = "run.db"
SPACE_NAME = "space.yaml"
WEIGHTS_DIR = "weights"
SCHEMA_VERSION = 3  # 2: origin 'fidelity', columns repeat_of and repeat_epochs; 3: status 'pruned'
MAGIC = b"SQLite format 3\x00"
# Columns every nasx run has; a database without one of them is not a nasx run (or a foreign
# one). Columns added by a later schema are read as NULL from an older run opened read-only.
TRIAL_COLUMNS = frozenset({
    "id", "origin", "fingerprint", "arch_values", "hparams", "spec", "flops", "params", "acts",
    "seed", "status", "attempts", "recipe", "error", "metrics", "curves", "device", "host",
    "message", "weights", "created_at", "started_at", "finished_at", "train_seconds",
})


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


TRIALS_TABLE = f"""(
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ({_one_of(ORIGINS)})),
    fingerprint TEXT NOT NULL UNIQUE,
    arch_values TEXT NOT NULL,
    hparams TEXT NOT NULL DEFAULT '{{}}',
    spec TEXT NOT NULL,
    flops INTEGER NOT NULL,
    params INTEGER NOT NULL,
    acts INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT '{STATUSES[0]}'
        CHECK (status IN ({_one_of(STATUSES)})),
    attempts INTEGER NOT NULL DEFAULT 0,
    recipe TEXT,
    error REAL,
    metrics TEXT,
    curves TEXT,
    device TEXT,
    host TEXT,
    message TEXT,
    weights TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    train_seconds REAL,
    repeat_of INTEGER REFERENCES trials (id),
    repeat_epochs INTEGER
)"""

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials {TRIALS_TABLE};
CREATE INDEX IF NOT EXISTS trials_status ON trials (status);
"""

# Schema 1 -> 2 -> 3: SQLite cannot widen a CHECK in place, so the table is rebuilt (SQLite's own
# recipe: new table, copy, drop, rename) with the columns the old one has. Run inside the caller's
# transaction.
_V1_COLUMNS = ", ".join(sorted(TRIAL_COLUMNS))
_V2_COLUMNS = _V1_COLUMNS + ", repeat_of, repeat_epochs"


def _rebuild(columns: str) -> tuple[str, ...]:
    return (
        f"CREATE TABLE trials_new {TRIALS_TABLE}",
        f"INSERT INTO trials_new ({columns}) SELECT {columns} FROM trials",
        "DROP TABLE trials",
        "ALTER TABLE trials_new RENAME TO trials",
        "CREATE INDEX IF NOT EXISTS trials_status ON trials (status)",
    )


def upgrade(conn: sqlite3.Connection, root: Path) -> None:
    """Bring an older run to this schema in one transaction (read-only opens never do).

    The version is read again inside the transaction: another writer may have migrated the run
    between this one's first look and its lock. The rebuild drops and renames the trials table:
    foreign keys (which SQLite lets a connection switch only outside a transaction) stay off
    until it is done. SQLite errors leave as StoreError naming ``root``.
    """
    import json

    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(json.loads(row[0])) if row else SCHEMA_VERSION
        if version < SCHEMA_VERSION:
            migrate(conn, version)
    except BaseException as exc:
        with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise db_error(root, exc) from exc
        raise
    conn.execute("COMMIT")
    conn.execute("PRAGMA foreign_keys=ON")


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a run of schema ``version`` to SCHEMA_VERSION, in the caller's open transaction."""
    if version < SCHEMA_VERSION:  # one rebuild brings any older table to the current CHECKs
        for statement in _rebuild(_V1_COLUMNS if version < 2 else _V2_COLUMNS):
            conn.execute(statement)
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                 (str(SCHEMA_VERSION),))


def sqlite_text(exc: sqlite3.Error) -> str:
    """SQLite's message, short: it quotes whole undecodable cells ("... with text '...'")."""
    text = " ".join(str(exc).split()).split(" with text '", 1)[0]
    return printable(text, 120)


def db_error(root: Path, exc: sqlite3.Error) -> StoreError:
    """One short line for an SQLite failure."""
    text = sqlite_text(exc)
    where = str(root / DB_NAME)
    if "locked" in text or "busy" in text:
        return StoreError(f"the run database is locked by another process ({text})", where=where)
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the run database cannot be written ({text})", where=where)
    return StoreError(f"corrupt or unreadable run database ({text})", where=where)


class _HasRoot(Protocol):
    root: Path


_F = TypeVar("_F", bound=Callable[..., Any])


def guarded(method: _F) -> _F:
    """Turn SQLite errors raised by a store method into one-line StoreErrors."""

    @functools.wraps(method)
    def wrapper(self: _HasRoot, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise db_error(self.root, exc) from exc

    return wrapper  # type: ignore[return-value]


def check_header(db: Path) -> None:
    """StoreError unless ``db`` starts like an SQLite database: checked before SQLite opens it,
    because SQLite happily turns an empty (or missing) file into a fresh database."""
    try:
        with db.open("rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read the run database ({exc.strerror})", where=str(db)) from None
    if not head:
        raise StoreError("the run database is empty (0 bytes): not a nasx run", where=str(db))
    if not head.startswith(MAGIC) or len(head) < 100:
        raise StoreError("not an SQLite database (bad header): not a nasx run", where=str(db))


def connect(db: Path, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with rows by name."""
    conn = sqlite3.connect(db, timeout=30.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    if readonly:
        # query_only refuses every change. Not URI mode=ro: a mode=ro connection cannot
        # remove the -wal/-shm files when it closes last, so every `ls` would leave them.
        conn.execute("PRAGMA query_only = ON")
    return conn


def configure(conn: sqlite3.Connection, synchronous: str = "NORMAL") -> None:
    """Pragmas of a writing connection (WAL: readers never block the driver).

    ``synchronous="OFF"`` is for a database written whole in a new folder and synced once when
    it closes (RunStore.create): SQLite's own syncs were most of `nasx sample`'s write time.
    """
    conn.execute(f"PRAGMA synchronous={synchronous}")  # first: the WAL switch syncs under NORMAL
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the run's database has the table ``name`` (side tables are made on demand)."""
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (name,)).fetchone()
    return row is not None


def read_space_copy(path: Path, missing_ok: bool = False) -> str:
    """A run's copy of its space file as text; a one-line StoreError when unreadable.

    ``missing_ok``: an absent copy reads as "" instead of an error.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return ""
        raise StoreError("the run's space copy is missing", where=str(path)) from None
    except OSError as exc:
        raise StoreError(f"cannot read the run's space copy ({exc.strerror})",
                         where=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreError(f"the run's space copy is not UTF-8 text (byte {exc.start})",
                         where=str(path)) from None
