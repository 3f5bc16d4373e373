"""Epoch-level execution: each epoch reaches the store while its trial runs, and a pruner stops
trials the same way on both executors (issue 14)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import exec_fakes
import pytest
from exec_helpers import HERE, SPACE, fake_run, worker_env

from nasx.errors import TrainError
from nasx.execute import ExecOptions, train_run
from nasx.store import RunStore, TrialStatus

EPOCHS = 5  # the demo space's recipe


class ThresholdPruner:
    """Stops a trial whose validation error is above 45% from epoch 2 on (deterministic)."""

    name = "threshold"

    def __init__(self) -> None:
        self.reports: list[tuple[int, int, float]] = []
        self.ends: dict[int, tuple[str, float | None]] = {}

    def report(self, trial_id: int, epoch: int, value: float) -> bool:
        self.reports.append((trial_id, epoch, value))
        return epoch >= 2 and value > 45.0

    def ended(self, trial_id: int, status: TrialStatus, error: float | None) -> None:
        self.ends[trial_id] = (str(status), error)


def _stored(run: Path) -> list[tuple[int, str, float | None, list[int], int | None]]:
    with RunStore.open(run, readonly=True) as store:
        return [(t.id, str(t.status), t.error, [r["epoch"] for r in t.curves or []],
                 (t.metrics or {}).get("epochs")) for t in store.trials()]


def _opts(executor: str, scratch: Path, **kw) -> ExecOptions:
    return ExecOptions(executor=executor, progress=False, keep_weights=0,
                       overrides={"data_dir": str(scratch), "lr": 0.001}, **kw)


@pytest.mark.parametrize("executor", ["inline", "ray"])
def test_pruning_is_the_same_on_both_executors(tmp_path, scratch, executor, request):
    if executor == "ray":
        request.getfixturevalue("local_ray")
    store = fake_run(tmp_path / "run", 10)
    pruner = ThresholdPruner()
    counts = train_run(store, _opts(executor, scratch, force_prune=True),
                       trial_fn=exec_fakes.curve_trial, pruner=pruner)
    store.close()
    # ids with id % 5 >= 3 have val_error 10 * (id % 5) + 20 > 45 at epoch 2: pruned there
    worse = [i for i in range(1, 11) if i % 5 >= 3]
    assert counts["pruned"] == len(worse) and counts["done"] == 10 - len(worse)
    rows = _stored(tmp_path / "run")
    for tid, status, error, epochs, n in rows:
        if tid in worse:
            assert (status, epochs, n) == ("pruned", [1, 2], 2)
            assert error == pytest.approx(10.0 * (tid % 5) + 20.0)  # the last validated epoch
        else:
            assert (status, epochs) == ("done", list(range(1, EPOCHS + 1)))
        assert pruner.ends[tid] == (status, error)
    # every validated epoch was reported once, in order, per trial
    for tid, _, _, epochs, _ in rows:
        assert [e for t, e, _ in pruner.reports if t == tid] == epochs


def test_pruning_a_sampled_population_needs_force(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 3)
    with pytest.raises(TrainError, match="sampled population.*--force-prune"):
        train_run(store, _opts("inline", scratch), trial_fn=exec_fakes.curve_trial,
                  pruner=ThresholdPruner())
    assert store.counts()["pending"] == 3  # nothing changed
    store.close()


def test_without_a_pruner_every_epoch_is_stored_and_the_trial_completes(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 4)
    train_run(store, _opts("inline", scratch), trial_fn=exec_fakes.curve_trial)
    store.close()
    assert [(s, e) for _, s, _, e, _ in _stored(tmp_path / "run")] == [
        ("done", list(range(1, EPOCHS + 1)))] * 4


def _running_curve(run: Path) -> list[int] | None:
    """Epochs stored so far of a trial that is still running (None if none is)."""
    db = sqlite3.connect(f"file:{run / 'run.db'}?mode=ro", uri=True, timeout=30)
    try:
        row = db.execute("SELECT curves FROM trials WHERE status = 'running'"
                         " AND curves IS NOT NULL").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return [r["epoch"] for r in json.loads(row[0])] if row else None


@pytest.mark.parametrize("executor", ["inline", "ray"])
def test_a_running_trials_epochs_are_in_the_store_before_it_ends(tmp_path, scratch, executor):
    """A real driver process trains 0.4 s epochs; the test polls the store while it runs."""
    run = tmp_path / "run"
    fake_run(run, 2).close()
    cmd = [sys.executable, str(HERE / "exec_driver.py"), str(run), str(scratch), executor,
           "exec_fakes:curve_trial", "0.4"]
    proc = subprocess.Popen(cmd, env=worker_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen: list[list[int]] = []
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        curve = _running_curve(run)
        if curve:
            seen.append(curve)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    partial = [c for c in seen if len(c) < EPOCHS]
    assert partial, f"no partial curve seen while trials ran: {seen[:5]}"
    assert all(c == list(range(1, len(c) + 1)) for c in seen)  # in order, none twice
    assert [(s, e) for _, s, _, e, _ in _stored(run)] == [("done", list(range(1, EPOCHS + 1)))] * 2


def test_ls_shows_the_epoch_a_running_or_pruned_trial_reached(tmp_path, capsys):
    from nasx.cli.main import main
    from nasx.train.recipe import Recipe

    store = fake_run(tmp_path / "run", 3)
    store.mark_running(1, Recipe(epochs=5))
    for e in (1, 2, 3):
        store.add_epoch(1, {"epoch": e, "val_error": 50.0})
    store.mark_running(2, Recipe(epochs=5))
    store.add_epoch(2, {"epoch": 1, "val_error": 70.0})
    store.finish(2, "pruned", error=70.0, curves=[{"epoch": 1, "val_error": 70.0}])
    store.close()
    assert main(["ls", str(tmp_path / "run"), "--format", "json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert [(rows[i]["status"], rows[i]["epochs"], rows[i]["of_epochs"]) for i in (1, 2, 3)] == [
        ("running", 3, 5), ("pruned", 1, 5), ("pending", 0, None)]
    assert main(["ls", str(tmp_path / "run")]) == 0
    table = capsys.readouterr().out
    assert "running 3/5" in table and "pruned 1/5" in table


def test_train_and_run_refuse_pruning_a_sampled_population_in_one_line(tmp_path, capsys):
    from nasx.cli.main import main

    out = tmp_path / "run"
    code = main(["run", str(SPACE), "--n", "2", "--out", str(out), "--prune", "asha",
                 "--executor", "inline"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "--force-prune" in err and "key 'prune'" in err
    assert not out.exists()  # refused before anything was sampled
    fake_run(out, 2).close()
    assert main(["train", str(out), "--prune", "--executor", "inline"]) == 2
    assert "2 trial(s) of the sampled population" in capsys.readouterr().err
    with RunStore.open(out, readonly=True) as store:
        assert store.counts()["pending"] == 2


def test_train_force_prune_keeps_the_optuna_study_in_step_with_the_store(tmp_path, capsys):
    """nasx train --prune median --force-prune on real digits: every trained trial has one
    Optuna trial in the run's prune study, in the state its store status says."""
    import optuna

    from nasx.cli.main import main

    out = tmp_path / "run"
    assert main(["run", str(SPACE), "--n", "8", "--epochs", "3", "--out", str(out),
                 "--executor", "inline", "--keep-weights", "0", "--no-progress",
                 "--prune", "median", "--force-prune"]) == 0
    capsys.readouterr()
    study = optuna.load_study(study_name="regnet_digits-prune-median",
                              storage=f"sqlite:///{out / 'optuna.db'}")
    states = {t.user_attrs["nasx_id"]: t.state.name for t in study.trials}
    with RunStore.open(out, readonly=True) as store:
        stored = {t.id: str(t.status) for t in store.trials()}
    assert states == {i: {"done": "COMPLETE", "pruned": "PRUNED"}[s] for i, s in stored.items()}
