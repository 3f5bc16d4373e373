"""A :class:`~nasx.data.base.Dataset` over a prepared store: every data set's one path to training.

The validation part is carved from the stored training split by the same seeded stratified split
as before; the standardisation statistics are measured on the training part at the spec's
resolution and channels (as the whole-tensor path measured them), once per store and split
setting: they are memoised in ``$NASX_CACHE/prepared/stats/``, so the next worker reads them.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import numpy as np

from nasx.data.base import Dataset, check_fits, stratified_split
from nasx.data.jpegstore import JpegRows
from nasx.data.prepared import Store, cache_dir
from nasx.data.stored import Rows, StoredImages, View
from nasx.errors import DataError
from nasx.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    import torch

STATS_CHUNK = 4096  # the chunks the whole-tensor path summed in (same sums, same floats) ...
SMALL_BYTES = 256 << 20  # ... for training parts up to this size as float64
STATS_BYTES = 32 << 20  # larger ones: chunks of this size as float64 (a small transient)


def _check_channels(have: int, want: int, name: str, resolution: int) -> None:
    if have != want and not (have == 1 and want == 3):
        raise DataError(f"the spec asks in_channels {want} but the data has {have} channel(s) "
                        "(only 1 -> 3 replication is supported)", where=name, key="in_channels")
    if resolution < 1:
        raise DataError(rule="resolution must be >= 1", value=resolution, key="resolution")


def _rows(store: Store, split: str, device: torch.device, resident: bool) -> Rows | JpegRows:
    """The split's rows; on CUDA copied to the GPU as uint8 when ``resident``."""
    import torch

    if store.header.format == "jpeg":
        return JpegRows(store.folder, split, store.header.channels)
    mapped = store.images(split)
    if not resident:
        return Rows(mapped)
    x = mapped.array
    out = torch.empty(x.shape, dtype=torch.uint8, device=device)
    for lo in range(0, x.shape[0], 8192):
        out[lo : lo + 8192] = torch.from_numpy(np.array(x[lo : lo + 8192])).to(device)
        mapped.release()
    return Rows(mapped, on_device=out)


def _fits_on_device(store: Store, device: torch.device) -> bool:
    """Whether the uint8 images fit the device's budget (check_fits counts float32: a quarter)."""
    if device.type != "cuda" or store.header.format != "raw":
        return False
    h = store.header
    n = sum(h.counts.values())
    try:
        check_fits(-(-n // 4), h.channels, h.size, device, h.kind)
    except DataError:
        return False
    return True


def _stats_path(store: Store, view: View, val_fraction: float, split_seed: int) -> str:
    key = json.dumps([store.header.checksum, view.resolution, view.channels, val_fraction,
                      split_seed, 1])
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def _measure(x: StoredImages) -> tuple[list[float], list[float]]:
    """Per-channel mean/std of ``x`` (float64 sums over float32 inputs, chunk by chunk)."""
    import torch

    total = torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
    total_sq = torch.zeros_like(total)
    per_image = 8 * x.shape[1] * x.shape[2] * x.shape[3]
    small = len(x) * per_image <= SMALL_BYTES
    chunk = STATS_CHUNK if small else max(1, STATS_BYTES // per_image)
    for lo in range(0, len(x), chunk):
        p = x.gather(slice(lo, lo + chunk)).double()
        total += p.sum(dim=(0, 2, 3))
        total_sq += (p * p).sum(dim=(0, 2, 3))
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(1e-12).sqrt()
    return mean.float().tolist(), std.float().tolist()


def _stats(store: Store, x_train: StoredImages, val_fraction: float,
           split_seed: int) -> tuple[list[float], list[float]]:
    path = cache_dir() / "prepared" / "stats" / (
        _stats_path(store, x_train.view, val_fraction, split_seed) + ".json")
    try:
        doc = json.loads(path.read_text())
        return [float(v) for v in doc["mean"]], [float(v) for v in doc["std"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    mean, std = _measure(x_train)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps({"mean": mean, "std": std}).encode())
    except OSError:
        pass  # a read-only cache costs a pass over the data per worker, never the load
    return mean, std


def stored_dataset(store: Store, resolution: int, in_channels: int,
                   device: str | torch.device, *, val_fraction: float,
                   split_seed: int) -> Dataset:
    """The store's train/validation/test parts as lazy views, standardised on the training part."""
    import torch

    h = store.header
    _check_channels(h.channels, in_channels, h.kind, resolution)
    dev = torch.device(device)
    resident = _fits_on_device(store, dev)
    y_all, y_test = store.labels("train"), store.labels("test")
    train, val = stratified_split(y_all, val_fraction, split_seed)
    view = View(scale=float(h.scale), channels=in_channels, resolution=resolution, device=dev)
    rows_train = _rows(store, "train", dev, resident)
    rows_test = _rows(store, "test", dev, resident)
    x_train = StoredImages(rows_train, train, view)
    mean, std = _stats(store, x_train, val_fraction, split_seed)
    view.mean = torch.tensor(mean, dtype=torch.float32, device=dev).view(1, -1, 1, 1)
    view.std = torch.tensor(std, dtype=torch.float32, device=dev).view(1, -1, 1, 1)

    def labels(y: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(y, dtype=np.int64)).to(dev)

    return Dataset(
        name=h.kind,
        x_train=x_train,  # type: ignore[arg-type]  # a lazy view standing for the tensor
        y_train=labels(y_all[train]),
        x_val=StoredImages(rows_train, val, view),  # type: ignore[arg-type]
        y_val=labels(y_all[val]),
        x_test=StoredImages(rows_test, np.arange(h.counts["test"]), view),  # type: ignore[arg-type]
        y_test=labels(y_test),
        num_classes=len(h.classes),
        in_channels=in_channels,
        resolution=resolution,
        flip=h.flip,
        crop=h.crop,
        mean=tuple(mean),
        std=tuple(std),
    )
