"""The data-set registry: the one list the recipe's `data` rule and the loader read."""

from __future__ import annotations

from types import MappingProxyType

import pytest

import nasx.data.loader as loader
from nasx.data.base import DataCache
from nasx.data.synthetic import make_synthetic
from nasx.errors import DataError, TrainError
from nasx.train.recipe import Recipe


def test_recipe_rule_reads_the_registry_names() -> None:
    assert list(loader.DATA_SETS) == ["digits", "cifar10", "imagefolder", "fashion_mnist",
                                    "mnist_idx", "synthetic", "imagenet_npz"]
    with pytest.raises(TrainError, match="key 'data': must be digits, cifar10, imagefolder, "
                                         "fashion_mnist, mnist_idx, synthetic or imagenet_npz, got 'mnist'"):
        Recipe(data="mnist").validate()
    with pytest.raises(TrainError, match="key 'data'"):
        Recipe(data=["digits"]).validate()  # type: ignore[arg-type]


def test_a_new_entry_is_accepted_and_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def toy(recipe: Recipe, resolution: int, in_channels: int, device: object):  # noqa: ANN202
        calls.append(recipe.synthetic_classes)
        return make_synthetic(40, 10, recipe.synthetic_classes, resolution, in_channels, device,
                              val_fraction=recipe.val_fraction, split_seed=recipe.split_seed)

    entry = loader.DataSetEntry(toy, key_fields=("synthetic_classes",))
    monkeypatch.setattr(loader, "DATA_SETS", MappingProxyType({**loader.DATA_SETS, "toy": entry}))
    with pytest.raises(TrainError, match="must be digits, cifar10, imagefolder, fashion_mnist, "
                                         "mnist_idx, synthetic, imagenet_npz or toy"):
        Recipe(data="mnist").validate()
    recipe = Recipe(data="toy", synthetic_classes=4)
    recipe.validate()
    cache = DataCache()
    ds = loader.load_dataset(recipe, 8, 1, "cpu", cache)
    assert tuple(ds.x_train.shape[1:]) == (1, 8, 8) and int(ds.y_train.max()) < 4
    loader.load_dataset(recipe, 8, 1, "cpu", cache)  # cached: same key
    loader.load_dataset(Recipe(data="toy", synthetic_classes=3), 8, 1, "cpu", cache)
    assert calls == [4, 3]  # a key field changes the cache key


def test_unknown_name_is_a_data_error() -> None:
    with pytest.raises(DataError, match="key 'data'.*unknown data set 'mnist' "
                                        r"\(digits, cifar10, imagefolder, fashion_mnist, "
                                        r"mnist_idx, synthetic, imagenet_npz\)"):
        loader.load_dataset(Recipe(data="mnist"), 8, 1, "cpu")
