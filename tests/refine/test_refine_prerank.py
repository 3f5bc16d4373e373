"""nasx refine --prerank PROXY --oversample K: each round trains the suggestions the proxy likes.

``params`` (exact, free) makes the ranking deterministic; one real proxy (synflow) checks that
the stored score is the one ``nasx.proxies`` gives the trial at its seeded initialisation.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nasx.cli.main import main
from nasx.errors import RefineError
from nasx.execute import ExecOptions
from nasx.refine.options import RefineOptions
from nasx.refine.study import refine
from nasx.sample import create_run
from nasx.store import RunStore
from nasx.store.proxies import get_proxies

INLINE = ExecOptions(executor="inline", progress=False, keep_weights=0)


@pytest.fixture()
def run(tmp_path: Path, space_file: Path, fill) -> Path:
    """5 trials of the tiny space with synthetic errors (nothing trains)."""
    out = tmp_path / "run"
    store, _ = create_run(space_file, n=5, seed=0, out=out, progress=False)
    fill(store)
    store.close()
    return out


def _study(run: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{(run / 'optuna.db').resolve()}")


@pytest.mark.parametrize("batch", [1, 2])
def test_prerank_params_trains_the_best_third_of_each_round(run, batch):
    s = refine(run, RefineOptions(trials=4, batch=batch, prerank="params", oversample=3, seed=0),
               INLINE)
    assert len(s.trained) == 4 and s.done == 4
    assert s.preranked == 8  # 3 x 4 feasible suggestions scored, 4 trained
    rounds: dict[int, list[optuna.trial.FrozenTrial]] = defaultdict(list)
    for t in _study(run, s.study).trials:
        if "nasx_prerank_round" in t.user_attrs:
            rounds[t.user_attrs["nasx_prerank_round"]].append(t)
    assert len(rounds) == 4 // batch
    with RunStore.open(run) as store:
        params = {t.id: t.params for t in store.trials()}
        proxies = get_proxies(store)
    trained_ids = []
    for ts in rounds.values():
        assert len(ts) == 3 * batch
        score = {t.number: t.user_attrs["nasx_prerank_params"] for t in ts}
        best = sorted(score, key=lambda n: -score[n])[:batch]
        kept = [t for t in ts if "nasx_id" in t.user_attrs]
        skipped = [t for t in ts if "nasx_prerank_skipped" in t.user_attrs]
        # the trained ones are exactly the round's best by params; Optuna learns nothing else
        assert sorted(t.number for t in kept) == sorted(best)
        assert all(t.state == TrialState.COMPLETE for t in kept)
        assert all(t.state == TrialState.FAIL for t in skipped) and len(skipped) == 2 * batch
        assert min(score[t.number] for t in kept) >= max(score[t.number] for t in skipped)
        for t in kept:
            assert score[t.number] == params[t.user_attrs["nasx_id"]]
            trained_ids.append(t.user_attrs["nasx_id"])
    assert sorted(trained_ids) == sorted(s.trained)
    # the trained ones' proxy values are in the proxies table, only theirs
    assert proxies == {i: {"params": params[i]} for i in s.trained}
    with RunStore.open(run) as store:  # nothing untrained reached the store
        assert sorted(t.id for t in store.trials() if t.origin == "refine") == sorted(s.trained)
    assert "preranked by params: 8 feasible suggestions ranked away" in "\n".join(s.lines())


def test_prerank_by_a_real_proxy_stores_the_trials_own_score(run):
    from nasx.proxies import proxies_of

    s = refine(run, RefineOptions(trials=1, prerank="synflow", oversample=2), INLINE)
    (tid,) = s.trained
    assert s.preranked == 1
    with RunStore.open(run) as store:
        t = store.get(tid)
        got = get_proxies(store)[tid]["synflow"]
    assert t.recipe is not None  # the recipe it trained with: the score used the same data
    assert got == pytest.approx(proxies_of(t.spec, t.recipe, t.seed, names=["synflow"])["synflow"])


@pytest.mark.parametrize(("prerank", "oversample", "key"), [
    ("nope", 3, "prerank"), ("params", 1, "oversample"), ("synflow", 0, "oversample"),
    (None, 3, "oversample")])
def test_bad_prerank_options_are_one_line_refine_errors(run, capsys, prerank, oversample, key):
    with pytest.raises(RefineError, match=key) as info:
        RefineOptions(trials=1, prerank=prerank, oversample=oversample).validate("inline")
    assert "\n" not in str(info.value)
    argv = ["refine", str(run), "--trials", "1", "--oversample", str(oversample)]
    assert main(argv + (["--prerank", prerank] if prerank else [])) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err
