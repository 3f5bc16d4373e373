"""Every proxy of one architecture: the trial's data and a fresh seeded model per proxy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from nasx.arch.spec import ArchSpec
from nasx.errors import DataError, TrainError
from nasx.proxies.measures import PROXIES
from nasx.train.recipe import Recipe

if TYPE_CHECKING:
    from nasx.data.base import DataCache, Dataset


def check_names(names: Sequence[str] | None) -> list[str]:
    """The proxies asked for (every one when None); a TrainError names an unknown one."""
    if names is None:
        return list(PROXIES)
    bad = [n for n in names if n not in PROXIES]
    if bad:
        raise TrainError(f"unknown proxy {bad[0]!r} ({', '.join(PROXIES)})", key="only")
    return list(dict.fromkeys(names))


def minibatch(data: Dataset, batches: int, batch_size: int, seed: int
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """``batches * batch_size`` training images drawn without replacement (seeded), concatenated."""
    n = data.x_train.shape[0]
    take = min(n, batches * batch_size)
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(n, generator=gen)[:take].to(data.x_train.device)
    return data.x_train[idx], data.y_train[idx]


def proxies_of(spec: ArchSpec, recipe: Recipe, seed: int, *, batches: int = 1,
               batch_size: int = 64, names: Sequence[str] | None = None,
               cache: DataCache | None = None, device: str = "cpu") -> dict[str, float]:
    """Each proxy of ``spec`` at its seeded initialisation on the recipe's training data."""
    from nasx.data import load_dataset
    from nasx.models import build_model

    chosen = check_names(names)
    data = load_dataset(recipe, spec.resolution, spec.in_channels, device, cache)
    if spec.num_classes != data.num_classes:
        raise DataError(f"the spec has num_classes {spec.num_classes} but data '{data.name}' has"
                        f" {data.num_classes} classes", key="num_classes")
    x, y = minibatch(data, batches, batch_size, seed)
    out: dict[str, float] = {}
    for name in chosen:
        torch.manual_seed(seed)
        # a fresh model per proxy: synflow rewrites the weights, the others leave gradients
        model = build_model(spec, init=True, seed=seed).to(device)
        model.train()
        out[name] = PROXIES[name](model, x, y)
    return out
