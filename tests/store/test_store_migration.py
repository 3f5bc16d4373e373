"""Schema migration: a run written by schema 1 (origin CHECK without 'fidelity', no repeat_of
column) or 2 (status CHECK without 'pruned') is read as it is read-only and migrated in one
transaction when opened for writing."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.errors import StoreError
from nasx.store import NewTrial, Origin, RunStore
from nasx.store.run_store import DB_NAME, SCHEMA_VERSION

SPEC = ArchSpec(family="regnet", stem=StemSpec(width=8),
                stages=(StageSpec(block="basic", depth=1, width=8, stride=1),),
                head=HeadSpec(num_classes=10))

# The trials table exactly as schema 1 (nasx before `nasx fidelity`) wrote it.
V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE trials (
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
CREATE INDEX trials_status ON trials (status);
"""


def old_run(root: Path, n: int = 3) -> Path:
    """A run folder whose database was written by schema 1: n trials, the first one done."""
    root.mkdir(parents=True)
    (root / "space.yaml").write_text("family: regnet\n")
    db = sqlite3.connect(root / DB_NAME)
    db.executescript(V1_SCHEMA)
    db.executemany("INSERT INTO meta VALUES (?, ?)",
                   [("schema_version", "1"), ("name", json.dumps("old"))])
    spec = json.dumps(SPEC.to_dict())
    for i in range(1, n + 1):
        db.execute("INSERT INTO trials (origin, fingerprint, arch_values, spec, flops, params,"
                   " acts, seed, created_at) VALUES ('sampled', ?, ?, ?, ?, 1, 1, ?, ?)",
                   (f"fp{i}", json.dumps({"i": i}), spec, 10 * i, i, time.time()))
    db.execute("UPDATE trials SET status = 'done', error = 12.5, recipe = '{}' WHERE id = 1")
    db.commit()
    db.close()
    return root


def _repeat(of: int, fp: str = "fp1:seed=9") -> NewTrial:
    return NewTrial(fingerprint=fp, values={"i": of}, spec=SPEC, flops=10, params=1, acts=1,
                    seed=9, origin=Origin.FIDELITY, repeat_of=of)


