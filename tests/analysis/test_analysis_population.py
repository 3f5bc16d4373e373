"""One recipe per population, and the validation error (not the test error) for every selection."""

from __future__ import annotations

import numpy as np
import pytest
from synth_runs import make_run

from nasx.analysis import read_run, read_runs, summarize
from nasx.analysis.load import population_mask
from nasx.train import population


def test_other_recipe_trials_are_kept_apart(tmp_path):
    r = read_run(make_run(tmp_path / "r", "r", n=20, n_refine=2, n_other=3, epochs=2,
                          other_epochs=5, seed=3))
    assert r.recipe is not None and r.recipe["epochs"] == 2
    assert len(r.sampled) == 20 and len(r.refined) == 2 and len(r.other_recipe) == 3
    other_ids = set(r.other_recipe["id"])
    assert r.recipe_groups() == [{"diff": "epochs 2 -> 5", "n": 3, "ids": sorted(other_ids)}]
    assert r.exclusion_note() == ("r: 3 trials trained with another recipe (epochs 2 -> 5) are"
                                  " shown apart and excluded from the population (EDFs, tests,"
                                  " good ranges, trends, best models)")
    # The mask is the one rule of nasx.train.population, trial by trial.
    expect = [population.in_population(rec, hp, r.recipe)
              for rec, hp in zip(r.frame["recipe"], r.frame["hparams"], strict=True)]
    assert population_mask(r.frame, r.recipe).tolist() == expect
    s = summarize([r]).to_json()
    (run,) = s["runs"]
    assert other_ids.isdisjoint(run["ids"]) and run["edf"]["n"] == 20
    assert other_ids.isdisjoint(b["id"] for b in run["best"])
    assert other_ids.isdisjoint(p["id"] for p in run["pareto_flops"])
    assert other_ids.isdisjoint(run["stage_profiles"]["top_ids"])
    assert run["other_recipe"]["edf"]["n"] == 3 and run["counts"]["finished_other_recipe"] == 3
    assert {p["id"] for p in run["points"] if not p["in_population"]} == other_ids
    assert s["notes"] == [r.exclusion_note()]
    assert "varying" in run["recipe"] and run["recipe"]["common"]["epochs"] == 2


def test_runs_without_a_recorded_recipe_count_every_trial(tmp_path):
    r = read_run(make_run(tmp_path / "old", "old", n=10, n_other=2, legacy=True, seed=4))
    assert r.recipe is None and r.other_recipe.empty and len(r.comparable) == 12
    assert r.exclusion_note() is None
    # Before the validation split the error was the test error, and it is labelled so.
    assert r.error_kind == "test" and r.error_label == "test top-1 error (%)"
    np.testing.assert_allclose(r.done["test_error"], r.done["error"])
    assert summarize([r]).settings.error == "test top-1 error (%)"


def test_selection_uses_validation_error_and_shows_test_error(tmp_path):
    # Validation and test orders differ: the best on validation is the worst on test.
    pinned = [(10.0, 30.0), (12.0, 11.0), (14.0, 12.0), (16.0, 13.0)]
    r = read_run(make_run(tmp_path / "r", "r", n=4, errors=pinned, seed=5))
    s = summarize([r], normalize="none").to_json()
    (run,) = s["runs"]
    assert s["settings"]["error"] == "validation top-1 error (%)"
    assert run["error"] == "validation top-1 error (%)"
    assert [(b["error"], b["test_error"]) for b in run["best"]] == pinned
    assert run["best_error"] == 10.0 and run["best_test_error"] == 30.0
    assert run["best_id"] == run["best"][0]["id"] == int(r.sampled["id"].iloc[0])
    assert run["edf"]["x"] == [10.0, 12.0, 14.0, 16.0]
    assert run["pareto_flops"][0]["error"] in (10.0, 12.0, 14.0, 16.0)
    assert run["good_ranges"]["winner_rows"][0] > 0  # the bootstrap winners rank on validation


def test_missing_test_errors_are_tolerated(tmp_path):
    from nasx.store.run_store import RunStore

    root = make_run(tmp_path / "r", "r", n=3, seed=6)
    with RunStore.open(root) as store:
        tid = store.trials()[0].id
        store._conn.execute("UPDATE trials SET metrics = ? WHERE id = ?",
                            ('{"val_error": 5.0}', tid))
        store._conn.execute("UPDATE trials SET error = 5.0 WHERE id = ?", (tid,))
    s = summarize([read_run(root)], normalize="none").to_json()
    best = s["runs"][0]["best"][0]
    assert best["id"] == tid and best["error"] == 5.0 and best["test_error"] is None


def test_allowed_incomparable_runs_name_the_difference(tmp_path):
    a = make_run(tmp_path / "a", "a", n=20, seed=1, epochs=2)
    b = make_run(tmp_path / "b", "b", n=20, seed=2, epochs=5)
    (c,) = summarize(read_runs([a, b], allow_incomparable=True)).to_json()["comparisons"]
    assert {"kind": "recipe", "text": "the runs differ in what their errors measure"
            " (epochs 2 -> 5): neither comparison removes this"} in c["caveats"]
    assert "Caveats: the runs differ in what their errors measure (epochs 2 -> 5)" in c["verdict"]


@pytest.mark.parametrize("key", sorted(population.EXECUTION_KEYS - {"data_dir"}))
def test_execution_keys_do_not_split_a_population(tmp_path, key):
    from nasx.train.recipe import Recipe

    r = read_run(make_run(tmp_path / "r", "r", n=3, seed=7))
    changed = dict(r.recipe)
    changed[key] = {"device": "cuda", "threads": 2, "compile": True, "channels_last": False,
                    "amp": False, "eval_every": 3, "deterministic": True}[key]
    assert changed != Recipe(epochs=3).to_dict()
    frame = r.frame.assign(recipe=[{**rec, key: changed[key]} for rec in r.frame["recipe"]])
    assert population_mask(frame, r.recipe).all()


def test_narrowing_input_is_the_population(tmp_path):
    from nasx.refine.narrow import finished_frame
    from nasx.store.run_store import RunStore

    root = make_run(tmp_path / "r", "r", n=12, n_other=4, other_origin="sampled", seed=8)
    r = read_run(root)
    assert len(r.other_recipe) == 4 and set(r.other_recipe["origin"]) == {"sampled"}
    with RunStore.open(root) as store:
        frame = finished_frame(store)
    assert sorted(frame["id"]) == sorted(r.sampled["id"]) and len(frame) == 12
