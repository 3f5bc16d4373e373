"""A real run store and the kinds of damage a run folder can suffer (shared by store and CLI tests).

``CORRUPTIONS`` maps a name to ``(damage(run_folder), detectable)``: when ``detectable`` every
reader must end in a one-line StoreError; otherwise (random bytes SQLite may not notice) a reader
may also succeed, but never with another kind of exception.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.store import NewTrial, RunStore
from nasx.store.run_store import DB_NAME, SPACE_NAME
from nasx.train.recipe import Recipe

SPACE_TEXT = "name: tiny\nfamily: regnet\n"
N_TRIALS = 40
SPEC = ArchSpec(family="regnet", stem=StemSpec(width=8),
                stages=tuple(StageSpec(block="basic", depth=d, width=8 * d, stride=1)
                             for d in range(1, 5)),
                head=HeadSpec(num_classes=10))


def build_run(root: Path, n: int = N_TRIALS, name: str = "tiny") -> Path:
    """A closed run of ``n`` trials (3 of 4 done with metrics and curves): many pages on disk."""
    with RunStore.create(root, SPACE_TEXT, {"name": name, "family": "regnet"}) as s:
        s.add_trials(
            NewTrial(fingerprint=f"fp{i:04d}",
                     values={"depth": i % 9 + 1, "w0": 8 * (i % 5 + 1), "wm": 2.0 + i / 100},
                     spec=SPEC,
                     flops=1000 * i, params=10 * i, acts=i, seed=i)
            for i in range(1, n + 1)
        )
        for i in range(1, n + 1):
            if i % 4:
                s.mark_running(i, Recipe(epochs=2), device="cpu", host="h")
                s.finish(i, "done", error=50.0 - i / 2,
                         metrics={"val_error": 50.0 - i / 2, "test_error": 40.0 + i / 3},
                         curves=[{"epoch": e, "loss": 1 / (e + 1)} for e in range(20)],
                         train_seconds=1.0)
    return root


def _sql(*statements: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        conn = sqlite3.connect(run / DB_NAME)
        for sql in statements:
            conn.execute(sql)
        conn.commit()
        conn.close()
    return damage


def _bytes(fraction: float, data: bytes | None = None) -> Callable[[Path], None]:
    """Overwrite bytes in the middle of run.db: a whole page of 0xff, or 512 random bytes."""
    def damage(run: Path) -> None:
        db = run / DB_NAME
        size = db.stat().st_size
        page = 4096
        offset = int(size * fraction) // page * page if data is None else int(size * fraction)
        with db.open("r+b") as f:
            f.seek(offset)
            f.write(b"\xff" * page if data is None else data)
    return damage


def _truncate(keep: int | float) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        db = run / DB_NAME
        n = int(db.stat().st_size * keep) if isinstance(keep, float) else keep
        with db.open("r+b") as f:
            f.truncate(n)
    return damage


def _replace_db(content: bytes) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        (run / DB_NAME).write_bytes(content)
    return damage


def _foreign_db(run: Path) -> None:
    (run / DB_NAME).unlink()
    conn = sqlite3.connect(run / DB_NAME)
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.commit()
    conn.close()


def _db_is_folder(run: Path) -> None:
    (run / DB_NAME).unlink()
    (run / DB_NAME).mkdir()


def _drop_column(run: Path) -> None:
    _sql("ALTER TABLE trials DROP COLUMN weights")(run)


_RNG = random.Random(7)
_NOISE = bytes(_RNG.randrange(256) for _ in range(512))

CORRUPTIONS: dict[str, tuple[Callable[[Path], None], bool]] = {
    "empty-file": (_truncate(0), True),
    "short-header": (_truncate(50), True),
    "not-sqlite": (_replace_db(b"this is not sqlite\n" * 300), True),
    "truncated-half": (_truncate(0.5), True),
    "page-ff-30%": (_bytes(0.3), True),
    "page-ff-50%": (_bytes(0.5), True),
    "page-ff-80%": (_bytes(0.8), True),
    "noise-30%": (_bytes(0.3, _NOISE), False),
    "noise-50%": (_bytes(0.5, _NOISE), False),
    "noise-80%": (_bytes(0.8, _NOISE), False),
    "foreign-db": (_foreign_db, True),
    "missing-column": (_drop_column, True),
    "db-is-folder": (_db_is_folder, True),
    "json-invalid-values": (_sql("UPDATE trials SET arch_values = '{bad' WHERE id = 5"), True),
    "json-invalid-metrics": (_sql("UPDATE trials SET metrics = '[1,' WHERE id = 6"), True),
    "json-invalid-curves": (_sql("UPDATE trials SET curves = 'nan nan' WHERE id = 7"), True),
    "json-wrong-type": (_sql("UPDATE trials SET spec = '[1, 2]' WHERE id = 5"), True),
    "json-deep": (_sql("UPDATE trials SET hparams = '" + "[" * 100_000 + "' WHERE id = 5"), True),
    "json-blob": (_sql("UPDATE trials SET recipe = x'7b7d' WHERE id = 5"), True),
    "text-not-utf8": (_sql("UPDATE trials SET message = CAST(x'41ff1b5b33316d' AS TEXT)"
                           " WHERE id = 5"), True),
    "int-is-text": (_sql("UPDATE trials SET flops = 'many' WHERE id = 5"), True),
    "unknown-status": (_sql("PRAGMA ignore_check_constraints = ON",
                            "UPDATE trials SET status = 'zombie' WHERE id = 5"), True),
    "meta-invalid-json": (_sql("UPDATE meta SET value = '{' WHERE key = 'name'"), True),
    "schema-version-text": (_sql("UPDATE meta SET value = '\"one\"'"
                                 " WHERE key = 'schema_version'"), True),
}


def damaged_run(tmp: Path, kind: str, name: str = "run") -> Path:
    """A copy of a fresh run with ``kind`` of damage."""
    root = build_run(tmp / name)
    CORRUPTIONS[kind][0](root)
    return root


def copy_run(src: Path, dst: Path) -> Path:
    """A byte copy of a run folder."""
    shutil.copytree(src, dst)
    return dst


__all__ = ["CORRUPTIONS", "N_TRIALS", "SPACE_NAME", "SPACE_TEXT", "build_run", "copy_run",
           "damaged_run"]
