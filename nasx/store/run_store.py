"""The run store: one folder per run, one SQLite database (WAL) as the single source of truth.

Layout of ``runs/NAME/``::

    run.db          trials and run metadata (every state change is one transaction)
    space.yaml      a byte copy of the space file the run was sampled from
    weights/        safetensors files of the best trials (``weights/<id>.safetensors``)

Only the driver process writes; workers return results to it. No torch here.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nasx.errors import StoreError, printable

DB_NAME = "run.db"
SPACE_NAME = "space.yaml"
WEIGHTS_DIR = "weights"
SCHEMA_VERSION = 1
STATUSES = ("pending", "running", "done", "failed", "diverged")
ORIGINS = ("sampled", "refine")
_MAGIC = b"SQLite format 3\x00"
# Columns the code reads; a database without one of them is not a nasx run (or a foreign one).
_TRIAL_COLUMNS = frozenset({
    "id", "origin", "fingerprint", "arch_values", "hparams", "spec", "flops", "params", "acts",
    "seed", "status", "attempts", "recipe", "error", "metrics", "curves", "device", "host",
    "message", "weights", "created_at", "started_at", "finished_at", "train_seconds",
})

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
    error: float | None  # validation top-1 error in percent (final epoch): what selection uses
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

    @property
    def val_error(self) -> float | None:
        """Validation top-1 error in percent (the ``error`` column): what every selection uses."""
        return self.error

    @property
    def test_error(self) -> float | None:
        """Test top-1 error in percent from the metrics (None when not measured)."""
        value = (self.metrics or {}).get("test_error")
        return float(value) if _is_number(value) else None

    def as_row(self) -> dict[str, Any]:
        """Flat dict for JSON output and DataFrames."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _sqlite_text(exc: sqlite3.Error) -> str:
    """SQLite's message, short: it quotes whole undecodable cells ("... with text '...'")."""
    text = " ".join(str(exc).split()).split(" with text '", 1)[0]
    return printable(text, 120)


def _db_error(root: Path, exc: sqlite3.Error) -> StoreError:
    """One short line for an SQLite failure."""
    text = _sqlite_text(exc)
    where = str(root / DB_NAME)
    if "locked" in text or "busy" in text:
        return StoreError(f"the run database is locked by another process ({text})", where=where)
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the run database cannot be written ({text})", where=where)
    return StoreError(f"corrupt or unreadable run database ({text})", where=where)


_F = TypeVar("_F", bound=Callable[..., Any])


