"""Pruned refinement on both executors: ASHA on Ray, the Optuna study and the store agree, and a
driver killed in the middle of a pruned refine loses nothing (issue 14)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_refine_study import _optuna_cli

from nasx.store import RunStore

SPACE = Path(__file__).with_name("anynet_tiny.yaml")
EPOCHS = 4
STATE = {"pruned": "PRUNED", "done": "COMPLETE", "failed": "FAIL", "diverged": "FAIL"}


def _nasx(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    return subprocess.run([sys.executable, "-m", "nasx", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 models of the tiny digits space trained for 4 epochs: the population refine starts from."""
    root = tmp_path_factory.mktemp("prune")
    done = _nasx("run", str(SPACE), "--n", "6", "--epochs", str(EPOCHS), "--executor", "inline",
                 "--keep-weights", "0", "--no-progress", "--out", str(root / "run"), cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "run"


def _copy(population: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(population, run)
    return run


def _study_states(run: Path) -> dict[int, str]:
    """nasx id -> Optuna state of every study trial that names a store trial, via Optuna's CLI."""
    storage = f"sqlite:///{(run / 'optuna.db').resolve()}"
    studies = json.loads(_optuna_cli("studies", "--storage", storage, "-f", "json"))
    (name,) = [s["name"] for s in studies]
    rows = json.loads(_optuna_cli("trials", "--study-name", name, "--storage", storage,
                                  "-f", "json"))
    out = {}
    for r in rows:
        nasx_id = r.get("user_attrs", {}).get("nasx_id")
        if nasx_id is not None and not r["user_attrs"].get("nasx_warm_start"):
            out[int(nasx_id)] = r["state"]
    return out


def _refine_trials(run: Path) -> dict[int, tuple[str, int, float | None, int]]:
    """id -> (status, attempts, finished_at, epochs stored) of every refine trial."""
    with RunStore.open(run, readonly=True) as store:
        return {t.id: (str(t.status), t.attempts, t.finished_at, len(t.curves or []))
                for t in store.trials() if t.origin == "refine"}


def test_asha_on_ray_prunes_and_the_study_agrees_with_the_store(population, tmp_path):
    run = _copy(population, tmp_path)
    done = _nasx("refine", str(run), "--trials", "12", "--prune", "asha", "--executor", "ray",
                 "--batch", "4", "--no-progress", "--keep-weights", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    trials = _refine_trials(run)
    assert len(trials) == 12
    statuses = [s for s, *_ in trials.values()]
    assert "pruned" in statuses and set(statuses) <= {"done", "pruned"}
    assert all(n < EPOCHS for s, _, _, n in trials.values() if s == "pruned")
    assert all(n == EPOCHS for s, _, _, n in trials.values() if s == "done")
    assert _study_states(run) == {i: STATE[s] for i, (s, *_) in trials.items()}
    assert f"pruned {statuses.count('pruned')})" in done.stdout


def _wait_for(run: Path, ready, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            db = sqlite3.connect(f"file:{run / 'run.db'}?mode=ro", uri=True, timeout=30)
            rows = db.execute("SELECT status FROM trials WHERE origin = 'refine'").fetchall()
            db.close()
        except sqlite3.OperationalError:
            rows = []
        if ready([r[0] for r in rows]):
            return
        time.sleep(0.05)
    raise AssertionError("the refine never reached the state to kill it in")


def test_a_killed_pruned_refine_resumes_without_losing_or_repeating_trials(population, tmp_path):
    run = _copy(population, tmp_path)
    cmd = [sys.executable, "-m", "nasx", "refine", str(run), "--trials", "8", "--prune", "asha",
           "--executor", "inline", "--no-progress", "--keep-weights", "0"]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:  # kill once a trial was pruned and the next one is training
        _wait_for(run, lambda s: "pruned" in s and "running" in s)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    before = _refine_trials(run)
    in_flight = {i for i, (s, *_) in before.items() if s not in STATE}
    assert in_flight
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr
    assert "resumed" in again.stdout
    after = _refine_trials(run)
    # nothing lost: every trial of both calls is final, 8 new ones on top of the first call's
    assert all(s in STATE for s, *_ in after.values())
    assert len(after) == len(before) + 8
    # nothing trained twice: what had ended is untouched; only the trial in flight ran again
    for i, row in before.items():
        if i not in in_flight:
            assert after[i] == row
        else:
            assert after[i][1] == row[1] + 1
    assert all(a == 1 for i, (_, a, _, _) in after.items() if i not in in_flight)
    assert _study_states(run) == {i: STATE[s] for i, (s, *_) in after.items()}
