"""One recipe per population: refine (and a later train) reuse the run's recipe unless told."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import optuna
import pytest

from nasx.cli.main import main
from nasx.store import RunStore
from nasx.train import population

SPACE = Path(__file__).with_name("anynet_tiny.yaml")
FAST = ["--executor", "inline", "--no-progress", "--keep-weights", "0"]


def _epochs(store: RunStore, origin: str) -> list[int]:
    return [t.recipe.epochs for t in store.trials("done") if t.origin == origin]


@pytest.fixture(scope="module")
def run_2ep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 models of the tiny space trained for 2 epochs (the space says 1)."""
    root = tmp_path_factory.mktemp("recipe")
    out = root / "run"
    rc = main(["run", str(SPACE), "--n", "8", "--epochs", "2", "--out", str(out), *FAST])
    assert rc == 0
    return out


def test_first_train_records_the_population_recipe(run_2ep: Path):
    with RunStore.open(run_2ep) as store:
        recorded = store.meta()[population.META_KEY]
        assert recorded["epochs"] == 2
        assert _epochs(store, "sampled") == [2] * 8


def test_refine_trains_with_the_population_recipe(run_2ep: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    shutil.copytree(run_2ep, run)
    assert main(["refine", str(run), "--trials", "4", *FAST]) == 0
    assert "recipe differs" not in capsys.readouterr().err
    with RunStore.open(run) as store:
        assert _epochs(store, "refine") == [2] * 4  # the population's 2, not the space's 1


def test_a_forced_recipe_is_announced_and_kept_apart(run_2ep: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    shutil.copytree(run_2ep, run)
    assert main(["refine", str(run), "--trials", "2", "--epochs", "3", "--study", "s3",
                 *FAST]) == 0
    err = capsys.readouterr().err
    assert "recipe differs" in err and "epochs 2 -> 3" in err
    with RunStore.open(run) as store:
        forced = [t for t in store.trials("done") if t.recipe.epochs == 3]
        assert len(forced) == 2
        assert store.meta()[population.META_KEY]["epochs"] == 2  # the population is unchanged
    # the next default refine warm-starts from the 2-epoch trials only
    assert main(["refine", str(run), "--trials", "1", *FAST]) == 0
    out = capsys.readouterr().out
    assert "2 of another recipe kept out" in out
    study = optuna.load_study(study_name="anynet_tiny-error",
                              storage=f"sqlite:///{(run / 'optuna.db').resolve()}")
    warm = {t.user_attrs["nasx_id"] for t in study.trials if t.user_attrs.get("nasx_warm_start")}
    assert warm.isdisjoint({t.id for t in forced})


def test_refine_takes_the_lock_before_changing_anything(run_2ep: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    shutil.copytree(run_2ep, run)
    with RunStore.open(run) as store:
        before = len(store.trials())
    fd = os.open(run / "driver.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        rc = main(["refine", str(run), "--trials", "2", *FAST])
    finally:
        os.close(fd)
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another nasx driver" in err[0]
    with RunStore.open(run) as store:
        assert len(store.trials()) == before  # no pending trial inserted
    assert not (run / "optuna.db").exists()  # no study (and no RUNNING Optuna trial) made


def test_a_folder_where_the_lock_should_be_is_one_line(run_2ep: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    shutil.copytree(run_2ep, run)
    (run / "driver.lock").unlink(missing_ok=True)
    (run / "driver.lock").mkdir()
    assert main(["train", str(run), *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "driver.lock" in err[0]


def test_refine_with_failing_trials_exits_1_with_the_reason(run_2ep: Path, tmp_path: Path,
                                                             capsys):
    run = tmp_path / "run"
    shutil.copytree(run_2ep, run)
    empty = tmp_path / "no-cifar"
    empty.mkdir()
    rc = main(["refine", str(run), "--trials", "2", "--study", "broken", "--data", "cifar10",
               "--data-dir", str(empty), *FAST])
    err = capsys.readouterr().err
    if rc == 2:  # refused up front (the data folder is checked before training): also honest
        assert len(err.strip().splitlines()) == 1
        return
    assert rc == 1
    assert "2 of 2 trials failed" in err and "--retry-failed" in err


def test_trials_stored_without_a_recipe_do_not_define_the_population(fake_run: Path):
    """Trials whose writer recorded an empty recipe leave the space's train: block in charge."""
    from nasx.execute.plan import choose_recipe

    with RunStore.open(fake_run, readonly=True) as store:
        choice = choose_recipe(store, {})
    assert choice.population is None and not choice.differs
    assert choice.recipe["epochs"] == 1  # anynet_tiny.yaml's train: block, not Recipe()'s 10
