"""``load_dataset``: the registry of data sets (``DATA_SETS``), their readers, the per-worker cache."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from nasx.data.base import DataCache, Dataset, RawData, to_dataset
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


def _from_raw(read: Callable[[Recipe, int, int], RawData]) -> Reader:
    """A reader that splits and converts the images ``read`` returns (every file-backed set)."""

    def load(recipe: Recipe, resolution: int, in_channels: int, device: torch.device) -> Dataset:
        return to_dataset(read(recipe, resolution, in_channels), resolution, in_channels, device,
                          val_fraction=recipe.val_fraction, split_seed=recipe.split_seed)

    return load


def _digits(recipe: Recipe, resolution: int, in_channels: int) -> RawData:
    from nasx.data.digits import load_digits_raw

    return load_digits_raw()


def _cifar10(recipe: Recipe, resolution: int, in_channels: int) -> RawData:
    from nasx.data.cifar import load_cifar10_raw

    return load_cifar10_raw(recipe.data_dir)


def _imagefolder(recipe: Recipe, resolution: int, in_channels: int) -> RawData:
    from nasx.data.imagefolder import load_imagefolder_raw

    return load_imagefolder_raw(recipe.data_dir, resolution, in_channels)


def _fashion_mnist(recipe: Recipe, resolution: int, in_channels: int) -> RawData:
    from nasx.data.fashion_mnist import load_fashion_mnist_raw

    return load_fashion_mnist_raw(recipe.data_dir)


def _mnist_idx(recipe: Recipe, resolution: int, in_channels: int) -> RawData:
    from nasx.data.idx import load_mnist_idx_raw

    return load_mnist_idx_raw(recipe.data_dir)


def _synthetic(recipe: Recipe, resolution: int, in_channels: int,
               device: torch.device) -> Dataset:
    from nasx.data.synthetic import make_synthetic

    return make_synthetic(recipe.synthetic_train, recipe.synthetic_test,
                          recipe.synthetic_classes, resolution, in_channels, device,
                          val_fraction=recipe.val_fraction, split_seed=recipe.split_seed)


# The registry of data sets (each gets a train/validation/test split); the recipe's `data` rule
# reads its names. Adding a data set is one entry here (docs/internals.md, "How to add a data set").
DATA_SETS: Mapping[str, DataSetEntry] = MappingProxyType({
    "digits": DataSetEntry(_from_raw(_digits)),
    "cifar10": DataSetEntry(_from_raw(_cifar10)),
    "imagefolder": DataSetEntry(_from_raw(_imagefolder)),
    "fashion_mnist": DataSetEntry(_from_raw(_fashion_mnist)),
    "mnist_idx": DataSetEntry(_from_raw(_mnist_idx)),
    "synthetic": DataSetEntry(_synthetic, ("synthetic_train", "synthetic_test",
                                           "synthetic_classes")),
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
