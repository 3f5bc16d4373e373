"""The Ray Tune executor on one local Ray shared by this module: reuse, worker deaths, retries."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from exec_helpers import events, fake_run

from nasx.execute import ExecOptions, train_run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_ray")]


def opts(scratch: Path, lr: float = 0.001, **kw: object) -> ExecOptions:
    return ExecOptions(executor="ray", progress=False,
                       overrides={"data_dir": str(scratch), "lr": lr}, **kw)


def test_trains_all_on_reused_workers(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 6)
    counts = train_run(store, opts(scratch, lr=0.05), trial_fn="exec_fakes:ok_trial")
    assert counts["done"] == 6
    trials = store.trials()
    assert all(t.attempts == 1 for t in trials)
    pids = {t.metrics["pid"] for t in trials}
    assert len(pids) <= 2  # 2 CPUs, 1 per trial: actors are reused, not one process per trial
    caches: dict[int, set[int]] = defaultdict(set)
    for t in trials:
        caches[t.metrics["pid"]].add(t.metrics["cache_id"])
    assert all(len(c) == 1 for c in caches.values())  # the DataCache stays in the worker
    assert sorted(t.id for t in trials if t.weights) == [2, 3, 6]  # errors 5, 2, 3 (K=3)
    assert sorted(p.name for p in store.weights_dir.iterdir()) == [
        "2.safetensors", "3.safetensors", "6.safetensors"]
    assert not (store.root / "ray").exists()  # Tune's scratch folder is cleaned up
    assert all(t.metrics["ray_node"] for t in trials)


def test_killed_worker_is_retried(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 3)
    counts = train_run(store, opts(scratch, max_failures=2), trial_fn="exec_fakes:kill_once_trial")
    assert counts["done"] == 3
    assert {t.id: t.attempts for t in store.trials()} == {1: 1, 2: 2, 3: 1}
    ev = events(scratch)
    assert [i for e, i in ev if e == "kill"] == [2]
    assert sorted(i for e, i in ev if e == "end") == [1, 2, 3]  # each finished exactly once


def test_killed_worker_out_of_retries_fails(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 2)
    counts = train_run(store, opts(scratch, max_failures=0), trial_fn="exec_fakes:kill_once_trial")
    assert (counts["done"], counts["failed"]) == (1, 1)
    failed = store.get(2)
    assert failed.status == "failed" and failed.attempts == 1
    assert "worker failed" in failed.message
