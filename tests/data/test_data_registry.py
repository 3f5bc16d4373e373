"""The data-set registry: the one list the recipe's `data` rule, the loader and the CLI read."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nasx.data import sets
from nasx.data.base import DataCache
from nasx.data.loader import load_dataset
from nasx.data.sets import synthetic
from nasx.errors import DataError, TrainError
from nasx.train.recipe import Recipe

SHIPPED = ["digits", "cifar10", "imagefolder", "fashion_mnist", "mnist_idx", "synthetic",
           "imagenet_npz"]


def test_recipe_rule_reads_the_registry_names() -> None:
    assert list(sets.names()) == SHIPPED
    with pytest.raises(TrainError, match="key 'data': must be digits, cifar10, imagefolder, "
                                         "fashion_mnist, mnist_idx, synthetic or imagenet_npz, got 'mnist'"):
        Recipe(data="mnist").validate()
    with pytest.raises(TrainError, match="key 'data'"):
        Recipe(data=["digits"]).validate()  # type: ignore[arg-type]


def test_a_registered_entry_is_accepted_and_loaded() -> None:
    toy = replace(synthetic.ENTRY, name="toy", key_fields=("synthetic_classes",))
    with sets.registered(toy):
        with pytest.raises(TrainError, match="must be digits, cifar10, imagefolder, "
                                             "fashion_mnist, mnist_idx, synthetic, "
                                             "imagenet_npz or toy"):
            Recipe(data="mnist").validate()
        recipe = Recipe(data="toy", synthetic_classes=4, synthetic_train=40, synthetic_test=10)
        recipe.validate()
        cache = DataCache()
        ds = load_dataset(recipe, 8, 1, "cpu", cache)
        assert tuple(ds.x_train.shape[1:]) == (1, 8, 8) and int(ds.y_train.max()) < 4
        assert load_dataset(recipe, 8, 1, "cpu", cache) is ds  # cached: same key
        other = load_dataset(replace(recipe, synthetic_classes=3), 8, 1, "cpu", cache)
        assert other is not ds and int(other.y_train.max()) < 3  # a key field changes the key
        with pytest.raises(DataError, match="already registered"):
            sets.register(toy)
    assert "toy" not in sets.names()  # registered() leaves the registry as it was


def test_unknown_name_is_a_data_error() -> None:
    with pytest.raises(DataError, match="key 'data'.*unknown data set 'mnist' "
                                        r"\(digits, cifar10, imagefolder, fashion_mnist, "
                                        r"mnist_idx, synthetic, imagenet_npz\)"):
        load_dataset(Recipe(data="mnist"), 8, 1, "cpu")
