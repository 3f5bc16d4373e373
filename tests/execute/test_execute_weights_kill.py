"""Weights survive a SIGKILL of the driver right around the moment a trial turns done.

A real driver process (``exec_driver.py``, inline executor, fake trial function) is killed
several times, each time inside the widened window just before or just after the transaction that
marks a trial done; every time it is resumed. The best K trials must end up holding their weights:
files on disk, named by the store, nothing else in the weights folder.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from exec_helpers import HERE, events, fake_run, worker_env

from nasx.store import RunStore

N, KEEP = 8, 3  # fake errors of trials 1..8: 8, 5, 2, 9, 6, 3, 10, 7 -> best 3 are 3, 6, 2
BEST = {3, 6, 2}
PAUSE = 0.4  # seconds of sleep beside each finish transaction: the window the test kills in


def start(run: Path, scratch: Path, where: str) -> subprocess.Popen:
    cmd = [sys.executable, str(HERE / "exec_driver.py"), str(run), str(scratch), "inline",
           "exec_fakes:ok_trial", "0.02", str(PAUSE), where]
    return subprocess.Popen(cmd, env=worker_env(), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def done(run: Path) -> int:
    with RunStore.open(run) as store:
        return store.counts()["done"]


def ends(scratch: Path) -> int:
    return sum(1 for e, _ in events(scratch) if e == "end")


def best_hold_weights(run: Path) -> None:
    """The best min(K, #done) done trials name a weights file that exists with their bytes."""
    with RunStore.open(run) as store:
        ranked = sorted((t.error, t.id, t.weights) for t in store.trials("done"))
        for _, tid, rel in ranked[:KEEP]:
            assert rel == f"weights/{tid}.safetensors", (tid, ranked)
            assert (store.root / rel).read_bytes() == f"weights of {tid}".encode()


@pytest.mark.parametrize("where", ["after", "before"])
def test_sigkill_around_done_then_resume_keeps_the_best_weights(tmp_path, scratch, where):
    run = tmp_path / "run"
    fake_run(run, N).close()
    kills = 0
    for session in range(6):
        # session k is killed at its (k+1)-th event, so each one gets further than the last
        base = done(run) if where == "after" else ends(scratch)
        proc = start(run, scratch, where)
        deadline = time.monotonic() + 60
        while proc.poll() is None:
            now = done(run) if where == "after" else ends(scratch)
            if now >= base + session + 1:
                os.kill(proc.pid, signal.SIGKILL)  # inside the PAUSE window of that finish
                break
            assert time.monotonic() < deadline, "driver made no progress"
            time.sleep(0.02)
        out, err = proc.communicate(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, err
        kills += 1
        best_hold_weights(run)  # the invariant holds at every kill, not only at the end
    assert kills >= 3 and proc.returncode == 0, (kills, err)

    with RunStore.open(run) as store:
        assert store.counts()["done"] == N
        named = {t.id: t.weights for t in store.trials() if t.weights}
        assert named == {i: f"weights/{i}.safetensors" for i in BEST}
        files = sorted(p.name for p in store.weights_dir.iterdir())
        assert files == sorted(f"{i}.safetensors" for i in BEST)  # no temp file, no orphan
    best_hold_weights(run)