def _guarded(method: _F) -> _F:
    """Turn SQLite errors raised by a store method into one-line StoreErrors."""

    @functools.wraps(method)
    def wrapper(self: RunStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise _db_error(self.root, exc) from exc

    return wrapper  # type: ignore[return-value]


def _check_header(db: Path) -> None:
    """StoreError unless ``db`` starts like an SQLite database: checked before SQLite opens it,
    because SQLite happily turns an empty (or missing) file into a fresh database."""
    try:
        with db.open("rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read the run database ({exc.strerror})", where=str(db)) from None
    if not head:
        raise StoreError("the run database is empty (0 bytes): not a nasx run", where=str(db))
    if not head.startswith(_MAGIC) or len(head) < 100:
        raise StoreError("not an SQLite database (bad header): not a nasx run", where=str(db))


class RunStore:
    """Access to one run folder. Create with :meth:`create`, open with :meth:`open`."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self._conn = conn

    # -- lifecycle -------------------------------------------------------------------------
    @staticmethod
    def _connect(db: Path, readonly: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(db, timeout=30.0, isolation_level=None)  # explicit transactions
        conn.row_factory = sqlite3.Row
        if readonly:
            # query_only refuses every change. Not URI mode=ro: a mode=ro connection cannot
            # remove the -wal/-shm files when it closes last, so every `ls` would leave them.
            conn.execute("PRAGMA query_only = ON")
        return conn

    @staticmethod
    def _configure(conn: sqlite3.Connection) -> None:
        """Pragmas of a writing connection (WAL: readers never block the driver)."""
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")

    @classmethod
    def exists(cls, root: str | Path) -> bool:
        """Whether ``root`` holds a run database."""
        return (Path(root) / DB_NAME).is_file()

    @classmethod
    def create(cls, root: str | Path, space_text: str, meta: dict[str, Any]) -> RunStore:
        """Create a new run folder with its space copy and metadata (space_hash among meta)."""
        root = Path(root)
        if cls.exists(root):
            raise StoreError("a run already exists here", where=str(root))
        root.mkdir(parents=True, exist_ok=True)
        (root / SPACE_NAME).write_text(space_text, encoding="utf-8")
        conn = cls._connect(root / DB_NAME)
        cls._configure(conn)
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
    def open(cls, root: str | Path, *, readonly: bool = False) -> RunStore:
        """Open an existing run; a one-line StoreError when there is none or it is not valid.

        Nothing is written before the folder is known to hold a nasx run (an empty ``run.db``
        stays empty); ``readonly`` connections (``ls``, ``describe``, ``report``) never write.
        """
        root = Path(root)
        db = root / DB_NAME
        if not db.exists():
            raise StoreError(f"no run here (expected {DB_NAME})", where=str(root))
        if not db.is_file():
            raise StoreError("the run database is not a file", where=str(db))
        _check_header(db)
        conn: sqlite3.Connection | None = None
        try:
            conn = cls._connect(db, readonly=readonly)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            columns = {r[1] for r in conn.execute("PRAGMA table_info(trials)")}
            if not {"meta", "trials"} <= tables or not columns >= _TRIAL_COLUMNS:
                conn.close()
                raise StoreError("not a nasx run database (tables or columns missing)",
                                 where=str(db))
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if not readonly:
                cls._configure(conn)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise StoreError(f"not a readable nasx run database ({_sqlite_text(exc)})",
                             where=str(db)) from exc
        try:
            version = json.loads(row[0]) if row else SCHEMA_VERSION
        except (ValueError, TypeError, RecursionError):
            version = None
        if not isinstance(version, int) or isinstance(version, bool):
            conn.close()
            raise StoreError("meta key 'schema_version' is not an integer", where=str(db))
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(
                f"run written by a newer nasx (schema {version} > {SCHEMA_VERSION})",
                where=str(root),
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
        """One IMMEDIATE transaction: all of it lands or none of it does.

        SQLite errors (corruption, a lock held too long, a read-only store) leave as StoreError.
        """
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _db_error(self.root, exc) from exc
        try:
            yield self._conn
        except BaseException as exc:
            # SQLite may have rolled back already (after an I/O or corruption error)
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _db_error(self.root, exc) from exc
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _db_error(self.root, exc) from exc

    # -- metadata --------------------------------------------------------------------------
    @property
    def space_path(self) -> Path:
        """The run's copy of its space file."""
        return self.root / SPACE_NAME

    def space_text(self, missing_ok: bool = False) -> str:
        """The run's copy of its space file as text; a one-line StoreError when unreadable.

        ``missing_ok``: an absent copy reads as "" instead of an error.
        """
        try:
            data = self.space_path.read_bytes()
        except FileNotFoundError:
            if missing_ok:
                return ""
            raise StoreError("the run's space copy is missing", where=str(self.space_path)) from None
        except OSError as exc:
            raise StoreError(f"cannot read the run's space copy ({exc.strerror})",
                             where=str(self.space_path)) from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StoreError(f"the run's space copy is not UTF-8 text (byte {exc.start})",
                             where=str(self.space_path)) from None

    @property
    def weights_dir(self) -> Path:
        """Folder of kept weights."""
        return self.root / WEIGHTS_DIR

    @_guarded
    def meta(self) -> dict[str, Any]:
        """All run metadata."""
        out: dict[str, Any] = {}
        for key, value in self._conn.execute("SELECT key, value FROM meta"):
            try:
                out[str(key)] = json.loads(value)
            except (ValueError, TypeError, RecursionError):
                raise StoreError(f"meta key '{printable(key, 40)}' is not valid JSON",
                                 where=str(self.root / DB_NAME)) from None
        return out

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
                        where=str(self.root),
                    ) from None
                ids.append(int(cur.lastrowid or 0))
        return ids

    @_guarded
    def fingerprints(self) -> set[str]:
        """Fingerprints of every trial in the run (for de-duplication)."""
        return {r[0] for r in self._conn.execute("SELECT fingerprint FROM trials")}

    @_guarded
    def get(self, trial_id: int) -> TrialRecord:
        """One trial by id; StoreError when unknown."""
        row = self._conn.execute("SELECT * FROM trials WHERE id = ?", (trial_id,)).fetchone()
        if row is None:
            raise StoreError(f"no trial with id {trial_id}", where=str(self.root))
        return _record(row, self.root)

    @_guarded
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
        return [_record(r, self.root) for r in rows]

    @_guarded
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
                raise StoreError(f"trial {trial_id} is not pending", where=str(self.root))

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
            raise StoreError(f"no trial with id {trial_id}", where=str(self.root))

    # -- analysis --------------------------------------------------------------------------
    @_guarded
    def dataframe(self) -> Any:
        """All trials as a pandas DataFrame (values/hparams expanded as ``v.KEY`` / ``h.KEY``).

        ``val_error`` repeats ``error`` (the validation error); ``test_error`` comes from the
        metrics (None when the trial has none).
        """
        import pandas as pd  # lazy: `nasx sample` must not pay for pandas

        rows = []
        for t in self.trials():
            row = t.as_row()
            row["val_error"], row["test_error"] = t.val_error, t.test_error
            for k, v in t.values.items():
                row[f"v.{k}"] = v
            for k, v in t.hparams.items():
                row[f"h.{k}"] = v
            rows.append(row)
        return pd.DataFrame(rows)


