"""The run store: one folder per run, one SQLite database (WAL) as the single source of truth.

Layout of ``runs/NAME/``::

    run.db          trials and run metadata (every state change is one transaction)
    space.yaml      a byte copy of the space file the run was sampled from
    weights/        safetensors files of the best trials (``weights/<id>.safetensors``)

Only the driver process writes; workers return results to it. No torch here. Trial types and
their rows: :mod:`nasx.store.records`; schema and SQLite's errors: :mod:`nasx.store.schema`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nasx.errors import StoreError, printable
from nasx.fsutil import fsync_file
from nasx.store.finished import Finished, finished_population, run_recipe_of
from nasx.store.records import (
    ORIGINS,
    STATUSES,
    NewTrial,
    Origin,
    TrialRecord,
    TrialStatus,
    decode_row,
    dumps,
    encode_new,
    encode_recipe,
    trials_frame,
)
from nasx.store.schema import (
    DB_NAME,
    SCHEMA,
    SCHEMA_VERSION,
    SPACE_NAME,
    TRIAL_COLUMNS,
    WEIGHTS_DIR,
    check_header,
    configure,
    connect,
    db_error,
    guarded,
    sqlite_text,
    upgrade,
)
from nasx.store.space_copy import SpaceCopy
from nasx.train.job import EpochRecord, Metrics
from nasx.train.recipe import Recipe
from nasx.types import JSONObject, JSONValue, Scalar

__all__ = ["DB_NAME", "ORIGINS", "SCHEMA_VERSION", "SPACE_NAME", "STATUSES", "WEIGHTS_DIR",
           "Finished", "NewTrial", "Origin", "RunStore", "TrialRecord", "TrialStatus",
           "trials_frame"]


class RunStore(SpaceCopy):
    """Access to one run folder. Create with :meth:`create`, open with :meth:`open`."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self._conn = conn
        self._space = None
        self._sync_on_close = False

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def exists(cls, root: str | Path) -> bool:
        """Whether ``root`` holds a run database."""
        return (Path(root) / DB_NAME).is_file()

    @classmethod
    def create(cls, root: str | Path, space_text: str, meta: JSONObject) -> RunStore:
        """Create a new run folder with its space copy and metadata (space_hash among meta)."""
        root = Path(root)
        if cls.exists(root):
            raise StoreError("a run already exists here", where=str(root))
        root.mkdir(parents=True, exist_ok=True)
        (root / SPACE_NAME).write_text(space_text, encoding="utf-8")
        conn = connect(root / DB_NAME)
        configure(conn, synchronous="OFF")  # written whole before anyone reads it: synced at close
        store = cls(root, conn)
        store._sync_on_close = True
        conn.executescript(SCHEMA)
        with store._tx() as c:
            rows = {"schema_version": SCHEMA_VERSION, "created_at": time.time(), **meta}
            c.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, dumps(v)) for k, v in rows.items()],
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
        check_header(db)
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(db, readonly=readonly)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            columns = {r[1] for r in conn.execute("PRAGMA table_info(trials)")}
            if not {"meta", "trials"} <= tables or not columns >= TRIAL_COLUMNS:
                conn.close()
                raise StoreError("not a nasx run database (tables or columns missing)",
                                 where=str(db))
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if not readonly:
                configure(conn)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise StoreError(f"not a readable nasx run database ({sqlite_text(exc)})",
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
        store = cls(root, conn)
        if version < SCHEMA_VERSION and not readonly:
            try:
                upgrade(conn, root)
            except BaseException:
                conn.close()
                raise
        return store

    def connection(self) -> sqlite3.Connection:
        """The SQLite connection, for the store modules beside this one (nasx.store.proxies)."""
        return self._conn

    def close(self) -> None:
        """Close the database connection (a store made by :meth:`create` syncs its file)."""
        self._conn.close()
        if self._sync_on_close:
            self._sync_on_close = False
            fsync_file(self.root / DB_NAME)

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
            raise db_error(self.root, exc) from exc
        try:
            yield self._conn
        except BaseException as exc:
            # SQLite may have rolled back already (after an I/O or corruption error)
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise db_error(self.root, exc) from exc
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise db_error(self.root, exc) from exc

    transaction = _tx  # public for the store modules beside this one: one IMMEDIATE transaction
    # -- metadata --------------------------------------------------------------------------
    @property
    def weights_dir(self) -> Path:
        """Folder of kept weights."""
        return self.root / WEIGHTS_DIR

    @guarded
    def meta(self) -> JSONObject:
        """All run metadata: an open key -> JSON value table (name, seed, recipe, refine, ...)."""
        out: JSONObject = {}
        for key, value in self._conn.execute("SELECT key, value FROM meta"):
            try:
                out[str(key)] = json.loads(value)
            except (ValueError, TypeError, RecursionError):
                raise StoreError(f"meta key '{printable(key, 40)}' is not valid JSON",
                                 where=str(self.root / DB_NAME)) from None
        return out

    def set_meta(self, **items: JSONValue) -> None:
        """Set metadata keys in one transaction."""
        with self._tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, dumps(v)) for k, v in items.items()],
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
                        " params, acts, seed, created_at, repeat_of, repeat_epochs)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        encode_new(t, now),
                    )
                except sqlite3.IntegrityError as exc:
                    why = (f"repeats trial {t.repeat_of}, which is not in the run"
                           if "FOREIGN KEY" in str(exc) else "is already in the run")
                    raise StoreError(f"trial with fingerprint {t.fingerprint} {why}",
                                     where=str(self.root)) from None
                ids.append(int(cur.lastrowid or 0))
        return ids

    @guarded
    def fingerprints(self) -> set[str]:
        """Fingerprints of every trial in the run (for de-duplication)."""
        return {r[0] for r in self._conn.execute("SELECT fingerprint FROM trials")}

    @guarded
    def get(self, trial_id: int) -> TrialRecord:
        """One trial by id; StoreError when unknown."""
        row = self._conn.execute("SELECT * FROM trials WHERE id = ?", (trial_id,)).fetchone()
        if row is None:
            raise StoreError(f"no trial with id {trial_id}", where=str(self.root))
        return decode_row(row, self.root)

    @guarded
    def trials(self, status: TrialStatus | str | Iterable[TrialStatus | str] | None = None
               ) -> list[TrialRecord]:
        """Trials in id order, optionally only those with the given status(es)."""
        if status is None:
            rows = self._conn.execute("SELECT * FROM trials ORDER BY id")
        else:
            wanted = [str(s) for s in ([status] if isinstance(status, str) else status)]
            marks = ",".join("?" * len(wanted))
            rows = self._conn.execute(
                f"SELECT * FROM trials WHERE status IN ({marks}) ORDER BY id", wanted
            )
        return [decode_row(r, self.root) for r in rows]

    @guarded
    def trials_of(self, origin: Origin) -> list[TrialRecord]:
        """Trials of one origin in id order (``nasx fidelity`` reads its retrains so)."""
        rows = self._conn.execute("SELECT * FROM trials WHERE origin = ? ORDER BY id",
                                  (str(origin),))
        return [decode_row(r, self.root) for r in rows]

    def finished(self, *, origins: Collection[Origin] | None = (Origin.SAMPLED,),
                 any_recipe: bool = False, stopped_early: bool = False,
                 recipe: Mapping[str, Scalar] | None = None) -> Finished:
        """The run's finished population (:func:`~nasx.store.finished.finished_population`).

        Done trials with a finite error of the run's recipe population, origin ``sampled``, not
        stopped early; each parameter widens one of those conditions for callers that need it.
        ``recipe``: the population of this recipe instead of the run's (refine with overrides).
        """
        return finished_population(self.trials(TrialStatus.DONE),
                                   self.run_recipe() if recipe is None else recipe,
                                   origins=origins, any_recipe=any_recipe,
                                   stopped_early=stopped_early)

    def run_recipe(self) -> dict[str, Scalar] | None:
        """The population recipe recorded in the run's meta (None before the first training)."""
        return run_recipe_of(self.meta())

    @guarded
    def counts(self) -> dict[str, int]:
        """Number of trials per status (every status present, zeros included)."""
        out = dict.fromkeys(STATUSES, 0)
        for r in self._conn.execute("SELECT status, COUNT(*) FROM trials GROUP BY status"):
            out[r[0]] = r[1]
        return out

    @guarded
    def size_range(self) -> tuple[int, tuple[int, int], tuple[int, int]]:
        """(trials, (min, max) flops, (min, max) params) of every trial; zeros when none."""
        n, f0, f1, p0, p1 = self._conn.execute(
            "SELECT COUNT(*), MIN(flops), MAX(flops), MIN(params), MAX(params) FROM trials"
        ).fetchone()
        return n, (f0 or 0, f1 or 0), (p0 or 0, p1 or 0)

    # -- transitions (each one transaction) ------------------------------------------------
    def requeue_stale(self) -> int:
        """Put trials left ``running`` by a dead driver back to ``pending``; returns how many."""
        with self._tx() as c:
            cur = c.execute(
                "UPDATE trials SET status = ?, started_at = NULL, curves = NULL WHERE status = ?",
                (TrialStatus.PENDING, TrialStatus.RUNNING),
            )
        return cur.rowcount

    def mark_running(self, trial_id: int, recipe: Recipe | None, device: str = "",
                     host: str | None = None) -> None:
        """pending -> running; counts an attempt and stores the resolved recipe.

        ``recipe`` None records none (``{}``: such a trial counts into any population).
        """
        with self._tx() as c:
            cur = c.execute(
                "UPDATE trials SET status = ?, attempts = attempts + 1, recipe = ?, curves = NULL,"
                " device = ?, host = ?, started_at = ? WHERE id = ? AND status = ?",
                (TrialStatus.RUNNING, encode_recipe(recipe), device,
                 host or socket.gethostname(), time.time(), trial_id, TrialStatus.PENDING),
            )
            if cur.rowcount != 1:
                raise StoreError(f"trial {trial_id} is not pending", where=str(self.root))

    def mark_pending(self, trial_id: int, message: str | None = None) -> None:
        """running -> pending (a retry after a lost worker)."""
        with self._tx() as c:
            cur = c.execute(
                "UPDATE trials SET status = ?, message = ?, curves = NULL WHERE id = ?",
                (TrialStatus.PENDING, message, trial_id),
            )
            self._one(cur, trial_id)

    def add_epoch(self, trial_id: int, record: EpochRecord) -> bool:
        """Append one epoch's record to a running trial's curve; False if it is not running.

        The curve so far is readable while the trial trains (``nasx ls``); a retry starts it anew.
        """
        with self._tx() as c:
            cur = c.execute("UPDATE trials SET curves = json_insert(COALESCE(curves, '[]'),"
                            " '$[#]', json(?)) WHERE id = ? AND status = ?",
                            (dumps(record), trial_id, TrialStatus.RUNNING))
        return cur.rowcount == 1

    def finish(self, trial_id: int, status: TrialStatus | str, *, error: float | None = None,
               metrics: Metrics | None = None, curves: list[EpochRecord] | None = None,
               device: str | None = None, host: str | None = None,
               message: str | None = None, train_seconds: float | None = None,
               weights: str | None = None) -> None:
        """running -> done | failed | diverged, with the trial's measurements.

        ``weights`` (relative to the run folder) is recorded in the same transaction, so a done
        trial that earned weights is never seen without them; None leaves the column as it is.
        """
        if status not in TrialStatus.final():
            raise ValueError(f"finish() takes a final status, got {status!r}")
        status = TrialStatus(status)
        with self._tx() as c:
            cur = c.execute(
                "UPDATE trials SET status = ?, error = ?, metrics = ?, curves = ?,"
                " device = COALESCE(?, device), host = COALESCE(?, host), message = ?,"
                " train_seconds = ?, finished_at = ?, weights = COALESCE(?, weights)"
                " WHERE id = ?",
                (status, error, None if metrics is None else dumps(metrics),
                 None if curves is None else dumps(curves), device, host, message,
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
    def dataframe(self, trials: list[TrialRecord] | None = None) -> Any:
        """All trials (or ``trials``) as a pandas DataFrame: see :func:`trials_frame`."""
        return trials_frame(self.trials() if trials is None else trials)

