"""`nasx fidelity`: the retrains it plans and adds, idempotence, the population recipe of seed
repeats and the long schedule of the others, resuming after a SIGKILL, and its figures."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from exec_helpers import HERE, SPACE, events, worker_env
from scipy import stats

from nasx.analysis.fidelity import fidelity_of
from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.errors import TrainError
from nasx.execute import ExecOptions, train_run
from nasx.execute.fidelity import FidelityPlan, insert_plan, repeat_seeds, run_fidelity
from nasx.store import NewTrial, Origin, RunStore, TrialStatus, trials_frame
from nasx.train import population
from nasx.train.job import TrialJob, TrialResult

POP_EPOCHS = 2


def fidelity_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """A fake whose error has a model part (stem width), seed noise and a schedule part."""
    err = job.spec.stem.width / 4 + (job.seed % 7) * 0.25 + 8.0 / job.recipe.epochs
    return TrialResult(trial_id=job.trial_id, status="done", error=err,
                       metrics={"val_error": err}, curves=[{"epoch": 1}], device="cpu",
                       host="fake")


def make_run(root: Path, n: int, opts: ExecOptions, fn: object = fidelity_trial) -> RunStore:
    """A run of ``n`` distinct models, trained (population recipe: epochs 2)."""
    store = RunStore.create(root, SPACE.read_text(), {"name": "fid", "family": "regnet"})
    store.add_trials(NewTrial(
        fingerprint=f"f{i}", values={"i": i}, seed=1000 + i, flops=i + 1, params=1, acts=1,
        spec=ArchSpec(family="regnet", stem=StemSpec(width=8 + 4 * i),
                      stages=(StageSpec(block="basic", depth=1, width=8, stride=1),),
                      head=HeadSpec(num_classes=10)))
        for i in range(n))
    train_run(store, opts, trial_fn=fn)  # type: ignore[arg-type]
    return store


def inline(**overrides: object) -> ExecOptions:
    return ExecOptions(executor="inline", progress=False,
                       overrides={"epochs": POP_EPOCHS, **overrides})  # type: ignore[dict-item]


@pytest.fixture
def run(tmp_path: Path):
    store = make_run(tmp_path / "run", 10, inline())
    yield store
    store.close()


def _fidelity(store: RunStore) -> list:
    return store.trials_of(Origin.FIDELITY)


def test_seeds_3_k_6_adds_12_then_nothing(run):
    opts = ExecOptions(executor="inline", progress=False)  # the population's recipe is inherited
    out = run_fidelity(run, opts, FidelityPlan(seeds=3, k=6, seed=5), trial_fn=fidelity_trial)
    assert len(out.added) == 12 and out.planned == 12 and out.population == 10
    assert len(out.models) == 6 == len(set(out.models))
    fid = _fidelity(run)
    assert len(fid) == 12 and all(t.status is TrialStatus.DONE for t in fid)
    assert Counter(t.repeat_of for t in fid) == dict.fromkeys(out.models, 2)
    pop = run.run_recipe()
    originals = {t.id: t for t in run.trials()}
    for t in fid:
        o = originals[t.repeat_of]
        assert t.repeat_epochs is None and t.seed != o.seed
        assert t.fingerprint == f"{o.fingerprint}:seed={t.seed}"
        assert (t.spec, t.values, t.hparams) == (o.spec, o.values, o.hparams)
        assert population.in_population(t.stored_recipe, t.hparams, pop)  # the same recipe
    started = {t.id: (t.attempts, t.started_at) for t in fid}

    again = run_fidelity(run, opts, FidelityPlan(seeds=3, k=6, seed=5), trial_fn=fidelity_trial)
    assert again.added == [] and again.models == out.models
    assert {t.id: (t.attempts, t.started_at) for t in _fidelity(run)} == started
    # the search's views never see a retrain
    assert {t.id for t in run.finished(origins=None, any_recipe=True).trials} == set(range(1, 11))


def test_epochs_long_adds_k_on_the_same_models_with_their_own_schedule(run):
    opts = ExecOptions(executor="inline", progress=False)
    first = run_fidelity(run, opts, FidelityPlan(seeds=3, k=6), trial_fn=fidelity_trial)
    out = run_fidelity(run, opts, FidelityPlan(seeds=1, k=6, epochs_long=8),
                       trial_fn=fidelity_trial)
    assert len(out.added) == 6 and out.models == first.models  # the models already repeated
    long = [t for t in _fidelity(run) if t.repeat_epochs is not None]
    assert sorted(t.id for t in long) == sorted(out.added)
    originals = {t.id: t for t in run.trials()}
    for t in long:
        o = originals[t.repeat_of]
        assert (t.repeat_epochs, t.seed, t.fingerprint) == (8, o.seed, f"{o.fingerprint}:epochs=8")
        assert t.stored_recipe["epochs"] == 8 and t.status is TrialStatus.DONE
        assert t.error == pytest.approx(o.error - 8.0 / POP_EPOCHS + 1.0)
    # more seeds later: the first repeat seeds are kept, 2 more per model
    more = run_fidelity(run, opts, FidelityPlan(seeds=5, k=6), trial_fn=fidelity_trial)
    assert len(more.added) == 12 and len(_fidelity(run)) == 30


def test_figures_of_the_store(run):
    opts = ExecOptions(executor="inline", progress=False)
    run_fidelity(run, opts, FidelityPlan(seeds=3, k=6, epochs_long=4), trial_fn=fidelity_trial)
    fid = fidelity_of(trials_frame(run.trials()), run.run_recipe(), seed=0)
    assert fid is not None and fid.trials == 18 and fid.excluded == 0 and fid.unfinished == 0
    trials = {t.id: t for t in run.trials()}
    groups: dict[int, list[float]] = {}
    for t in _fidelity(run):
        if t.repeat_epochs is None:
            groups.setdefault(t.repeat_of, [trials[t.repeat_of].error]).append(t.error)
    var = sum(np.var(v, ddof=1) * (len(v) - 1) for v in groups.values()) / (2 * 6)
    assert fid.seed_noise.pooled_sd == pytest.approx(math.sqrt(var))
    assert (fid.seed_noise.models, fid.seed_noise.runs, fid.seed_noise.df) == (6, 18, 12)
    (sl,) = fid.short_long
    assert (sl.epochs_short, sl.epochs_long, sl.n) == (POP_EPOCHS, 4, 6)
    short = [p.short for p in sl.pairs]
    longer = [p.long for p in sl.pairs]
    assert sl.kendall_tau == pytest.approx(stats.kendalltau(short, longer).statistic)
    assert sl.spearman_rho == pytest.approx(stats.spearmanr(short, longer).statistic)


def test_plain_train_leaves_retrains_to_fidelity(run):
    insert_plan(run, FidelityPlan(seeds=1, k=3, epochs_long=6))
    train_run(run, inline(), trial_fn=fidelity_trial)  # `nasx train RUN`
    assert [t.status for t in _fidelity(run)] == [TrialStatus.PENDING] * 3
    run_fidelity(run, ExecOptions(executor="inline", progress=False),
                 FidelityPlan(seeds=1, k=3, epochs_long=6), trial_fn=fidelity_trial)
    assert [(t.status, t.stored_recipe["epochs"]) for t in _fidelity(run)] == [
        (TrialStatus.DONE, 6)] * 3


def test_repeat_seeds_are_stable_and_distinct(run):
    t = run.get(1)
    five = repeat_seeds(t, 5, 0)
    assert repeat_seeds(t, 2, 0) == five[:2] and len(set(five)) == 5 and t.seed not in five
    assert repeat_seeds(t, 2, 1) != five[:2]
    assert all(0 <= s < 2**31 - 1 for s in five)


@pytest.mark.parametrize(("plan", "key"), [
    (dict(seeds=1), "--seeds"), (dict(seeds=0), "--seeds"), (dict(k=0), "--k"),
    (dict(epochs_long=0), "--epochs-long"), (dict(seed=-1), "--seed")])
def test_bad_plans(plan, key):
    with pytest.raises(TrainError, match=f"key '{key}'"):
        FidelityPlan(**plan)


def test_epochs_long_must_be_longer_and_a_population_must_exist(run, tmp_path):
    with pytest.raises(TrainError, match="longer than the population's 2 epochs, got 2"):
        insert_plan(run, FidelityPlan(seeds=1, epochs_long=2))
    with (RunStore.create(tmp_path / "empty", SPACE.read_text(), {"name": "e"}) as empty,
          pytest.raises(TrainError, match="no finished sampled trial")):
        insert_plan(empty, FidelityPlan())
    assert _fidelity(run) == []


DRIVER = """
import sys
from nasx.execute import ExecOptions
from nasx.execute.fidelity import FidelityPlan, run_fidelity
from nasx.store import RunStore
run, scratch = sys.argv[1:3]
opts = ExecOptions(executor="inline", progress=False,
                   overrides={"data_dir": scratch, "lr": 0.3})
