"""``load_dataset``: pick the reader for ``recipe.data``, convert, cache per worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nasx.data.base import DataCache, Dataset, to_dataset
from nasx.errors import DataError

if TYPE_CHECKING:
    import torch

    from nasx.train.recipe import Recipe

# Seed of the train_fraction subset: fixed so every trial trains on the same images.
SUBSET_SEED = 0
# The data sets ``recipe.data`` may name (each gets a train/validation/test split).
DATA_SETS = ("digits", "cifar10", "imagefolder", "synthetic")


def _load(recipe: Recipe, resolution: int, in_channels: int, device: torch.device) -> Dataset:
    if recipe.data == "synthetic":
        from nasx.data.synthetic import make_synthetic

        return make_synthetic(
            recipe.synthetic_train,
            recipe.synthetic_test,
            recipe.synthetic_classes,
            resolution,
            in_channels,
            device,
            val_fraction=recipe.val_fraction,
            split_seed=recipe.split_seed,
        )
    if recipe.data == "digits":
        from nasx.data.digits import load_digits_raw

        raw = load_digits_raw()
    elif recipe.data == "cifar10":
        from nasx.data.cifar import load_cifar10_raw

        raw = load_cifar10_raw(recipe.data_dir)
    elif recipe.data == "imagefolder":
        from nasx.data.imagefolder import load_imagefolder_raw

        raw = load_imagefolder_raw(recipe.data_dir, resolution, in_channels)
    else:
        raise DataError(
            f"unknown data set {recipe.data!r} ({', '.join(DATA_SETS)})",
            key="data",
        )
    return to_dataset(
        raw,
        resolution,
        in_channels,
        device,
        val_fraction=recipe.val_fraction,
        split_seed=recipe.split_seed,
    )


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
    if recipe.data == "synthetic":
        key += (recipe.synthetic_train, recipe.synthetic_test, recipe.synthetic_classes)
    if cache is None:
        ds = _load(recipe, resolution, in_channels, dev)
    else:
        ds = cache.get_or_load(key, lambda: _load(recipe, resolution, in_channels, dev))
    return ds.subset_train(recipe.train_fraction, seed=SUBSET_SEED)
