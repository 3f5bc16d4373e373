"""``load_dataset``: a data set (its entry in :mod:`nasx.data.sets`) read from its prepared store.

Takes any object with the recipe's data fields (:class:`~nasx.data.sets.entry.DataRecipe`), so
the data layer never imports ``nasx.train``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nasx.data.base import DataCache, Dataset
from nasx.data.sets import get
from nasx.data.sets.entry import DataRecipe

if TYPE_CHECKING:
    import torch

# Seed of the train_fraction subset: fixed so every trial trains on the same images.
SUBSET_SEED = 0


def _stored(recipe: DataRecipe, resolution: int, in_channels: int, device: torch.device) -> Dataset:
    """Every data set's one path: its prepared store (prepared on first use), read lazily."""
    from nasx.data.fromstore import stored_dataset
    from nasx.data.lookup import store_for

    store = store_for(recipe, resolution, in_channels)
    return stored_dataset(store, resolution, in_channels, device,
                          val_fraction=recipe.val_fraction, split_seed=recipe.split_seed)


def load_dataset(
    recipe: DataRecipe,
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
    entry = get(recipe.data)
    key += tuple(getattr(recipe, f) for f in entry.key_fields)
    if cache is None:
        ds = _stored(recipe, resolution, in_channels, dev)
    else:
        ds = cache.get_or_load(key, lambda: _stored(recipe, resolution, in_channels, dev))
    return ds.subset_train(recipe.train_fraction, seed=SUBSET_SEED)
