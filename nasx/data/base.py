"""The in-memory data set every loader produces, the per-worker cache, and the tensor pipeline.

Data sets that fit in memory sit whole on the training device as normalised float tensors: a batch
is an index into them, so there are no DataLoader worker processes and no host-device copies inside
the step loop. Torch is imported inside functions only (``nasx.data`` is importable by the driver).

Every data set has three parts: train (what the model learns from), validation (carved from the
reader's training images by :func:`stratified_split`, seeded by the recipe's ``split_seed``; what
every selection uses) and test (the reader's own test images, measured once at the end).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from nasx.errors import DataError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class RawData:
    """A data set as read from disk: uint8 or [0, 1] float images (N, C, H, W), int labels.

    Readers return no validation part (``x_val`` None); :func:`split_validation` carves it.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    flip: bool  # horizontal flip preserves the label (not for digits)
    crop: bool  # random crop with padding preserves the label
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None


@dataclass(frozen=True)
class Dataset:
    """Train/validation/test tensors, normalised, on the training device; labels are int64."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    in_channels: int
    resolution: int
    flip: bool
    crop: bool
    # The per-channel standardisation applied to every part, (x - mean) / std on [0, 1] pixels;
    # measured on the training part. What a user of an exported model must repeat.
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    def tensors(self) -> tuple[torch.Tensor, ...]:
        """(x_train, y_train, x_val, y_val, x_test, y_test)."""
        return self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test

    def subset_train(self, fraction: float, seed: int = 0) -> Dataset:
        """The same data set with a seeded random ``fraction`` of the training images.

        Only the training part shrinks: the validation and test parts stay whole.
        """
        import torch

        if fraction >= 1.0:
            return self
        n = self.x_train.shape[0]
        keep = max(1, int(round(n * fraction)))
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randperm(n, generator=gen)[:keep].sort().values.to(self.x_train.device)
        select = getattr(self.x_train, "select", None)  # a lazy view of a prepared store
        x = select(idx) if select is not None else self.x_train[idx]
        return replace(self, x_train=x, y_train=self.y_train[idx])


class DataCache:
    """Loaded data sets kept alive between trials in one worker (LRU, ``max_items`` entries).

    Keyed by (data, data_dir, resolution, in_channels, device, val_fraction, split_seed) plus, for
    synthetic data, its sizes.
    """

    def __init__(self, max_items: int = 2) -> None:
        self.max_items = max(1, max_items)
        self._items: OrderedDict[tuple[object, ...], Dataset] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get_or_load(self, key: tuple[object, ...], load: Callable[[], Dataset]) -> Dataset:
        """The cached data set for ``key``; on a miss the oldest entries go before it loads."""
        if key in self._items:
            self.hits += 1
            self._items.move_to_end(key)
            return self._items[key]
        self.misses += 1
        # Evict first: the data set that leaves must not share the device with the one that loads.
        while len(self._items) >= self.max_items:
            self._items.popitem(last=False)
        ds = load()
        self._items[key] = ds
        return ds

    def clear(self) -> None:
        """Drop every cached data set (frees device memory)."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices), both sorted: a seeded, class-stratified split of ``y``.

    The validation part holds round(N * fraction) images (at least 1, at most N - 1); each class
    gives floor or ceil of its own share (largest remainders first, ties broken by the seed) and
    keeps at least one training image where it can. Same ``y``, ``fraction`` and ``seed``: same
    split, whatever the trial seed.
    """
    y = np.asarray(y)
    n = int(y.shape[0])
    if n < 2:
        raise DataError(
            rule="needs at least 2 training images to carve a validation split", value=n,
            key="val_fraction",
        )
    target = min(n - 1, max(1, int(np.floor(n * fraction + 0.5))))
    rng = np.random.default_rng(seed)
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse, minlength=classes.size)
    share = counts * (target / n)
    quota = np.floor(share).astype(np.int64)
    # Largest remainders first; the seeded random key only orders equal remainders.
    order = np.lexsort((rng.random(classes.size), -(share - quota)))
    for cap in (counts - 1, counts):  # keep one training image per class unless impossible
        for c in order:
            if quota.sum() >= target:
                break
            if quota[c] < cap[c]:
                quota[c] += 1
    val_parts = [
        rng.permutation(np.flatnonzero(inverse == c))[: quota[c]] for c in range(classes.size)
    ]
    val = np.sort(np.concatenate(val_parts)) if val_parts else np.empty(0, dtype=np.int64)
    mask = np.ones(n, dtype=bool)
    mask[val] = False
    return np.flatnonzero(mask), val


def split_validation(raw: RawData, fraction: float, seed: int) -> RawData:
    """``raw`` with a stratified validation part carved from its training images."""
    train, val = stratified_split(raw.y_train, fraction, seed)
    return replace(
        raw,
        x_train=raw.x_train[train],
        y_train=raw.y_train[train],
        x_val=raw.x_train[val],
        y_val=raw.y_train[val],
    )


def check_fits(
    n_images: int, in_channels: int, resolution: int, device: torch.device, name: str
) -> None:
    """DataError when the float32 tensors of a whole data set cannot fit in the CUDA memory this
    process may still use: the device's free memory, or less when the process's allocator is
    capped (``torch.cuda.set_per_process_memory_fraction``, a trial packed on a shared GPU)."""
    import torch

    if device.type != "cuda":
        return  # host memory: the OS reports it; no reliable cheap estimate of what is free
    need = n_images * in_channels * resolution * resolution * 4
    free, total = torch.cuda.mem_get_info(device)
    allocated = torch.cuda.memory_allocated(device)
    # Blocks the allocator holds but no tensor uses are free to this process too.
    room = free + torch.cuda.memory_reserved(device) - allocated
    # a torch without this call (older releases; nasx runs on >= 2.4) counts as uncapped
    get_fraction = getattr(torch.cuda, "get_per_process_memory_fraction", None)
    cap = (get_fraction(device) if get_fraction else 1.0) * total - allocated
    where = "are free"
    if cap < room:
        room, where = max(cap, 0.0), "are left within this process's share of the GPU"
    # Keep ~a quarter of that memory for the model, its activations and the optimizer.
    if need > 0.75 * room:
        raise DataError(
            f"{n_images} images of {in_channels}x{resolution}x{resolution} "
            f"need {need / 2**30:.1f} GiB "
            f"on {device} but only {room / 2**30:.1f} GiB {where}; lower the resolution",
            where=name,
            key="resolution",
        )


def _normalise_(
    x_train: torch.Tensor, others: tuple[torch.Tensor, ...], chunk: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Standardise the training part and ``others`` in place with the training part's statistics.

    Returns the per-channel (mean, std) applied (float32 values, as Python floats).
    """
    import torch

    total = torch.zeros(x_train.shape[1], dtype=torch.float64, device=x_train.device)
    total_sq = torch.zeros_like(total)
    for part in x_train.split(chunk):
        p = part.double()
        total += p.sum(dim=(0, 2, 3))
        total_sq += (p * p).sum(dim=(0, 2, 3))
    count = x_train.shape[0] * x_train.shape[2] * x_train.shape[3]
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(1e-12).sqrt()
    mean_f, std_f = mean.float().view(1, -1, 1, 1), std.float().view(1, -1, 1, 1)
    for x in (x_train, *others):
        for part in x.split(chunk):
            part.sub_(mean_f).div_(std_f)
    return tuple(mean_f.flatten().tolist()), tuple(std_f.flatten().tolist())


