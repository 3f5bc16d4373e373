"""Random CIFAR-shaped tensors for throughput benchmarks (seeded, generated on the device)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nasx.data.base import Dataset, check_fits, stratified_split

if TYPE_CHECKING:
    import torch

SYNTHETIC_SEED = 0


def synthetic_tensors(
    n_train: int,
    n_test: int,
    num_classes: int,
    resolution: int,
    in_channels: int,
    device: torch.device,
    seed: int = SYNTHETIC_SEED,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_test, y_test) before the validation split: seeded normal images."""
    import torch

    gen = torch.Generator(device=device).manual_seed(seed)
    shape = (in_channels, resolution, resolution)

    def images(n: int) -> torch.Tensor:
        return torch.randn((n, *shape), generator=gen, device=device)

    def labels(n: int) -> torch.Tensor:
        return torch.randint(0, num_classes, (n,), generator=gen, device=device)

    x_all, y_all = images(n_train), labels(n_train)
    return x_all, y_all, images(n_test), labels(n_test)


def make_synthetic(
    n_train: int,
    n_test: int,
    num_classes: int,
    resolution: int,
    in_channels: int,
    device: str | torch.device,
    *,
    val_fraction: float,
    split_seed: int,
    seed: int = SYNTHETIC_SEED,
) -> Dataset:
    """Standard-normal images and uniform labels; already 'normalised', nothing to learn.

    The validation part is carved from the ``n_train`` training images (stratified, seeded by
    ``split_seed``), as for every other data set; the images themselves depend on ``seed`` only.
    """
    import torch

    dev = torch.device(device)
    check_fits(n_train + n_test, in_channels, resolution, dev, "synthetic")
    x_all, y_all, x_test, y_test = synthetic_tensors(
        n_train, n_test, num_classes, resolution, in_channels, dev, seed
    )
    # One host copy of the labels per load (not per trial: the data set is cached).
    train_np, val_np = stratified_split(y_all.cpu().numpy(), val_fraction, split_seed)
    train = torch.from_numpy(train_np).to(dev)
    val = torch.from_numpy(val_np).to(dev)
    return Dataset(
        name="synthetic",
        x_train=x_all[train],
        y_train=y_all[train],
        x_val=x_all[val],
        y_val=y_all[val],
        x_test=x_test,
        y_test=y_test,
        num_classes=num_classes,
        in_channels=in_channels,
        resolution=resolution,
        flip=True,
        crop=True,
        mean=(0.0,) * in_channels,  # generated standardised: nothing applied
        std=(1.0,) * in_channels,
    )