def _kind(value: object) -> str:
    return "NULL" if value is None else f"a {type(value).__name__} value"


def _record(row: sqlite3.Row, root: Path) -> TrialRecord:
    """Decode and type-check one trials row; a corrupt cell is a StoreError naming it."""
    d = dict(zip(row.keys(), tuple(row), strict=True))

    def bad(col: str, why: str) -> StoreError:
        return StoreError(f"trial {printable(d.get('id'), 20)}: column '{col}' {why}",
                          where=str(root / DB_NAME))

    for col in ("id", "flops", "params", "acts", "seed", "attempts"):
        if type(d[col]) is not int:
            raise bad(col, f"holds {_kind(d[col])}, expected an integer")
    for col in ("created_at", "error", "started_at", "finished_at", "train_seconds"):
        v = d[col]
        if not _is_number(v) and not (v is None and col != "created_at"):
            raise bad(col, f"holds {_kind(v)}, expected a number")
    for col in ("fingerprint", "device", "host", "message", "weights"):
        v = d[col]
        if not isinstance(v, str) and not (v is None and col != "fingerprint"):
            raise bad(col, f"holds {_kind(v)}, expected text")
    if d["status"] not in STATUSES:
        raise bad("status", f"holds an unknown status '{printable(d['status'], 20)}'")
    if d["origin"] not in ORIGINS:
        raise bad("origin", f"holds an unknown origin '{printable(d['origin'], 20)}'")
    decoded: dict[str, Any] = {}
    for col, kind, optional in (("arch_values", dict, False), ("hparams", dict, False),
                                ("spec", dict, False), ("recipe", dict, True),
                                ("metrics", dict, True), ("curves", list, True)):
        text = d[col]
        if text is None and optional:
            decoded[col] = None
            continue
        if not isinstance(text, str):
            raise bad(col, f"holds {_kind(text)}, expected JSON text")
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            why = printable(type(exc).__name__ if isinstance(exc, RecursionError) else exc, 80)
            raise bad(col, f"is not valid JSON ({why})") from None
        if not isinstance(value, kind):
            raise bad(col, f"holds JSON {_kind(value)}, expected a JSON "
                           f"{'object' if kind is dict else 'array'}")
        decoded[col] = value
    return TrialRecord(
        id=d["id"], origin=d["origin"], fingerprint=d["fingerprint"],
        values=decoded["arch_values"], hparams=decoded["hparams"], spec=decoded["spec"],
        flops=d["flops"], params=d["params"], acts=d["acts"], seed=d["seed"],
        status=d["status"], attempts=d["attempts"], recipe=decoded["recipe"],
        error=d["error"], metrics=decoded["metrics"], curves=decoded["curves"],
        device=d["device"], host=d["host"], message=d["message"], weights=d["weights"],
        created_at=d["created_at"], started_at=d["started_at"], finished_at=d["finished_at"],
        train_seconds=d["train_seconds"],
    )
