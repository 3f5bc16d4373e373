"""Which trial --best exports: validation error, the run's population, exportable candidates.

Runs are written row by row into the store (conftest.build_run); the validation and test errors
are chosen so that the two orders differ, so a selection on the wrong one picks another trial.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.torch import save

import nasx.train.trainer as trainer_mod
from nasx.cli.main import main
from nasx.export import export_trial, knee, pareto_front
from nasx.models import build_model
from nasx.store.run_store import RunStore, TrialRecord
from nasx.train.job import TrialJob, TrialResult


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["export", *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _doc(out: Path) -> dict[str, Any]:
    return json.loads((out / "provenance.json").read_text())


def _done(run: Path) -> list[TrialRecord]:
    with RunStore.open(run) as store:
        return store.trials("done")


def _row(val: float, test: float, *, weights: bool = True, **kw: Any) -> dict[str, Any]:
    return {"val": val, "test": test, "train": val / 4, "weights": weights, **kw}


def _ranked(run: Path, key: str) -> list[TrialRecord]:
    """Done trials in flops order with ``error`` replaced by the metric ``key``."""
    from dataclasses import replace

    done = sorted(_done(run), key=lambda t: (t.flops, t.id))
    return [replace(t, error=(t.metrics or {})[key]) for t in done]


def _fake_trainer(ids: list[int], recipes: list[dict[str, Any]] | None = None) -> Any:
    """A train_trial stand-in: records what it was asked, returns initialised weights."""

    def fake(job: TrialJob, *args: object, **kw: object) -> TrialResult:
        ids.append(job.trial_id)
        if recipes is not None:
            recipes.append(job.recipe.to_dict())
        state = build_model(job.spec, seed=job.seed).state_dict()
        return TrialResult(job.trial_id, "done", error=9.5, weights=save(dict(state)),
                           metrics={"val_error": 9.5, "test_error": 9.0, "train_error": 1.0})

    return fake


def test_best_error_uses_validation_and_shows_test(run_dir, tmp_path, capsys):
    # Validation errors 20 / 10 / 15 and test errors 9 / 14 / 11 (ids 1..3): the test order
    # would pick trial 1.
    code, out, _ = _cli(capsys, str(run_dir), "--best", "--format", "yaml", "--out",
                        str(tmp_path / "b"))
    assert code == 0
    assert out.startswith("exported trial 2 (done, validation error 10.00%, test error 14.00%,")
    assert "chosen by: lowest validation error among 3 done trials of the run's population " \
           "recipe (ties: fewer flops, lower id)" in out
    doc = _doc(tmp_path / "b")
    assert doc["errors"] == {"validation": 10.0, "test": 14.0, "train": 2.0,
                             "unit": "top-1 error in percent", "used_to_select": "validation"}
    assert doc["selection"]["selected_on"] == "validation error"
    assert doc["selection"]["candidates"] == 3 and doc["selection"]["left_out"] == []


def test_pareto_uses_validation_error(make_run, tmp_path, capsys):
    # By increasing flops: validation 30, 12, 11, 10 (a front of four, its knee the 2nd);
    # test 10, 20, 25, 30 (a front of one: the cheapest).
    run = make_run([_row(30.0, 10.0), _row(12.0, 20.0), _row(11.0, 25.0), _row(10.0, 30.0)],
                   order="flops")
    by_val, by_test = _ranked(run, "val_error"), _ranked(run, "test_error")
    assert len({t.flops for t in by_val}) == 4  # distinct flops, so the front is as designed
    assert knee(pareto_front(by_val)).id != knee(pareto_front(by_test)).id
    code, out, _ = _cli(capsys, str(run), "--best", "--objective", "pareto", "--format", "yaml",
                        "--out", str(tmp_path / "p"))
    assert code == 0 and "knee of the (validation error, flops) Pareto front" in out
    doc = _doc(tmp_path / "p")
    assert doc["trial"]["id"] == knee(pareto_front(by_val)).id == by_val[1].id
    assert doc["selection"]["pareto_front"] == [t.id for t in by_val]
    assert doc["errors"]["validation"] == 12.0 and doc["errors"]["test"] == 20.0
    assert "validation error 12.00%, test error 20.00%" in out


@pytest.mark.parametrize("objective", ["error", "pareto"])
def test_other_recipe_never_chosen(make_run, tmp_path, capsys, objective):
    # The cheapest trial has the lowest validation error of all but trained 2 epochs, not the
    # population's 1: it would win both objectives if it competed.
    run = make_run([_row(1.0, 1.0, epochs=2), _row(20.0, 9.0), _row(10.0, 14.0),
                    _row(15.0, 11.0)], order="flops")
    outsider = _ranked(run, "val_error")[0]
    code, out, _ = _cli(capsys, str(run), "--best", "--objective", objective, "--format",
                        "yaml", "--out", str(tmp_path / "o"))
    assert code == 0
    doc = _doc(tmp_path / "o")
    assert doc["trial"]["id"] != outsider.id and outsider.id not in doc["selection"]["pareto_front"]
    if objective == "error":
        assert doc["errors"]["validation"] == 10.0
    line = ("1 trial trained with another recipe than the run's population (epochs 1 -> 2) "
            "left out")
    assert doc["selection"]["left_out"] == [line] and f"note: {line}" in out
    assert doc["selection"]["candidates"] == 3


def test_named_trial_of_another_recipe_is_flagged(make_run, tmp_path, capsys):
    run = make_run([_row(5.0, 6.0, epochs=2), _row(20.0, 9.0)])
    code, out, _ = _cli(capsys, str(run), "--trial", "1", "--format", "yaml",
                        "--out", str(tmp_path / "t"))
    assert code == 0
    assert ("note: trial 1 was trained with another recipe than the run's population "
            "(epochs 1 -> 2); its errors are not comparable with the population's") in out
    assert _doc(tmp_path / "t")["errors"]["used_to_select"] is None


def test_old_run_selects_on_test_error_and_says_so(make_run, tmp_path, capsys):
    run = make_run([_row(0, 12.0, legacy=True), _row(0, 8.0, legacy=True)], record=False)
    code, out, _ = _cli(capsys, str(run), "--best", "--format", "yaml",
                        "--out", str(tmp_path / "l"))
    assert code == 0 and out.startswith("exported trial 2 (done, test error 8.00%,")
    doc = _doc(tmp_path / "l")
    assert doc["errors"]["used_to_select"] == "test" and doc["errors"]["validation"] is None
    assert "chosen on the test error, which is optimistic" in out


@pytest.mark.parametrize(("formats", "train"), [("safetensors", False), ("yaml", False),
                                                ("safetensors", True)])
def test_pareto_chooses_among_exportable(make_run, tmp_path, capsys, monkeypatch, formats,
                                         train):
    # The knee of the validation front (2nd cheapest) kept no weights.
    run = make_run([_row(30.0, 30.0), _row(12.0, 12.0, weights=False), _row(11.0, 11.0),
                    _row(10.0, 10.0)], order="flops")
    ranked = _ranked(run, "val_error")
    full_knee = knee(pareto_front(ranked))
    assert full_knee.id == ranked[1].id and full_knee.weights is None
    trained: list[int] = []
    monkeypatch.setattr(trainer_mod, "train_trial", _fake_trainer(trained))
    args = ["--best", "--objective", "pareto", "--format", formats, "--out", str(tmp_path / "k")]
    code, out, _ = _cli(capsys, str(run), *args, *(["--train"] if train else []))
    assert code == 0
    doc = _doc(tmp_path / "k")
    if formats == "safetensors" and not train:
        exportable = [t for t in ranked if t.weights]
        assert doc["trial"]["id"] == knee(pareto_front(exportable)).id != full_knee.id
        assert "1 trial without kept weights left out" in out
        assert sorted(p.name for p in (tmp_path / "k").iterdir()) == [
            "provenance.json", "weights.safetensors"]
    else:
        assert doc["trial"]["id"] == full_knee.id and "left out" not in out
    assert trained == ([full_knee.id] if train else [])
    assert doc["skipped"] == [] and not any("kept no weights" in n for n in doc["notes"])


def test_train_uses_population_recipe(make_run, tmp_path, monkeypatch, capsys):
    # The space says 5 epochs; the population was trained with 1: export --train uses 1 unless
    # asked, and says what an explicit override changes.
    run = make_run([_row(10.0, 12.0, weights=False)])
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(trainer_mod, "train_trial", _fake_trainer([], seen))
    common = ["--best", "--format", "yaml,safetensors", "--train"]
    code, out, _ = _cli(capsys, str(run), *common, "--out", str(tmp_path / "a"))
    assert code == 0 and seen[-1]["epochs"] == 1 and "differs" not in out
    assert "trained for export: validation error 9.50%, test error 9.00%" in out
    doc = _doc(tmp_path / "a")
    assert doc["weights"]["recipe_base"] == "the run's population recipe"
    assert doc["weights"]["errors"] == {"validation": 9.5, "test": 9.0, "train": 1.0}

    code, out, _ = _cli(capsys, str(run), *common, "--epochs", "3", "--out", str(tmp_path / "b"))
    assert code == 0 and seen[-1]["epochs"] == 3
    assert ("note: trained with a recipe that differs from the run's population recipe "
            "(epochs 1 -> 3) as asked") in out
    assert _doc(tmp_path / "b")["weights"]["differs"] == ["epochs 1 -> 3"]

    old = make_run([_row(10.0, 12.0, weights=False)], record=False)
    code, out, _ = _cli(capsys, str(old), *common, "--out", str(tmp_path / "c"))
    # no recorded recipe (an older run): the recipe its first trained trial stored, as train does
    assert code == 0 and seen[-1]["epochs"] == 1
    assert _doc(tmp_path / "c")["weights"]["recipe_base"] == "the run's population recipe"


def test_preprocessing_reproduces_training_inputs(run_dir, tmp_path):
    """Raw digits pushed through provenance's preprocessing equal the tensors nasx trained on."""
    from nasx.data import load_dataset
    from nasx.data.digits import load_digits_raw

    out = export_trial(run_dir, 2, formats="yaml", out=tmp_path / "e")
    prep = _doc(out)["input"]["preprocessing"]
    record = _done(run_dir)[1]
    recipe = record.recipe
    assert prep["resolution"] == 8 and prep["channels"] == 1  # digits at their own size
    ds = load_dataset(recipe, 8, 1, "cpu")
    raw = load_digits_raw()
    mean, std = np.array(prep["mean"]), np.array(prep["std"])
    assert mean.shape == std.shape == (1,) and 0.2 < mean[0] < 0.4 and 0.3 < std[0] < 0.5
    mine = (raw.x_test - mean[None, :, None, None]) / std[None, :, None, None]
    assert np.abs(mine - ds.x_test.numpy()).max() < 1e-5


@pytest.mark.parametrize(("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755),
                                                             (0o027, 0o640, 0o750)])
def test_ordinary_permissions(run_dir, tmp_path, mask, file_mode, dir_mode):
    old = os.umask(mask)
    try:
        out = export_trial(run_dir, 2, formats="yaml,safetensors", out=tmp_path / "perm")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == dir_mode
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes == {"provenance.json": file_mode, "spec.yaml": file_mode,
                     "weights.safetensors": file_mode}


def test_no_exportable_candidate_is_one_line(make_run, tmp_path, capsys):
    run = make_run([_row(10.0, 12.0, weights=False), _row(11.0, 9.0, weights=False)])
    code, out, err = _cli(capsys, str(run), "--best", "--format", "onnx",
                          "--out", str(tmp_path / "n"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert ("key '--best': no trial can be chosen: 2 trials without kept weights left out, "
            "trial 1 of the lowest error among them (--train considers them and trains the "
            "chosen one)") in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [run.name]  # nothing written
