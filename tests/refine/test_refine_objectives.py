"""nasx refine --objectives error,latency_ms / memory_mb: measured before training, recorded, told.

Tiny runs: the population's errors are synthetic (nothing trains), the 3 refine trials train one
epoch of digits inline. Latency is really measured (few repeats: the figures are only compared
with what the store recorded, never with a constant).
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from nasx.cli.main import main
from nasx.errors import RefineError
from nasx.execute import ExecOptions
from nasx.refine.cost import MEASURED_OBJECTIVES
from nasx.refine.options import RefineOptions
from nasx.refine.study import refine
from nasx.sample import create_run
from nasx.store import RunStore
from nasx.store.measurements import get_measurements

INLINE = ExecOptions(executor="inline", progress=False, keep_weights=0)
FAST = "measure: {repeats: 3, warmup: 1}\n"  # the space's settings: what refine measures with
KEY = {"latency_ms": "latency_ms_b1_torch_cpu", "memory_mb": "memory_mib_b1_train_cpu"}


def _run(tmp_path: Path, text: str, fill, n: int = 5) -> Path:
    """A run of ``n`` trials of the space ``text`` with synthetic errors."""
    from nasx.api.spaces import measurer_for
    from nasx.space import load_space

    space = tmp_path / "space.yaml"
    space.write_text(text)
    out = tmp_path / "run"
    store, _ = create_run(space, n=n, seed=0, out=out, progress=False,
                          measure=measurer_for(load_space(space)))
    fill(store)
    store.close()
    return out


def _stored(run: Path) -> tuple[dict, dict]:
    with RunStore.open(run) as store:
        return get_measurements(store), {t.id: t for t in store.trials()}


def _study(run: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{(run / 'optuna.db').resolve()}")


@pytest.mark.parametrize("objective", MEASURED_OBJECTIVES)
def test_measured_objective_is_measured_before_training_recorded_and_told(
        tmp_path, space_file, fill, objective):
    run = _run(tmp_path, space_file.read_text() + FAST, fill)
    s = refine(run, RefineOptions(trials=3, objectives=("error", objective), seed=0), INLINE)
    assert len(s.trained) == 3 and s.done == 3
    # warm start: no figure stored yet, so each finished trial was measured once
    assert s.warm_started == 5 and s.warm_measured == 5 and s.warm_stored == 0
    rows, trials = _stored(run)
    key = KEY[objective]
    assert set(rows) == set(trials)  # every trial of the run, population and refine alike
    for tid, by_key in rows.items():
        m = by_key[key]
        assert (m.device, m.batch, m.threads) == ("cpu", 1, 1) and m.value > 0
        where = "before training" if tid in s.trained else "warm start"
        assert where in m.method
    # the study holds the recorded figure as the objective, for every trial with a store id
    told = {t.user_attrs["nasx_id"]: t.values for t in _study(run, s.study).trials
            if t.state == optuna.trial.TrialState.COMPLETE and "nasx_id" in t.user_attrs}
    assert set(told) == set(trials)
    for tid, values in told.items():
        assert values == [trials[tid].error, rows[tid][key].value]
    # the front: in the summary, the meta and its lines, with the measured figure
    assert s.pareto and all(p[objective] == rows[p["nasx_id"]][key].value for p in s.pareto)
    with RunStore.open(run) as store:
        assert store.meta()["refine"][s.study]["pareto"] == s.pareto
    text = "\n".join(s.lines())
    assert f"measured {objective} of" in text and "5 were measured now" in text
    assert f"error vs {objective}" in text

    # another study over the same run: every finished trial has its stored figure, none measured
    again = refine(run, RefineOptions(trials=1, objectives=("error", objective), study="again"),
                   INLINE)
    assert again.warm_started == 8 and again.warm_stored == 8 and again.warm_measured == 0
    told = {t.user_attrs["nasx_id"]: t.values[1] for t in _study(run, "again").trials
            if t.user_attrs.get("nasx_warm_start")}
    assert told == {tid: rows[tid][key].value for tid in rows}


def test_measured_constraints_are_recorded_for_refine_trials_and_reused_as_objective(
        tmp_path, space_file, fill):
    flops = "  flops: [null, 250K]\n"
    text = space_file.read_text().replace(flops, flops + "  latency_ms: [null, 1000]\n")
    run = _run(tmp_path, text + FAST, fill)
    rows, _ = _stored(run)
    assert all("at sampling" in r["latency_ms"].method for r in rows.values())
    s = refine(run, RefineOptions(trials=2, objectives=("error", "latency_ms")), INLINE)
    # the sampler's constraint rows name the key: warm start used them, measured nothing
    assert s.warm_stored == 5 and s.warm_measured == 0
    rows, _ = _stored(run)
    for tid in s.trained:
        constraint, objective = rows[tid]["latency_ms"], rows[tid]["latency_ms_b1_torch_cpu"]
        assert "(latency_ms_b1_torch_cpu, at refine)" in constraint.method
        assert "before training" in objective.method
        # one measurement for both: the feasibility check's figure is the objective's
        assert constraint.value == objective.value and constraint.spread == objective.spread
    # the error-only study records the constraint's figures too (no objective rows)
    plain = refine(run, RefineOptions(trials=1, study="plain"), INLINE)
    rows, _ = _stored(run)
    (tid,) = plain.trained
    assert set(rows[tid]) == {"latency_ms"} and "at refine" in rows[tid]["latency_ms"].method


def test_unknown_objective_is_a_one_line_refine_error(tmp_path, space_file, fill, capsys):
    with pytest.raises(RefineError, match="objectives.*latency_ms, memory_mb"):
        RefineOptions(trials=1, objectives=("error", "latency")).validate("inline")
    run = _run(tmp_path, space_file.read_text(), fill, n=2)
    assert main(["refine", str(run), "--trials", "1", "--objectives", "error,speed"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "objectives" in err and "speed" in err


def test_a_killed_refine_on_latency_resumes_with_the_recorded_figure(tmp_path, space_file):
    """SIGKILL while a refine trial trains: the next call tells Optuna the figure measured
    before training (recorded in the store), and nothing is left without one."""
    import os
    import signal
    import subprocess
    import sys
    import time

    space = tmp_path / "space.yaml"
    space.write_text(space_file.read_text() + FAST)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    base = [sys.executable, "-m", "nasx"]
    run = tmp_path / "run"
    done = subprocess.run([*base, "run", str(space), "--n", "3", "--epochs", "4", "--executor",
                           "inline", "--keep-weights", "0", "--no-progress", "--out", str(run)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    cmd = [*base, "refine", str(run), "--trials", "3", "--objectives", "error,latency_ms",
           "--executor", "inline", "--keep-weights", "0", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:  # kill once a refine trial is training
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with RunStore.open(run, readonly=True) as store:
                if any(t.origin == "refine" and str(t.status) == "running"
                       for t in store.trials()):
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("no refine trial ever ran")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    again = subprocess.run(cmd[:6] + ["1"] + cmd[7:], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "resumed 1 trials" in again.stdout
    rows, trials = _stored(run)
    assert set(rows) == set(trials) and all(str(t.status) == "done" for t in trials.values())
    (name,) = optuna.get_all_study_names(f"sqlite:///{run / 'optuna.db'}")
    study = _study(run, name)
    told = {t.user_attrs["nasx_id"]: t.values for t in study.trials
            if t.state == optuna.trial.TrialState.COMPLETE}
    assert set(told) == set(trials)
    assert all(v == [trials[i].error, rows[i][KEY["latency_ms"]].value] for i, v in told.items())
