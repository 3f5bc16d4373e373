"""``load_dataset``: the registry of data sets (``DATA_SETS``), their readers, the per-worker cache."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from nasx.data.base import DataCache, Dataset
from nasx.errors import DataError

if TYPE_CHECKING:
    import torch

    from nasx.train.recipe import Recipe

# Seed of the train_fraction subset: fixed so every trial trains on the same images.
SUBSET_SEED = 0

# A reader: (recipe, resolution, in_channels, device) -> the whole data set on the device.
Reader = Callable[["Recipe", int, int, "torch.device"], Dataset]


@dataclass(frozen=True)
class DataSetEntry:
    """A data set ``recipe.data`` may name: its reader and the recipe fields its data depend on.

    ``key_fields`` are the recipe fields, beyond the shared ones (data, data_dir, split), that
    change what the reader returns: they enter the per-worker cache key.
    """

    load: Reader
    key_fields: tuple[str, ...] = ()


def _stored(recipe: Recipe, resolution: int, in_channels: int, device: torch.device) -> Dataset:
    """Every data set's one path: its prepared store (prepared on first use), read lazily."""
    from nasx.data.fromstore import stored_dataset
    from nasx.data.lookup import store_for

    store = store_for(recipe, resolution, in_channels)
    return stored_dataset(store, resolution, in_channels, device,
                          val_fraction=recipe.val_fraction, split_seed=recipe.split_seed)


# The registry of data sets (each gets a train/validation/test split); the recipe's `data` rule
# reads its names. Adding a data set is one entry here (docs/internals.md, "How to add a data set").
DATA_SETS: Mapping[str, DataSetEntry] = MappingProxyType({
    "digits": DataSetEntry(_stored),
    "cifar10": DataSetEntry(_stored),
    "imagefolder": DataSetEntry(_stored),
    "fashion_mnist": DataSetEntry(_stored),
    "mnist_idx": DataSetEntry(_stored),
    "synthetic": DataSetEntry(_stored, ("synthetic_train", "synthetic_test",
                                        "synthetic_classes")),
    "imagenet_npz": DataSetEntry(_stored),  # downsampled ImageNet (Chrabaszcz et al. 2017)
})


def _entry(recipe: Recipe) -> DataSetEntry:
    entry = DATA_SETS.get(recipe.data)
    if entry is None:
        raise DataError(f"unknown data set {recipe.data!r} ({', '.join(DATA_SETS)})", key="data")
    return entry


def load_dataset(
    recipe: Recipe,
    resolution: int,
    in_channels: int,
    device: str | torch.device,
    cache: DataCache | None = None,
) -> Dataset:
    """Train/validation/test tensors of ``recipe.data``, normalised, on ``device`` (cached).

    The validation part comes from the training images (``recipe.val_fraction``, seeded by
    ``recipe.split_seed``); ``recipe.train_fraction`` then subsets only what remains for training.
    """
    import torch

    dev = torch.device(device)
    key: tuple[object, ...] = (
        recipe.data,
        recipe.data_dir,
        resolution,
        in_channels,
        str(dev),
        recipe.val_fraction,
        recipe.split_seed,
    )
    entry = _entry(recipe)
    key += tuple(getattr(recipe, f) for f in entry.key_fields)
    if cache is None:
        ds = entry.load(recipe, resolution, in_channels, dev)
    else:
        ds = cache.get_or_load(key, lambda: entry.load(recipe, resolution, in_channels, dev))
    return ds.subset_train(recipe.train_fraction, seed=SUBSET_SEED)