def _check_shape(raw: RawData, resolution: int, in_channels: int) -> None:
    """DataError when the spec's input cannot be made from ``raw``'s images."""
    have = raw.x_train.shape[1]
    if have != in_channels and not (have == 1 and in_channels == 3):
        raise DataError(
            f"the spec asks in_channels {in_channels} but the data has {have} channel(s) "
            "(only 1 -> 3 replication is supported)",
            where=raw.name,
            key="in_channels",
        )
    if resolution < 1:
        raise DataError(rule="resolution must be >= 1", value=resolution, key="resolution")


def _convert(x: np.ndarray, in_channels: int, resolution: int, device: str | torch.device,
             scale: float, chunk: int) -> torch.Tensor:
    """Images as float tensors on ``device``: scaled by 1/``scale``, channels adapted, resized."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    out = torch.empty((x.shape[0], in_channels, resolution, resolution), device=device)
    for i in range(0, x.shape[0], chunk):
        # Convert per chunk on the target device: the float copy of a whole upsampled set
        # would otherwise exist twice (host and device).
        part = torch.from_numpy(np.ascontiguousarray(x[i : i + chunk])).to(device)
        part = part.float() / scale
        if part.shape[1] != in_channels:
            part = part.expand(-1, in_channels, -1, -1)
        if part.shape[-2:] != (resolution, resolution):
            part = F.interpolate(
                part,
                size=(resolution, resolution),
                mode="bilinear",
                align_corners=False,
                antialias=resolution < part.shape[-1],
            )
        out[i : i + chunk] = part
    return out


def _labels(y: np.ndarray, device: str | torch.device) -> torch.Tensor:
    import torch

    return torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)


def to_dataset(
    raw: RawData,
    resolution: int,
    in_channels: int,
    device: str | torch.device,
    *,
    val_fraction: float,
    split_seed: int,
    chunk: int = 4096,
) -> Dataset:
    """Split off validation, scale to [0, 1], adapt channels, resize, standardise (training stats).

    A ``raw`` without a validation part gets one from :func:`split_validation`. Statistics are
    taken after resizing, on the training part only (the held-out parts never inform them): the
    training tensors have mean 0, std 1 per channel.
    """
    import torch

    _check_shape(raw, resolution, in_channels)
    dev = torch.device(device)
    if raw.x_val is None or raw.y_val is None:
        raw = split_validation(raw, val_fraction, split_seed)
    x_val_raw, y_val_raw = raw.x_val, raw.y_val
    assert x_val_raw is not None and y_val_raw is not None  # split_validation sets both
    n_all = raw.x_train.shape[0] + x_val_raw.shape[0] + raw.x_test.shape[0]
    check_fits(n_all, in_channels, resolution, dev, raw.name)
    scale = 255.0 if raw.x_train.dtype == np.uint8 else 1.0
    x_train, x_val, x_test = (_convert(x, in_channels, resolution, device, scale, chunk)
                              for x in (raw.x_train, x_val_raw, raw.x_test))
    mean, std = _normalise_(x_train, (x_val, x_test), chunk)
    return Dataset(
        name=raw.name,
        x_train=x_train,
        y_train=_labels(raw.y_train, device),
        x_val=x_val,
        y_val=_labels(y_val_raw, device),
        x_test=x_test,
        y_test=_labels(raw.y_test, device),
        num_classes=raw.num_classes,
        in_channels=in_channels,
        resolution=resolution,
        flip=raw.flip,
        crop=raw.crop,
        mean=mean,
        std=std,
    )
