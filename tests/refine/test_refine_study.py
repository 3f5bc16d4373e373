"""nasx refine on a really trained digits population: warm start, ask/tell, resume, Optuna tools."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.errors import RefineError
from nasx.execute import ExecOptions
from nasx.refine.feasible import Feasibility
from nasx.refine.options import RefineOptions
from nasx.refine.optuna_space import param_name, to_param, to_value
from nasx.refine.slots import slot_value, space_slots
from nasx.refine.study import refine
from nasx.space import load_space
from nasx.store import RunStore

INLINE = ExecOptions(executor="inline", progress=False, keep_weights=0)


def _optuna_cli(*args: str) -> str:
    exe = shutil.which("optuna") or str(Path(sys.executable).with_name("optuna"))
    cmd = [exe, *args] if Path(exe).exists() else [
        sys.executable, "-c", "import sys; from optuna.cli import main; sys.exit(main())", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_refine_trains_warm_starts_and_continues(trained_run: Path):
    with RunStore.open(trained_run) as store:
        n_done = len(store.trials("done"))
    first = refine(trained_run, RefineOptions(trials=8, batch=4, seed=0), INLINE)
    assert len(first.trained) == 8
    assert first.warm_started == n_done and first.warm_present == 0
    assert first.done + first.failed + first.pruned == 8
    assert first.best is not None and first.best["error"] <= 100
    with RunStore.open(trained_run) as store:
        refined = [t for t in store.trials() if t.origin == "refine"]
        meta = store.meta()
        space = load_space(store.space_path)
    assert len(refined) == 8 and sorted(t.id for t in refined) == sorted(first.trained)
    assert first.study in meta["refine"]
    # nothing trained violates the space's constraints (flops <= 250K and the rest)
    for t in refined:
        assert t.flops <= 250_000
        assert Feasibility(space).check(t.values, {}, seed=0).violation == 0.0

    second = refine(trained_run, RefineOptions(trials=2, seed=1), INLINE)
    assert second.study == first.study and second.storage == first.storage
    assert second.warm_started == 0  # nothing added twice
    assert second.warm_present == n_done + first.done
    assert second.study_trials >= first.study_trials + 2
    assert len(second.trained) == 2

    # the study is a real Optuna study that Optuna's own CLI reads
    storage = f"sqlite:///{(trained_run / 'optuna.db').resolve()}"
    rows = json.loads(_optuna_cli("trials", "--study-name", first.study, "--storage", storage,
                                  "-f", "json"))
    assert len(rows) == second.study_trials
    ids = [r["user_attrs"]["nasx_id"] for r in rows if "nasx_id" in r.get("user_attrs", {})]
    assert len(ids) == len(set(ids)) == n_done + 10  # every store trial exactly once
    infeasible = [r for r in rows if "nasx_infeasible" in r.get("user_attrs", {})]
    assert len(infeasible) == first.infeasible + second.infeasible
    assert all("nasx_id" not in r["user_attrs"] for r in infeasible)  # never stored or trained


def test_multi_objective_reports_a_pareto_front(trained_run: Path, capsys):
    code = main(["refine", str(trained_run), "--trials", "1", "--objectives", "error,flops",
                 "--executor", "inline", "--no-progress", "--keep-weights", "0"])
    assert code == 0
    out = capsys.readouterr().out
    assert "sampler nsga2" in out and "pareto front (error vs flops)" in out
    with RunStore.open(trained_run) as store:
        record = store.meta()["refine"]
    front = next(v["pareto"] for k, v in record.items() if k.endswith("error-flops"))
    assert front and all(a["error"] <= b["error"] for a, b in pairwise(front))
    # non-dominated: along increasing error, flops never increase
    assert all(a["flops"] >= b["flops"] for a, b in pairwise(front))


@pytest.mark.parametrize("kind", ["median", "asha", "hyperband"])
def test_every_pruner_refines(trained_run: Path, kind: str):
    study = "pruned" if kind == "median" else f"pruned-{kind}"
    res = refine(trained_run, RefineOptions(trials=1, prune=kind, study=study), INLINE)
    assert res.done + res.pruned + res.failed == 1
    with pytest.raises(RefineError, match="single-objective"):
        RefineOptions(trials=1, prune=kind, objectives=("error", "flops")).validate("ray")


def test_bad_options_are_one_line_errors(trained_run: Path, capsys):
    with pytest.raises(RefineError, match="objectives"):
        RefineOptions(trials=1, objectives=("flops",)).validate("inline")
    assert main(["refine", str(trained_run), "--trials", "0", "--executor", "inline"]) == 2
    err = capsys.readouterr().err.strip()
    assert "key 'trials'" in err and "\n" not in err
    # a study of one objective cannot be continued as two
    code = main(["refine", str(trained_run), "--trials", "1", "--executor", "inline",
                 "--objectives", "error,flops", "--study", "pruned"])
    assert code == 2


@pytest.mark.parametrize("sampler", ["random", "cmaes"])
def test_other_samplers_train_their_suggestions(trained_run: Path, sampler: str):
    summary = refine(trained_run, RefineOptions(trials=2, sampler=sampler, study=f"s_{sampler}"),
                     INLINE)
    assert summary.sampler == sampler and len(summary.trained) == 2 and summary.done == 2
    with RunStore.open(trained_run) as store:
        assert all(store.get(i).origin == "refine" for i in summary.trained)


def test_stored_values_map_to_optuna_params_exactly(trained_run: Path):
    with RunStore.open(trained_run) as store:
        space = load_space(store.space_path)
        trials = store.trials("done")
    for slot in space_slots(space):
        for t in trials:
            value = slot_value(slot, t.values, t.hparams)
            param = to_param(slot, value)
            assert param is not None, (slot.name, value)
            assert to_value(slot, param) == pytest.approx(value)
        assert param_name(slot)


def test_infeasible_values_are_rejected_before_training(space_file: Path):
    space = load_space(space_file)
    big = {"stem": "cifar", "stem_width": 8, "group_w_1": 4, "group_w_2": 4, "depth_1": 3,
           "depth_2": 3, "width_1": 48, "width_2": 48, "bot_mul_1": 2, "bot_mul_2": 2,
           "resolution": 8, "in_channels": 1, "num_classes": 10}
    verdict = Feasibility(space).check(big, {"lr": 0.1}, seed=0)
    assert not verdict.feasible and verdict.violation > 0 and verdict.trial is None
    assert "flops" in verdict.reason
    small = dict(big, depth_1=1, depth_2=1, width_1=8, width_2=8, bot_mul_1=1, bot_mul_2=1)
    ok = Feasibility(space).check(small, {"lr": 0.1}, seed=0)
    assert ok.feasible and ok.trial is not None and ok.trial.origin == "refine"


def test_an_interrupted_call_is_resumed(trained_run: Path):
    import numpy as np
    import optuna

    from nasx.refine.optuna_space import distributions
    from nasx.sample import sample_space

    storage = f"sqlite:///{(trained_run / 'optuna.db').resolve()}"
    with RunStore.open(trained_run) as store:
        space = load_space(store.space_path)
        more = sample_space(space, 1, np.random.default_rng(99), exclude=store.fingerprints(),
                            origin="refine")
        (pending,) = store.add_trials(more.trials)
    # a previous call asked two trials and died: one before storing, one before training
    study = optuna.create_study(storage=storage, study_name="resume", load_if_exists=True)
    dists = distributions(space_slots(space))
    lost = study.ask(dists)
    stored = study.ask(dists)
    stored.set_user_attr("nasx_id", pending)
    res = refine(trained_run, RefineOptions(trials=1, study="resume"), INLINE)
    assert res.resumed == 1 and len(res.trained) == 1 and res.resumed_outcomes == {"done": 1}
    assert res.done + res.failed + res.pruned == 1  # the new trial only
    assert "resumed 1 trials of an interrupted call (done 1)" in res.lines()
    states = {t.number: t.state for t in optuna.load_study(study_name="resume",
                                                           storage=storage).trials}
    assert states[lost.number] == optuna.trial.TrialState.FAIL
    assert states[stored.number] == optuna.trial.TrialState.COMPLETE
    with RunStore.open(trained_run) as store:
        assert store.get(pending).status == "done"
