"""Random CIFAR-shaped tensors for throughput benchmarks (seeded, generated on the device)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nasx.data.base import Dataset, check_fits

if TYPE_CHECKING:
    import torch

SYNTHETIC_SEED = 0


def make_synthetic(
    n_train: int,
    n_test: int,
    num_classes: int,
    resolution: int,
    in_channels: int,
    device: str | torch.device,
    seed: int = SYNTHETIC_SEED,
) -> Dataset:
    """Standard-normal images and uniform labels; already 'normalised', nothing to learn."""
    import torch

    dev = torch.device(device)
    check_fits(n_train + n_test, in_channels, resolution, dev, "synthetic")
    gen = torch.Generator(device=dev).manual_seed(seed)
    shape = (in_channels, resolution, resolution)

    def images(n: int) -> torch.Tensor:
        return torch.randn((n, *shape), generator=gen, device=dev)

    def labels(n: int) -> torch.Tensor:
        return torch.randint(0, num_classes, (n,), generator=gen, device=dev)

    return Dataset(
        name="synthetic",
        x_train=images(n_train),
        y_train=labels(n_train),
        x_test=images(n_test),
        y_test=labels(n_test),
        num_classes=num_classes,
        in_channels=in_channels,
        resolution=resolution,
        flip=True,
        crop=True,
    )
