"""On-device batching and augmentation: random permutation, random crop with padding, h-flip.

Everything runs on the tensors' device with an explicit ``torch.Generator`` on that device, so a
CUDA step never waits for the host and a CPU run is reproducible from the seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def crop_padding(resolution: int) -> int:
    """Padding of the random crop: 4 px at 32 px (CIFAR), scaled with the resolution."""
    return max(1, round(resolution / 8))


def random_crop_flip(
    x: torch.Tensor,
    gen: torch.Generator,
    *,
    crop: bool = True,
    flip: bool = True,
    pad: int | None = None,
) -> torch.Tensor:
    """Per-image random crop (zero padding ``pad``) and/or h-flip of a batch (B, C, H, W)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    b, c, h, w = x.shape
    if crop:
        p = crop_padding(h) if pad is None else pad
        padded = F.pad(x, (p, p, p, p))
        oy = torch.randint(0, 2 * p + 1, (b, 1), generator=gen, device=x.device)
        ox = torch.randint(0, 2 * p + 1, (b, 1), generator=gen, device=x.device)
        rows = oy + torch.arange(h, device=x.device)  # (B, H)
        cols = ox + torch.arange(w, device=x.device)  # (B, W)
        # Gather every image's own window in one indexing op (no per-image Python loop).
        bi = torch.arange(b, device=x.device).view(b, 1, 1, 1)
        ci = torch.arange(c, device=x.device).view(1, c, 1, 1)
        x = padded[bi, ci, rows.view(b, 1, h, 1), cols.view(b, 1, 1, w)]
    if flip:
        mask = torch.rand((b, 1, 1, 1), generator=gen, device=x.device) < 0.5
        x = torch.where(mask, x.flip(3), x)
    return x


def train_batches(
    x: torch.Tensor, y: torch.Tensor, batch_size: int, gen: torch.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of shuffled full batches (partial last batch dropped unless it is the only one)."""
    import torch

    n = x.shape[0]
    perm = torch.randperm(n, generator=gen, device=x.device)
    steps = steps_per_epoch(n, batch_size)
    size = min(batch_size, n)
    lazy = getattr(x, "batches", None)  # a view of a prepared store: batches gathered on demand
    if lazy is not None:
        host = perm.cpu()  # one transfer per epoch, not one per batch
        parts = [host[i * size : (i + 1) * size] for i in range(steps)]
        for i, xb in enumerate(lazy(parts)):
            yield xb, y[perm[i * size : (i + 1) * size]]
        return
    for i in range(steps):
        idx = perm[i * size : (i + 1) * size]
        yield x[idx], y[idx]


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Optimizer steps per epoch for ``n`` training images (at least 1)."""
    return max(1, n // batch_size)


def eval_batches(
    x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The whole set in order, in batches (the last one may be partial)."""
    for i in range(0, x.shape[0], batch_size):
        yield x[i : i + batch_size], y[i : i + batch_size]
