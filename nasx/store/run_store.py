"""The run store: one folder per run, one SQLite database (WAL) as the single source of truth.

Layout of ``runs/NAME/``::

    run.db          trials and run metadata (every state change is one transaction)
    space.yaml      a byte copy of the space file the run was sampled from
    weights/        safetensors files of the best trials (``weights/<id>.safetensors``)

Only the driver process writes; workers return results to it. No torch here.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasx.errors import StoreError

DB_NAME = "run.db"
SPACE_NAME = "space.yaml"
WEIGHTS_DIR = "weights"
SCHEMA_VERSION = 1
STATUSES = ("pending", "running", "done", "failed", "diverged")
ORIGINS = ("sampled", "refine")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('sampled', 'refine')),
    fingerprint TEXT NOT NULL UNIQUE,
    arch_values TEXT NOT NULL,
    hparams TEXT NOT NULL DEFAULT '{}',
    spec TEXT NOT NULL,
    flops INTEGER NOT NULL,
    params INTEGER NOT NULL,
    acts INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed', 'diverged')),
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
    train_seconds REAL
);
CREATE INDEX IF NOT EXISTS trials_status ON trials (status);
"""


@dataclass(frozen=True)
class NewTrial:
    """A sampled (or suggested) architecture to add to a run."""

    fingerprint: str
    values: dict[str, Any]  # sampled architecture values (what decode() received)
    spec: dict[str, Any]  # ArchSpec.to_dict()
    flops: int
    params: int
    acts: int
    seed: int
    hparams: dict[str, Any] = field(default_factory=dict)  # sampled values of the train: block
    origin: str = "sampled"


