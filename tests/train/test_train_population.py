"""Which recipe keys define a population (nasx.train.population)."""

from __future__ import annotations

from nasx.train import population
from nasx.train.recipe import Recipe


def test_execution_and_sampled_keys_do_not_split_a_population():
    base = Recipe(epochs=2).to_dict()
    other = Recipe(epochs=2, threads=2, device="cpu", data_dir="/x", lr=0.3).to_dict()
    assert not population.same(base, other)
    assert population.same(base, other, sampled=["lr"])  # lr drawn per trial by the space
    assert population.diff(base, other) == ["lr 0.1 -> 0.3"]


def test_a_changed_budget_is_named():
    assert population.diff(Recipe(epochs=2).to_dict(), Recipe(epochs=5).to_dict()) == [
        "epochs 2 -> 5"]
    assert population.key(Recipe(epochs=2).to_dict()) != population.key(Recipe(epochs=5).to_dict())


def test_membership_rules():
    run = Recipe(epochs=2).to_dict()
    assert population.in_population(Recipe(epochs=2, threads=1).to_dict(), {}, run)
    assert not population.in_population(Recipe(epochs=3).to_dict(), {}, run)
    assert not population.in_population(None, {}, run)  # never started
    assert population.in_population(Recipe(epochs=3).to_dict(), {}, None)  # older run
    assert population.in_population({}, {}, run)  # recipe not recorded by its writer


def test_a_recipe_from_before_the_validation_split_is_another_population():
    old = {k: v for k, v in Recipe(epochs=2).to_dict().items()
           if k not in ("val_fraction", "split_seed")}
    assert not population.same(old, Recipe(epochs=2).to_dict())
    assert "val_fraction None -> 0.1" in population.diff(old, Recipe(epochs=2).to_dict())
