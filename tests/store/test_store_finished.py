"""The finished population: one query, its variants as parameters; statuses and origins as enums."""

from __future__ import annotations

import json
import sqlite3

import pytest

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.store import NewTrial, Origin, RunStore, TrialStatus
from nasx.store.run_store import DB_NAME, STATUSES
from nasx.train import population
from nasx.train.recipe import Recipe

SPEC = ArchSpec(family="regnet", stem=StemSpec(width=8),
                stages=(StageSpec(block="basic", depth=1, width=8, stride=1),),
                head=HeadSpec(num_classes=10))
POP = Recipe(epochs=2)
# id: (origin, recipe, final status, error, metrics)
ROWS = {
    1: (Origin.SAMPLED, POP, "done", 10.0, {}),
    2: (Origin.REFINE, POP, "done", 9.0, {}),
    3: (Origin.SAMPLED, Recipe(epochs=5), "done", 8.0, {}),  # another recipe
    4: (Origin.SAMPLED, POP, "done", 7.0, {"stopped_early": True}),  # pruned
    5: (Origin.SAMPLED, POP, "done", None, {}),  # done without an error
    6: (Origin.SAMPLED, POP, "failed", None, {}),
    7: (Origin.SAMPLED, None, "done", 11.0, {}),  # no recipe recorded: counts in
    8: (Origin.SAMPLED, POP, "done", float("inf"), {}),  # not a finite error
}


@pytest.fixture
def store(tmp_path):
    s = RunStore.create(tmp_path / "run", "family: regnet\n", {"name": "r"})
    s.add_trials(NewTrial(fingerprint=f"fp{i}", values={"i": i}, spec=SPEC, flops=i, params=i,
                          acts=i, seed=i, origin=origin)
                 for i, (origin, *_) in ROWS.items())
    s.add_trials([NewTrial(fingerprint="fp9", values={"i": 9}, spec=SPEC, flops=9, params=9,
                           acts=9, seed=9)])  # pending
    s.set_meta(**{population.META_KEY: POP.to_dict()})
    for i, (_, recipe, status, error, metrics) in ROWS.items():
        s.mark_running(i, recipe, device="cpu")
        s.finish(i, status, error=error, metrics=metrics)
    yield s
    s.close()


def _ids(found) -> tuple[list[int], list[int]]:
    return [t.id for t in found.trials], [t.id for t in found.other_recipe]


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, ([1, 7], [3])),  # the population: sampled, the run's recipe, not pruned
    ({"origins": None}, ([1, 2, 7], [3])),  # refine's warm start
    ({"origins": None, "stopped_early": True}, ([1, 2, 4, 7], [3])),  # analysis, export
    ({"origins": None, "any_recipe": True, "stopped_early": True}, ([1, 2, 3, 4, 7], [])),  # ls
    ({"recipe": Recipe(epochs=5).to_dict()}, ([3, 7], [1])),  # the population of another recipe
])
def test_finished_population_variants(store, kwargs, expected):
    assert _ids(store.finished(**kwargs)) == expected


def test_statuses_and_origins_are_strings(store):
    t = store.get(1)
    assert t.status is TrialStatus.DONE and t.status == "done" and f"{t.status}" == "done"
    assert t.origin is Origin.SAMPLED and json.dumps([t.status, t.origin]) == '["done", "sampled"]'
    assert STATUSES == ("pending", "running", "done", "failed", "diverged", "pruned")
    assert store.counts() == {"pending": 1, "running": 0, "done": 7, "failed": 1, "diverged": 0,
                              "pruned": 0}
    assert TrialStatus.final() == ("done", "failed", "diverged", "pruned")


def test_records_are_typed_and_the_stored_recipe_kept(store):
    t = store.get(3)
    assert t.spec == SPEC and t.recipe == Recipe(epochs=5)
    assert t.stored_recipe == Recipe(epochs=5).to_dict()
    unrecorded = store.get(7)
    assert unrecorded.recipe is None and unrecorded.stored_recipe == {}
    assert store.get(9).recipe is None and store.get(9).stored_recipe is None


def test_the_check_refuses_an_unknown_status(store, tmp_path):
    conn = sqlite3.connect(tmp_path / "run" / DB_NAME)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE trials SET status = 'paused' WHERE id = 1")
    conn.close()