with RunStore.open(run) as store:
    out = run_fidelity(store, opts, FidelityPlan(seeds=3, k=4), trial_fn="exec_fakes:ok_trial")
    print(len(out.added), out.counts, flush=True)
"""


def _start(run: Path, scratch: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(run), str(scratch)],
                            env=worker_env(), start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _counts(run: Path) -> Counter:
    with RunStore.open(run, readonly=True) as store:
        return Counter(t.status.value for t in store.trials_of(Origin.FIDELITY))


@pytest.mark.slow
def test_sigkill_during_fidelity_then_resume(tmp_path, scratch):
    sys.path.insert(0, str(HERE))
    from exec_fakes import ok_trial

    root = tmp_path / "run"
    # the population with the driver's recipe (lr: the fake's sleep), so its repeats belong to it
    make_run(root, 5, ExecOptions(executor="inline", progress=False,
                                  overrides={"data_dir": str(scratch), "lr": 0.3}),
             fn=ok_trial).close()
    (scratch / "events.log").unlink()
    proc = _start(root, scratch)
    deadline = time.monotonic() + 120
    while not (_counts(root)["done"] >= 3 and _counts(root)["running"] > 0):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "fidelity made no progress"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with RunStore.open(root, readonly=True) as store:
        before = {t.id: t.attempts for t in store.trials_of(Origin.FIDELITY) if t.status == "done"}
        running = [t.id for t in store.trials_of(Origin.FIDELITY) if t.status == "running"]
        assert len(store.trials_of(Origin.FIDELITY)) == 8  # all inserted before any training
    assert 3 <= len(before) < 8 and len(running) == 1

    proc = _start(root, scratch)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.startswith("0 ")  # nothing added again
    with RunStore.open(root, readonly=True) as store:
        fid = store.trials_of(Origin.FIDELITY)
        assert len(store.trials()) == 5 + 8
    assert all(t.status is TrialStatus.DONE for t in fid)
    starts = Counter(i for e, i in events(scratch) if e == "start")
    for t in fid:
        if t.id in before:
            assert t.attempts == starts[t.id] == 1  # never trained again
        elif t.id in running:
            assert t.attempts == starts[t.id] == 2  # lost with the driver, trained again
        else:
            assert t.attempts == starts[t.id] == 1


def test_cli_real_training_prints_the_figures(tmp_path, capsys):
    """`nasx run` then `nasx fidelity` on a tiny real space (the one real training here)."""
    from nasx.cli.main import main

    space = HERE.parent / "refine" / "anynet_tiny.yaml"
    run = tmp_path / "run"
    assert main(["run", str(space), "--n", "4", "--executor", "inline", "--no-progress",
                 "--out", str(run)]) == 0
    capsys.readouterr()
    args = ["fidelity", str(run), "--seeds", "2", "--k", "2", "--executor", "inline",
            "--no-progress"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "retrained 2 of 4 finished sampled models" in lines[0]
    assert "2 retrains added, 2 planned; fidelity trials 2 done" in lines[0]
    assert lines[1].startswith("seed-noise floor: pooled seed SD ")
    assert main(args) == 0  # again: nothing added, nothing trained
    assert "0 retrains added, 2 planned; fidelity trials 2 done" in capsys.readouterr().out
    assert main(["fidelity", str(run), "--k", "0", "--executor", "inline"]) == 2
    assert "key '--k': must be >= 1, got 0" in capsys.readouterr().err


def test_cli_two_runs_long_verdict_on_real_digits(tmp_path, capsys):
    """`nasx fidelity A B --epochs-long 2`: both runs' retrains, then whether the pair's
    conclusion holds at 2 epochs on K models (tiny digits runs, real training)."""
    from nasx.cli.main import main

    space = HERE.parent / "refine" / "anynet_tiny.yaml"
    runs = [tmp_path / "a", tmp_path / "b"]
    for seed, run in enumerate(runs):
        assert main(["run", str(space), "--n", "4", "--seed", str(seed), "--executor", "inline",
                     "--no-progress", "--out", str(run)]) == 0
    capsys.readouterr()
    args = ["fidelity", *map(str, runs), "--epochs-long", "2", "--k", "3", "--executor",
            "inline", "--no-progress"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum("retrained 3 of 4 finished sampled models" in ln for ln in lines) == 2
    (long,) = [ln for ln in lines if ln.startswith("At 2 epochs on 3 and 3 retrained models")]
    assert any(f"this conclusion {w}" in long
               for w in ("holds", "does not hold", "cannot be decided"))
