"""The Ray Tune executor on one local Ray shared by this module: reuse, worker deaths, retries,
what a trial records of how it ran, and Ctrl-C of a `nasx run` (its own Ray, in a subprocess)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from exec_helpers import SPACE, events, fake_run, worker_env

from nasx.execute import ExecOptions, train_run
from nasx.execute.worker import trial_threads
from nasx.store import RunStore
from nasx.train.recipe import Recipe

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


def test_fatal_cuda_error_retires_the_worker(tmp_path, scratch):
    """A trial whose CUDA context is poisoned raises out of the trainable: Tune retires that actor
    (an errored trial's actor is never reused) and retries the trial on a fresh one."""
    store = fake_run(tmp_path / "run", 4)
    counts = train_run(store, opts(scratch, lr=0.05, max_failures=2),
                       trial_fn="exec_fakes:cuda_fatal_once_trial")
    assert counts["done"] == 4
    assert {t.id: t.attempts for t in store.trials()}[2] == 2
    lines = [line.split() for line in (scratch / "events.log").read_text().splitlines()]
    at = next(i for i, (event, _, _) in enumerate(lines) if event == "fatal")
    poisoned = lines[at][2]
    assert all(pid != poisoned for _, _, pid in lines[at + 1:])  # no trial ran there again


def test_killed_worker_out_of_retries_fails(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 2)
    counts = train_run(store, opts(scratch, max_failures=0), trial_fn="exec_fakes:kill_once_trial")
    assert (counts["done"], counts["failed"]) == (1, 1)
    failed = store.get(2)
    assert failed.status == "failed" and failed.attempts == 1
    assert "worker failed" in failed.message


def test_trials_record_seed_threads_and_executor(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 2)
    assert train_run(store, opts(scratch), trial_fn="exec_fakes:ok_trial")["done"] == 2
    for t in store.trials():
        # 1 CPU per trial: Ray sets OMP_NUM_THREADS=1 in the worker, which the resolution reads
        assert (t.metrics["seed"], t.metrics["threads"], t.metrics["executor"]) == (
            t.seed, 1, "ray")
    inline = fake_run(tmp_path / "inline", 2)
    inline_opts = ExecOptions(executor="inline", progress=False,
                              overrides={"data_dir": str(scratch), "lr": 0.001, "threads": 3})
    assert train_run(inline, inline_opts, trial_fn="exec_fakes:ok_trial")["done"] == 2
    assert [(t.metrics["seed"], t.metrics["threads"], t.metrics["executor"])
            for t in inline.trials()] == [(0, 3, "inline"), (1, 3, "inline")]


@pytest.mark.parametrize(("recipe", "env", "default", "expected"), [
    ({"threads": 3}, {"NASX_THREADS": "2", "OMP_NUM_THREADS": "4"}, 1, 3),  # the recipe wins
    ({"threads": 0}, {"NASX_THREADS": "2", "OMP_NUM_THREADS": "4"}, 1, 2),
    ({}, {"OMP_NUM_THREADS": "4"}, 1, 4),  # what Ray sets in a worker
    ({"threads": 0}, {}, 1, 1),  # the executor's default
    ({"threads": 0}, {}, 2, 2),
    ({"threads": 0}, {"NASX_THREADS": "many"}, 1, None),  # left to the trainer to report
    ({"threads": 0}, {"NASX_THREADS": "0"}, 1, None),
])
def test_trial_threads_resolution(recipe, env, default, expected):
    assert trial_threads(Recipe(**recipe), default, env) == expected


def _running(run: Path) -> int:
    db = sqlite3.connect(f"file:{run / 'run.db'}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute("SELECT count(*) FROM trials WHERE status = 'running'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        db.close()


def test_ctrl_c_interrupts_a_ray_run(tmp_path):
    """SIGINT once a trial runs: "interrupted" on stderr, exit 130, no summary, no Ray left."""
    run = tmp_path / "run"
    env = worker_env()
    env.pop("OMP_NUM_THREADS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasx", "run", str(SPACE), "--n", "4", "--epochs", "2",
         "--out", str(run), "--executor", "ray", "--no-progress", "--threads", "1"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not (run / "run.db").exists() or not _running(run):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no trial started"
            time.sleep(0.1)
        ray_pids = _children(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does: the whole foreground group
        out, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1] == "nasx run: interrupted"
    assert "done of" not in out  # no summary of a run that did not end
    with RunStore.open(run) as store:
        assert {t.status for t in store.trials()} <= {"pending", "running", "done"}
    assert ray_pids
    deadline = time.monotonic() + 30
    while [p for p in ray_pids if _alive(p)]:  # Ray went down with the driver
        assert time.monotonic() < deadline, [p for p in ray_pids if _alive(p)]
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Ray's gcs_server, raylet, ... for a driver)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited
