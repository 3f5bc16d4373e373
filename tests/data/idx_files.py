"""Tiny IDX files in the MNIST layout, raw or gzipped, for the data tests."""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGES = ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte")
LABELS = ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(arr: np.ndarray, code: int = 0x08, magic: bytes = b"\x00\x00") -> bytes:
    """``arr`` encoded as an IDX file (header: magic, dtype code, ndim, big-endian dims)."""
    head = magic + bytes([code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + np.ascontiguousarray(arr).tobytes()


def write_file(path: Path, blob: bytes, gz: bool) -> Path:
    """Write ``blob`` to ``path`` (``path.gz`` gzipped when ``gz``); returns the file written."""
    out = path.with_name(path.name + ".gz") if gz else path
    out.write_bytes(gzip.compress(blob, mtime=0) if gz else blob)
    return out


@dataclass(frozen=True)
class IdxSet:
    """What a generated folder holds: images (N, H, W) uint8 and labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def write_idx_set(folder: Path, *, gz: bool = False, n_train: int = 40, n_test: int = 12,
                  size: int = 8, classes: int = 4, seed: int = 0) -> IdxSet:
    """A folder in the MNIST IDX layout with random images and balanced labels 0..classes-1."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    s = IdxSet(rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
               (np.arange(n_train) % classes).astype(np.uint8),
               rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
               (np.arange(n_test) % classes).astype(np.uint8))
    for name, arr in zip((IMAGES[0], LABELS[0], IMAGES[1], LABELS[1]),
                         (s.x_train, s.y_train, s.x_test, s.y_test), strict=True):
        write_file(folder / name, idx_bytes(arr), gz)
    return s


def write_imagenet_npz(folder: Path, size: int = 8, per_batch: int = 12,
                       batches: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Downsampled-ImageNet npz batches (Chrabaszcz et al.: data [N, 3*S*S], labels 1..1000).

    Returns the training images [N, 3, S, S] and labels 0.. as nasx reads them.
    """
    rng = np.random.default_rng(7)
    xs, ys = [], []
    for b in range(1, batches + 2):
        n = per_batch if b <= batches else 6
        data = rng.integers(0, 256, (n, 3 * size * size), dtype=np.uint8)
        labels = [1 + i % 3 for i in range(n)]  # classes 0, 1, 2 as nasx counts
        name = f"train_data_batch_{b}.npz" if b <= batches else "val_data.npz"
        np.savez(folder / name, data=data, labels=labels, mean=np.zeros(3 * size * size))
        if b <= batches:
            xs.append(data.reshape(-1, 3, size, size))
            ys.append(np.array(labels, dtype=np.int64) - 1)
    return np.concatenate(xs), np.concatenate(ys)