@dataclass(frozen=True)
class TrialRecord:
    """One row of the trials table, decoded."""

    id: int
    origin: str
    fingerprint: str
    values: dict[str, Any]
    hparams: dict[str, Any]
    spec: dict[str, Any]
    flops: int
    params: int
    acts: int
    seed: int
    status: str
    attempts: int
    recipe: dict[str, Any] | None
    error: float | None  # test top-1 error in percent (final epoch)
    metrics: dict[str, Any] | None
    curves: list[dict[str, Any]] | None
    device: str | None
    host: str | None
    message: str | None
    weights: str | None  # path relative to the run folder
    created_at: float
    started_at: float | None
    finished_at: float | None
    train_seconds: float | None

    def as_row(self) -> dict[str, Any]:
        """Flat dict for JSON output and DataFrames."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


class RunStore:
    """Access to one run folder. Create with :meth:`create`, open with :meth:`open`."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self._conn = conn

    # -- lifecycle -------------------------------------------------------------------------
    @staticmethod
    def _connect(db: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(db, timeout=30.0, isolation_level=None)  # explicit transactions
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @classmethod
    def exists(cls, root: str | Path) -> bool:
        """Whether ``root`` holds a run database."""
        return (Path(root) / DB_NAME).is_file()

    @classmethod
    def create(cls, root: str | Path, space_text: str, meta: dict[str, Any]) -> RunStore:
        """Create a new run folder with its space copy and metadata (space_hash among meta)."""
        root = Path(root)
        if cls.exists(root):
            raise StoreError("a run already exists here", file=str(root))
        root.mkdir(parents=True, exist_ok=True)
        (root / SPACE_NAME).write_text(space_text)
        conn = cls._connect(root / DB_NAME)
        store = cls(root, conn)
        conn.executescript(_SCHEMA)
        with store._tx() as c:
            rows = {"schema_version": SCHEMA_VERSION, "created_at": time.time(), **meta}
            c.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, _dumps(v)) for k, v in rows.items()],
            )
        return store

    @classmethod
    def open(cls, root: str | Path) -> RunStore:
        """Open an existing run; a one-line StoreError when there is none."""
        root = Path(root)
        if not cls.exists(root):
            raise StoreError(f"no run here (expected {DB_NAME})", file=str(root))
        try:
            conn = cls._connect(root / DB_NAME)
            conn.execute("SELECT 1 FROM trials LIMIT 1")
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"not a readable nasx run database ({exc})", file=str(root)) from None
        version = json.loads(row[0]) if row else SCHEMA_VERSION
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(
                f"run written by a newer nasx (schema {version} > {SCHEMA_VERSION})",
                file=str(root),
            )
        return cls(root, conn)

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: all of it lands or none of it does."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- metadata --------------------------------------------------------------------------
    @property
    def space_path(self) -> Path:
        """The run's copy of its space file."""
        return self.root / SPACE_NAME

    @property
    def weights_dir(self) -> Path:
        """Folder of kept weights."""
        return self.root / WEIGHTS_DIR

    def meta(self) -> dict[str, Any]:
        """All run metadata."""
        return {r["key"]: json.loads(r["value"]) for r in self._conn.execute("SELECT * FROM meta")}

    def set_meta(self, **items: Any) -> None:
        """Set metadata keys in one transaction."""
        with self._tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, _dumps(v)) for k, v in items.items()],
            )

    # -- trials ----------------------------------------------------------------------------
    def add_trials(self, trials: Iterable[NewTrial]) -> list[int]:
        """Insert trials (all in one transaction); returns their ids. Duplicates are an error."""
        now = time.time()
        ids: list[int] = []
        with self._tx() as c:
            for t in trials:
                try:
                    cur = c.execute(
                        "INSERT INTO trials (origin, fingerprint, arch_values, hparams, spec, flops,"
                        " params, acts, seed, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (t.origin, t.fingerprint, _dumps(t.values), _dumps(t.hparams),
                         _dumps(t.spec), int(t.flops), int(t.params), int(t.acts), int(t.seed), now),
                    )
                except sqlite3.IntegrityError:
                    raise StoreError(
                        f"trial with fingerprint {t.fingerprint} is already in the run",
                        file=str(self.root),
                    ) from None
                ids.append(int(cur.lastrowid or 0))
        return ids

    def fingerprints(self) -> set[str]:
        """Fingerprints of every trial in the run (for de-duplication)."""
        return {r[0] for r in self._conn.execute("SELECT fingerprint FROM trials")}

    def get(self, trial_id: int) -> TrialRecord:
        """One trial by id; StoreError when unknown."""
        row = self._conn.execute("SELECT * FROM trials WHERE id = ?", (trial_id,)).fetchone()
        if row is None:
            raise StoreError(f"no trial with id {trial_id}", file=str(self.root))
        return _record(row)

    def trials(self, status: str | Iterable[str] | None = None) -> list[TrialRecord]:
        """Trials in id order, optionally only those with the given status(es)."""
        if status is None:
            rows = self._conn.execute("SELECT * FROM trials ORDER BY id")
        else:
            wanted = [status] if isinstance(status, str) else list(status)
            marks = ",".join("?" * len(wanted))
            rows = self._conn.execute(
                f"SELECT * FROM trials WHERE status IN ({marks}) ORDER BY id", wanted
            )
        return [_record(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Number of trials per status (every status present, zeros included)."""
        out = dict.fromkeys(STATUSES, 0)
        for r in self._conn.execute("SELECT status, COUNT(*) FROM trials GROUP BY status"):
            out[r[0]] = r[1]
        return out

    # -- transitions (each one transaction) ------------------------------------------------
    def requeue_stale(self) -> int:
        """Put trials left ``running`` by a dead driver back to ``pending``; returns how many."""
        with self._tx() as c:
            cur = c.execute(
                "UPDATE trials SET status = 'pending', started_at = NULL WHERE status = 'running'"
            )
        return cur.rowcount

    def mark_running(self, trial_id: int, recipe: dict[str, Any], device: str = "",
                     host: str | None = None) -> None:
        """pending -> running; counts an attempt and stores the resolved recipe."""
        with self._tx() as c:
            cur = c.execute(
                "UPDATE trials SET status = 'running', attempts = attempts + 1, recipe = ?,"
                " device = ?, host = ?, started_at = ? WHERE id = ? AND status = 'pending'",
                (_dumps(recipe), device, host or socket.gethostname(), time.time(), trial_id),
            )
            if cur.rowcount != 1:
                raise StoreError(f"trial {trial_id} is not pending", file=str(self.root))

    def mark_pending(self, trial_id: int, message: str | None = None) -> None:
        """running -> pending (a retry after a lost worker)."""
        with self._tx() as c:
            cur = c.execute(
                "UPDATE trials SET status = 'pending', message = ? WHERE id = ?",
                (message, trial_id),
            )
            self._one(cur, trial_id)

    def finish(self, trial_id: int, status: str, *, error: float | None = None,
               metrics: dict[str, Any] | None = None, curves: list[dict[str, Any]] | None = None,
               device: str | None = None, host: str | None = None,
               message: str | None = None, train_seconds: float | None = None,
               weights: str | None = None) -> None:
        """running -> done | failed | diverged, with the trial's measurements.

        ``weights`` (relative to the run folder) is recorded in the same transaction, so a done
        trial that earned weights is never seen without them; None leaves the column as it is.
        """
        if status not in ("done", "failed", "diverged"):
            raise ValueError(f"finish() takes a final status, got {status!r}")
        with self._tx() as c:
            cur = c.execute(
                "UPDATE trials SET status = ?, error = ?, metrics = ?, curves = ?,"
                " device = COALESCE(?, device), host = COALESCE(?, host), message = ?,"
                " train_seconds = ?, finished_at = ?, weights = COALESCE(?, weights)"
                " WHERE id = ?",
                (status, error, None if metrics is None else _dumps(metrics),
                 None if curves is None else _dumps(curves), device, host, message,
                 train_seconds, time.time(), weights, trial_id),
            )
            self._one(cur, trial_id)

    def set_weights(self, trial_id: int, rel_path: str | None) -> None:
        """Record (or clear) the kept weights file of a trial, relative to the run folder."""
        with self._tx() as c:
            cur = c.execute("UPDATE trials SET weights = ? WHERE id = ?", (rel_path, trial_id))
            self._one(cur, trial_id)

    def _one(self, cur: sqlite3.Cursor, trial_id: int) -> None:
        """StoreError (rolling the transaction back) when an update touched no trial."""
        if cur.rowcount != 1:
            raise StoreError(f"no trial with id {trial_id}", file=str(self.root))

    # -- analysis --------------------------------------------------------------------------
    def dataframe(self) -> Any:
        """All trials as a pandas DataFrame (values/hparams expanded as ``v.KEY`` / ``h.KEY``)."""
        import pandas as pd  # lazy: `nasx sample` must not pay for pandas

        rows = []
        for t in self.trials():
            row = t.as_row()
            for k, v in t.values.items():
                row[f"v.{k}"] = v
            for k, v in t.hparams.items():
                row[f"h.{k}"] = v
            rows.append(row)
        return pd.DataFrame(rows)


def _record(row: sqlite3.Row) -> TrialRecord:
    return TrialRecord(
        id=row["id"], origin=row["origin"], fingerprint=row["fingerprint"],
        values=json.loads(row["arch_values"]), hparams=json.loads(row["hparams"]),
        spec=json.loads(row["spec"]), flops=row["flops"], params=row["params"], acts=row["acts"],
        seed=row["seed"], status=row["status"], attempts=row["attempts"],
        recipe=_loads(row["recipe"]), error=row["error"], metrics=_loads(row["metrics"]),
        curves=_loads(row["curves"]), device=row["device"], host=row["host"],
        message=row["message"], weights=row["weights"], created_at=row["created_at"],
        started_at=row["started_at"], finished_at=row["finished_at"],
        train_seconds=row["train_seconds"],
    )