def _version(root: Path) -> int:
    db = sqlite3.connect(root / DB_NAME)
    try:
        return int(db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
    finally:
        db.close()


def test_readonly_open_reads_an_old_run_without_migrating(tmp_path):
    root = old_run(tmp_path / "run")
    with RunStore.open(root, readonly=True) as store:
        trials = store.trials()
        assert [t.id for t in trials] == [1, 2, 3]
        assert all(t.repeat_of is None and t.repeat_epochs is None for t in trials)
        assert [t.id for t in store.finished().trials] == [1]
    assert _version(root) == 1


def test_open_for_writing_migrates_once_keeping_every_trial(tmp_path):
    root = old_run(tmp_path / "run")
    before = sqlite3.connect(root / DB_NAME).execute(
        "SELECT id, origin, fingerprint, status, error, seed FROM trials ORDER BY id").fetchall()
    with RunStore.open(root) as store:
        assert store.meta()["schema_version"] == SCHEMA_VERSION == 3
        # the widened CHECK takes a fidelity trial, linked to the trial it repeats
        (tid,) = store.add_trials([_repeat(1)])
        t = store.get(tid)
        assert (t.origin, t.repeat_of, t.repeat_epochs) == (Origin.FIDELITY, 1, None)
    db = sqlite3.connect(root / DB_NAME)
    after = db.execute("SELECT id, origin, fingerprint, status, error, seed FROM trials"
                       " WHERE id <= 3 ORDER BY id").fetchall()
    assert after == before
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'trials_v%'").fetchall() == []
    index = db.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='trials'")
    assert ("trials_status",) in index.fetchall()
    db.close()
    with RunStore.open(root) as store:  # a second open has nothing to do
        assert len(store.trials()) == 4 and _version(root) == 3


def test_an_old_run_refuses_a_fidelity_trial_until_migrated(tmp_path):
    root = old_run(tmp_path / "run")
    db = sqlite3.connect(root / DB_NAME)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("INSERT INTO trials (origin, fingerprint, arch_values, spec, flops, params,"
                   " acts, seed, created_at) VALUES ('fidelity', 'x', '{}', '{}', 1, 1, 1, 1, 0)")
    db.close()


def test_migration_is_one_transaction(tmp_path, monkeypatch):
    """A failure in the middle of the rebuild leaves the old run exactly as it was."""
    from nasx.store import schema

    root = old_run(tmp_path / "run")
    rebuild = schema._rebuild
    monkeypatch.setattr(schema, "_rebuild", lambda cols: (*rebuild(cols)[:3], "THIS IS NOT SQL"))
    with pytest.raises(StoreError):
        RunStore.open(root)
    assert _version(root) == 1
    with RunStore.open(root, readonly=True) as store:
        assert [t.fingerprint for t in store.trials()] == ["fp1", "fp2", "fp3"]
    monkeypatch.undo()
    with RunStore.open(root) as store:
        assert _version(root) == 3 and len(store.trials()) == 3


def test_a_repeat_of_an_unknown_trial_is_refused(tmp_path):
    with RunStore.create(tmp_path / "run", "family: regnet\n", {"name": "r"}) as store:
        store.add_trials([NewTrial(fingerprint="fp1", values={}, spec=SPEC, flops=1, params=1,
                                   acts=1, seed=1)])
        with pytest.raises(StoreError, match="repeats trial 7, which is not in the run"):
            store.add_trials([_repeat(7)])
        with pytest.raises(StoreError, match="is already in the run"):
            store.add_trials([_repeat(1), _repeat(1)])
        assert len(store.trials()) == 1


def test_fidelity_trials_are_out_of_every_search_population(tmp_path):
    with RunStore.create(tmp_path / "run", "family: regnet\n", {"name": "r"}) as store:
        ids = store.add_trials([NewTrial(fingerprint="fp1", values={}, spec=SPEC, flops=1,
                                         params=1, acts=1, seed=1), _repeat(1)])
        for tid, err in zip(ids, (5.0, 4.0), strict=True):
            store.mark_running(tid, None)
            store.finish(tid, "done", error=err)
        assert [t.id for t in store.finished(origins=None, any_recipe=True).trials] == [1]
        assert [t.id for t in store.finished().trials] == [1]
        named = store.finished(origins=(Origin.FIDELITY,)).trials
        assert [(t.id, t.repeat_of) for t in named] == [(2, 1)]


def v2_run(root: Path) -> Path:
    """A run written by schema 2: schema 1's table plus 'fidelity' and the repeat columns."""
    old_run(root)
    db = sqlite3.connect(root / DB_NAME)
    ddl = V1_SCHEMA.split("CREATE TABLE trials (", 1)[1].split(");", 1)[0]
    ddl = ddl.replace("('sampled', 'refine')", "('sampled', 'refine', 'fidelity')")
    ddl += ",\n    repeat_of INTEGER REFERENCES trials (id),\n    repeat_epochs INTEGER\n"
    db.executescript(f"""CREATE TABLE t2 ({ddl});
        INSERT INTO t2 SELECT *, NULL, NULL FROM trials; DROP TABLE trials;
        ALTER TABLE t2 RENAME TO trials; CREATE INDEX trials_status ON trials (status);
        UPDATE meta SET value = '2' WHERE key = 'schema_version';""")
    db.execute("INSERT INTO trials (origin, fingerprint, arch_values, spec, flops, params, acts,"
               " seed, created_at, repeat_of) VALUES ('fidelity', 'fp1:s', '{}', ?, 1, 1, 1, 7, 0,"
               " 1)", (json.dumps(SPEC.to_dict()),))
    db.commit()
    db.close()
    return root


def test_a_schema_2_run_is_migrated_to_take_pruned_trials(tmp_path):
    root = v2_run(tmp_path / "run")
    raw = sqlite3.connect(root / DB_NAME)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        raw.execute("UPDATE trials SET status = 'pruned' WHERE id = 2")
    before = raw.execute("SELECT * FROM trials ORDER BY id").fetchall()
    raw.close()
    with RunStore.open(root) as store:
        assert _version(root) == 3
        store.mark_running(2, None)
        store.finish(2, "pruned", error=40.0)
        assert store.get(2).status == "pruned"
        assert store.get(4).repeat_of == 1  # the repeat columns came along
        assert store.counts()["pruned"] == 1
    db = sqlite3.connect(root / DB_NAME)
    after = db.execute("SELECT * FROM trials WHERE id != 2 ORDER BY id").fetchall()
    assert after == [r for r in before if r[0] != 2]
    db.close()
