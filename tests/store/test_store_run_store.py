"""RunStore: creation, WAL mode, trials, transitions, metadata, DataFrame, bad folders."""

from __future__ import annotations

import sqlite3

import pytest

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.errors import StoreError
from nasx.store import NewTrial, RunStore
from nasx.store.run_store import DB_NAME, SCHEMA_VERSION
from nasx.train.recipe import Recipe

SPEC = ArchSpec(family="regnet", stem=StemSpec(width=8),
                stages=(StageSpec(block="basic", depth=1, width=8, stride=1),),
                head=HeadSpec(num_classes=10))


def _trial(i: int, **kw) -> NewTrial:
    return NewTrial(
        fingerprint=f"fp{i:04d}", values={"depth": i, "wm": 2.5}, spec=SPEC,
        flops=1000 * i, params=10 * i, acts=i, seed=100 + i, **kw,
    )


@pytest.fixture
def store(tmp_path):
    s = RunStore.create(tmp_path / "run", "family: regnet\n", {"name": "r", "seed": 3})
    yield s
    s.close()


def test_create_writes_space_copy_meta_and_wal(store, tmp_path):
    root = tmp_path / "run"
    assert (root / "space.yaml").read_text() == "family: regnet\n"
    assert store.space_path == root / "space.yaml"
    meta = store.meta()
    assert meta["name"] == "r" and meta["seed"] == 3
    assert meta["schema_version"] == SCHEMA_VERSION
    mode = sqlite3.connect(root / DB_NAME).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    with pytest.raises(StoreError, match="a run already exists here"):
        RunStore.create(root, "x", {})


def test_add_trials_and_read_back(store):
    ids = store.add_trials([_trial(1), _trial(2, hparams={"lr": 0.1}, origin="refine")])
    assert ids == [1, 2]
    t = store.get(2)
    assert (t.origin, t.values, t.hparams, t.flops, t.seed, t.status, t.attempts) == (
        "refine", {"depth": 2, "wm": 2.5}, {"lr": 0.1}, 2000, 102, "pending", 0)
    assert store.fingerprints() == {"fp0001", "fp0002"}
    assert store.counts() == {"pending": 2, "running": 0, "done": 0, "failed": 0, "diverged": 0,
                              "pruned": 0}
    with pytest.raises(StoreError, match="no trial with id 9"):
        store.get(9)


def test_duplicates_roll_back_the_whole_batch(store):
    store.add_trials([_trial(1)])
    with pytest.raises(StoreError, match="fingerprint fp0001 is already in the run"):
        store.add_trials([_trial(2), _trial(1)])
    assert [t.id for t in store.trials()] == [1]


def test_transitions(store):
    store.add_trials([_trial(i) for i in range(1, 5)])
    store.mark_running(1, Recipe(epochs=1), device="cpu", host="h")
    with pytest.raises(StoreError, match="trial 1 is not pending"):
        store.mark_running(1, Recipe(epochs=1))
    store.finish(1, "done", error=12.5, metrics={"top1": 12.5}, curves=[{"epoch": 1}],
                 train_seconds=3.0)
    t = store.get(1)
    assert (t.status, t.error, t.metrics, t.curves, t.attempts, t.recipe, t.device) == (
        "done", 12.5, {"top1": 12.5}, [{"epoch": 1}], 1, Recipe(epochs=1), "cpu")
    store.mark_running(2, None)
    store.finish(2, "diverged", message="loss is nan")
    store.mark_running(3, None)
    store.mark_pending(3, "worker lost")
    assert store.get(3).status == "pending" and store.get(3).message == "worker lost"
    store.mark_running(3, None)
    store.mark_running(4, None)
    assert store.requeue_stale() == 2  # 3 and 4 were left running
    assert store.counts() == {"pending": 2, "running": 0, "done": 1, "failed": 0, "diverged": 1,
                              "pruned": 0}
    assert [t.id for t in store.trials(status=("done", "diverged"))] == [1, 2]
    assert store.get(3).attempts == 2
    with pytest.raises(ValueError):
        store.finish(3, "pending")
    for call in (lambda: store.finish(99, "failed"), lambda: store.mark_pending(99),
                 lambda: store.set_weights(99, "w.safetensors")):
        with pytest.raises(StoreError, match="no trial with id 99"):
            call()


def test_weights_and_meta(store):
    store.add_trials([_trial(1)])
    store.set_weights(1, "weights/1.safetensors")
    assert store.get(1).weights == "weights/1.safetensors"
    store.set_weights(1, None)
    assert store.get(1).weights is None
    store.set_meta(note="hello", n=5)
    assert store.meta()["note"] == "hello" and store.meta()["n"] == 5


def test_dataframe_expands_values_and_hparams(store):
    store.add_trials([_trial(1, hparams={"lr": 0.2}), _trial(2)])
    df = store.dataframe()
    assert list(df["id"]) == [1, 2]
    assert list(df["v.depth"]) == [1, 2] and df["h.lr"].iloc[0] == 0.2
    assert {"status", "flops", "error", "origin"} <= set(df.columns)


def test_reopen_sees_everything(store, tmp_path):
    store.add_trials([_trial(1)])
    store.close()
    with RunStore.open(tmp_path / "run") as again:
        assert again.get(1).fingerprint == "fp0001"


def test_open_errors(tmp_path):
    with pytest.raises(StoreError, match="no run here"):
        RunStore.open(tmp_path)
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not an SQLite database"):
        RunStore.open(tmp_path)


def test_newer_schema_is_refused(tmp_path):
    with RunStore.create(tmp_path / "run", "", {}) as s:
        s.set_meta(schema_version=SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="newer nasx"):
        RunStore.open(tmp_path / "run")


def test_epochs_of_a_running_trial_are_readable_and_a_retry_starts_anew(tmp_path):
    """add_epoch appends to a running trial's curve only; a retry or a requeue clears it."""
    with RunStore.create(tmp_path / "run", "family: regnet\n", {"name": "r"}) as store:
        (tid,) = store.add_trials([_trial(9)])
        assert store.add_epoch(tid, {"epoch": 1}) is False  # pending: nothing written
        store.mark_running(tid, None)
        assert store.add_epoch(tid, {"epoch": 1, "val_error": 50.0}) is True
        assert store.add_epoch(tid, {"epoch": 2, "val_error": 40.0}) is True
        assert [r["epoch"] for r in store.get(tid).curves] == [1, 2]
        store.mark_pending(tid, "worker lost")
        assert store.get(tid).curves is None
        store.mark_running(tid, None)
        store.add_epoch(tid, {"epoch": 1, "val_error": 50.0})
        assert store.requeue_stale() == 1 and store.get(tid).curves is None
        store.mark_running(tid, None)
        store.add_epoch(tid, {"epoch": 1, "val_error": 50.0})
        store.finish(tid, "pruned", error=50.0, curves=[{"epoch": 1, "val_error": 50.0}])
        assert store.add_epoch(tid, {"epoch": 2}) is False
        t = store.get(tid)
        assert t.status == "pruned" and [r["epoch"] for r in t.curves] == [1]
