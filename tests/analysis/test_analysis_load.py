"""Loading runs into frames, and the one-line errors for runs that cannot be analysed."""

from __future__ import annotations

import pytest
from synth_runs import make_run

from nasx.analysis import load_runs, read_runs
from nasx.errors import AnalysisError
from nasx.store.run_store import RunStore


def test_load_runs_has_run_column_and_counts(tmp_path):
    a = make_run(tmp_path / "a", "space_a", n=20, n_failed=2, n_diverged=1, n_refine=3, seed=1)
    b = make_run(tmp_path / "b", "space_b", n=15, n_pending=4, seed=2)
    df = load_runs([a, b])
    assert sorted(df["run"].unique()) == ["space_a", "space_b"]
    assert len(df) == 26 + 19 and {"v.depth", "h.lr", "flops", "spec"} <= set(df.columns)
    runs = read_runs([a, b])
    ra = runs[0]
    assert ra.counts["failed"] == 2 and ra.counts["diverged"] == 1 and ra.counts["done"] == 23
    assert len(ra.sampled) == 20 and len(ra.refined) == 3
    assert runs[1].counts["pending"] == 4 and len(runs[1].done) == 15


def test_same_name_runs_are_told_apart(tmp_path):
    a = make_run(tmp_path / "a", "same", n=5, seed=1)
    b = make_run(tmp_path / "b", "same", n=5, seed=2)
    names = [r.name for r in read_runs([a, b])]
    assert len(set(names)) == 2 and all(n.startswith("same@") for n in names)


def test_empty_run_is_an_error(tmp_path):
    RunStore.create(tmp_path / "e", "name: e\n", {"name": "e"}).close()
    with pytest.raises(AnalysisError, match="no trials") as exc:
        load_runs([tmp_path / "e"])
    assert "\n" not in str(exc.value) and str(tmp_path / "e") in str(exc.value)


def test_run_without_finished_trial_is_an_error(tmp_path):
    r = make_run(tmp_path / "r", "r", n=0, n_failed=2, n_pending=3)
    with pytest.raises(AnalysisError, match=r"no finished \(done\) trial.*pending 3, failed 2"):
        load_runs([r])


@pytest.mark.parametrize(("kw", "what"), [({"epochs": 5}, "epochs 3 -> 5"),
                                         ({"data": "synthetic"}, "data 'digits' -> 'synthetic'")])
@pytest.mark.parametrize("legacy", [False, True])
def test_incomparable_recipes_are_an_error(tmp_path, kw, what, legacy):
    a = make_run(tmp_path / "a", "a", n=5, seed=1, legacy=legacy)
    b = make_run(tmp_path / "b", "b", n=5, seed=2, legacy=legacy, **kw)
    with pytest.raises(AnalysisError, match="runs a and b cannot be compared") as exc:
        load_runs([a, b])
    key = what.split()[0]
    assert f"differ in '{key}' ({what})" in str(exc.value) and "--allow-incomparable" in str(exc.value)
    assert len(read_runs([a, b], allow_incomparable=True)) == 2


def test_validation_and_test_error_runs_are_not_comparable(tmp_path):
    a = make_run(tmp_path / "a", "a", n=5, seed=1)
    b = make_run(tmp_path / "b", "b", n=5, seed=2, legacy=True)
    with pytest.raises(AnalysisError, match=r"'error' \(error validation -> test\)"):
        read_runs([a, b])


def test_the_same_run_twice_is_an_error(tmp_path):
    a = make_run(tmp_path / "a", "a", n=5, seed=1)
    with pytest.raises(AnalysisError, match="the same run is given twice") as exc:
        read_runs([a, tmp_path / "." / "a"])
    assert "\n" not in str(exc.value)
