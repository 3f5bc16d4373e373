"""Crash safety: SIGKILL the driver mid-run, run it again: no trial lost, none trained twice."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from exec_helpers import HERE, events, fake_run, worker_env

from nasx.store import RunStore

pytestmark = pytest.mark.slow


def start_driver(run: Path, scratch: Path, executor: str) -> subprocess.Popen:
    cmd = [sys.executable, str(HERE / "exec_driver.py"), str(run), str(scratch), executor,
           "exec_fakes:ok_trial", "0.4"]
    # own session: after killing the driver we can also reap whatever it started (Ray)
    return subprocess.Popen(cmd, env=worker_env(), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def done_ids(run: Path) -> dict[int, int]:
    with RunStore.open(run) as store:
        return {t.id: t.attempts for t in store.trials("done")}


def mid_trial(run: Path) -> bool:
    """A few trials recorded and the next one in flight: the moment to kill the driver."""
    with RunStore.open(run) as store:
        counts = store.counts()
    return counts["done"] >= 3 and counts["running"] > 0


@pytest.mark.parametrize("executor", ["inline", "ray"])
def test_sigkill_driver_then_resume(tmp_path, scratch, executor):
    n = 8
    fake_run(tmp_path / "run", n).close()
    run = tmp_path / "run"
    proc = start_driver(run, scratch, executor)
    deadline = time.monotonic() + 240
    while not mid_trial(run):  # kill once a few trials are recorded, mid-trial
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "driver made no progress"
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with contextlib.suppress(ProcessLookupError):  # reap what the killed driver left behind
        os.killpg(proc.pid, signal.SIGKILL)
    before = done_ids(run)
    with RunStore.open(run) as store:
        left_running = [t.id for t in store.trials("running")]
    assert 3 <= len(before) < n and left_running  # really killed in the middle

    proc = start_driver(run, scratch, executor)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err

    after = done_ids(run)
    assert sorted(after) == list(range(1, n + 1))  # no trial lost
    for tid, attempts in before.items():  # finished before the kill: never trained again
        assert after[tid] == attempts == 1
        assert Counter(i for e, i in events(scratch) if e == "start")[tid] == 1
    starts = Counter(i for e, i in events(scratch) if e == "start")
    for tid in set(range(1, n + 1)) - set(before) - set(left_running):
        assert after[tid] == starts[tid] == 1  # not started before the kill: trained once
    for tid in left_running:
        # in flight when the driver died: lost and trained again (a worker of the dead driver
        # may still have finished it unrecorded; that work is wasted, never recorded twice)
        assert after[tid] == 2 and starts[tid] == 2
    db = sqlite3.connect(run / "run.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    weights = sorted(p.name for p in (run / "weights").iterdir())
    with RunStore.open(run) as store:  # the best 3 hold weights, named by the store, nothing else
        best = [i for _, i in sorted((t.error, t.id) for t in store.trials("done"))[:3]]
        named = {t.id: t.weights for t in store.trials() if t.weights}
    assert named == {i: f"weights/{i}.safetensors" for i in best}
    assert weights == sorted(f"{i}.safetensors" for i in best)
