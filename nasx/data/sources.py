"""Where a prepared data set comes from: one :class:`Source` per kind of data, read in chunks.

:func:`describe` is cheap (a folder listing and file stats, never the pixels): it names the source
and fingerprints it, which is how a prepared store knows it is still current. :func:`open_source`
gives the object that reads images ``[start, stop)`` of a split as uint8 [n, C, S, S], so a
conversion can run chunk by chunk in a process pool and restart where it stopped. Torch-free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from nasx.data.imagesrc import (
    ImageFolderSource,
    NpzImagenetSource,
    describe_imagefolder,
    describe_imagenet_npz,
    resize_square,
)
from nasx.data.prepared import fingerprint
from nasx.errors import DataError

SYNTHETIC_SEED = 0
SYNTHETIC_BLOCK = 1024  # synthetic images are generated in blocks seeded by their index
SKLEARN_ENV = ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")


@dataclass(frozen=True)
class SourceSpec:
    """A source as described (cheaply): identity, fingerprint and what the store will hold."""

    kind: str
    source: str  # a folder, or a description of generated data
    identity: str  # what names the store (kind + folder + parameters), not its contents
    fingerprint: str  # contents: file list, sizes, mtimes (or generator parameters)
    size: int
    channels: int
    scale: float
    classes: tuple[str, ...]
    counts: dict[str, int]
    flip: bool = True
    crop: bool = True
    params: dict[str, int] = field(default_factory=dict)  # synthetic sizes


class Source(Protocol):
    """Reads a split's images in chunks."""

    spec: SourceSpec
    parallel: bool  # decoding is costly: worth a process pool

    def read(self, split: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray,
                                                               list[tuple[int, str, str]]]:
        """(images uint8 [n, C, S, S], labels int32 [n], [(index, path, reason) unreadable])."""
        ...


@dataclass
class ArraySource:
    """A source already in memory as uint8 arrays (IDX, CIFAR-10, digits), resized when asked."""

    spec: SourceSpec
    arrays: dict[str, tuple[np.ndarray, np.ndarray]]
    parallel: bool = False

    def read(self, split: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray,
                                                               list[tuple[int, str, str]]]:
        """Images ``[start, stop)`` of ``split`` at the store's size."""
        x, y = self.arrays[split]
        part = x[start:stop]
        s = self.spec.size
        if part.shape[-1] != s or part.shape[-2] != s:
            part = np.stack([resize_square(im, s) for im in part]) if len(part) else part
        return np.ascontiguousarray(part, dtype=np.uint8), y[start:stop].astype(np.int32), []


@dataclass
class SyntheticSource:
    """Seeded uniform uint8 images and labels; a block of images depends only on its index."""

    spec: SourceSpec
    parallel: bool = False

    def _block(self, split: str, b: int) -> tuple[np.ndarray, np.ndarray]:
        n = self.spec.counts[split]
        lo, hi = b * SYNTHETIC_BLOCK, min(n, (b + 1) * SYNTHETIC_BLOCK)
        rng = np.random.default_rng([SYNTHETIC_SEED, SPLIT_IDS[split], b])
        s, c = self.spec.size, self.spec.channels
        x = rng.integers(0, 256, (hi - lo, c, s, s), dtype=np.uint8)
        y = rng.integers(0, len(self.spec.classes), hi - lo).astype(np.int32)
        return x, y

    def read(self, split: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray,
                                                               list[tuple[int, str, str]]]:
        """Images ``[start, stop)`` of ``split``, the same whatever the chunking."""
        blocks = range(start // SYNTHETIC_BLOCK, (max(stop, start + 1) - 1) // SYNTHETIC_BLOCK + 1)
        parts = [self._block(split, b) for b in blocks]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        off = start - blocks[0] * SYNTHETIC_BLOCK
        return x[off : off + stop - start], y[off : off + stop - start], []


SPLIT_IDS = {"train": 0, "test": 1}


def _file_lines(files: list[Path]) -> list[str]:
    out = []
    for p in files:
        st = p.stat()
        out.append(f"{p.name} {st.st_size} {st.st_mtime_ns}")
    return out


def _idx_native(files: list[Path]) -> tuple[int, int, int]:
    """(image size, train count, test count) from the IDX headers (a few bytes read).

    A header that does not parse is left to the reader, whose error names the broken rule.
    """
    import gzip
    import zlib

    from nasx.data.idx import load_idx_arrays

    dims = []
    for p in (files[0], files[2]):
        opener = gzip.open if p.suffix == ".gz" else open
        try:
            with opener(p, "rb") as fh:
                head = fh.read(16)
        except (OSError, EOFError, zlib.error):
            head = b""
        if len(head) < 16 or head[:4] != b"\x00\x00\x08\x03":
            a = load_idx_arrays(files[0].parent)
            return int(a.x_train.shape[-1]), int(a.x_train.shape[0]), int(a.x_test.shape[0])
        dims.append(np.frombuffer(head, dtype=">u4", count=3, offset=4))
    return int(dims[0][1]), int(dims[0][0]), int(dims[1][0])


def _describe_idx(kind: str, data_dir: str | None, size: int | None) -> SourceSpec:
    from nasx.data import idx
    from nasx.data.fashion_mnist import CLASSES, DEFAULT_DIR

    if kind == "fashion_mnist":
        folder = Path(data_dir or DEFAULT_DIR).expanduser()
        if not data_dir and not folder.is_dir():
            raise DataError("no Fashion-MNIST here; install Debian's dataset-fashion-mnist "
                            "(apt-get install dataset-fashion-mnist) or give --data-dir",
                            where=str(folder), key="data_dir")
        classes: tuple[str, ...] = CLASSES
    else:
        if not data_dir:
            raise DataError(f"data 'mnist_idx' needs a data_dir; expected {idx.LAYOUT}",
                            key="data_dir")
        folder = Path(data_dir).expanduser()
        classes = ()
    files = idx.find_files(folder)
    native, n_train, n_test = _idx_native(files)
    glyphs = kind == "mnist_idx"  # flipped or shifted glyphs change what they mean
    return SourceSpec(kind, str(folder.resolve()), f"{kind} {folder.resolve()}",
                      fingerprint(_file_lines(files)), size or native, 1, 255.0, classes,
                      {"train": n_train, "test": n_test}, flip=not glyphs, crop=not glyphs)


def _describe_cifar(data_dir: str | None, size: int | None) -> SourceSpec:
    from nasx.data import cifar

    if not data_dir:
        raise DataError(f"data 'cifar10' needs a data_dir; {cifar.EXPECTED}", key="data_dir")
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"no such folder; {cifar.EXPECTED}", where=str(root), key="data_dir")
    layout, folder = cifar._find_layout(root)  # noqa: SLF001 - the reader's own layout rule
    names = cifar.BIN_FILES if layout == "bin" else cifar.PY_FILES
    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")
    return SourceSpec("cifar10", str(root.resolve()), f"cifar10 {root.resolve()}",
                      fingerprint(_file_lines([folder / n for n in names])), size or 32, 3,
                      255.0, classes, {"train": -1, "test": -1})


def describe(kind: str, data_dir: str | None, size: int | None, channels: int = 3,
             synthetic: tuple[int, int, int] = (50000, 10000, 10)) -> SourceSpec:
    """Describe the source of ``kind``; ``size`` None: the source's own size (fixed-size sets).

    ``channels`` matters for image folders and synthetic data (1: greyscale); ``synthetic`` is
    (train images, test images, classes).
    """
    if size is not None and size < 1:
        raise DataError(rule="size must be >= 1", value=size, key="size")
    if kind == "digits":
        return SourceSpec("digits", "scikit-learn digits", "digits", fingerprint(["digits 1"]),
                          size or 8, 1, 16.0, tuple(str(i) for i in range(10)),
                          {"train": 1437, "test": 360}, flip=False, crop=False)
    if kind in ("fashion_mnist", "mnist_idx"):
        return _describe_idx(kind, data_dir, size)
    if kind == "cifar10":
        return _describe_cifar(data_dir, size)
    if kind == "synthetic":
        if size is None:
            raise DataError("synthetic data needs a size", key="size")
        n_train, n_test, k = synthetic
        params = {"train": n_train, "test": n_test, "classes": k}
        ident = f"synthetic {n_train} {n_test} {k} seed {SYNTHETIC_SEED}"
        return SourceSpec("synthetic", ident, ident, fingerprint([ident]), size, channels, 255.0,
                          tuple(str(i) for i in range(k)), {"train": n_train, "test": n_test},
                          params=params)
    if kind == "imagefolder":
        return describe_imagefolder(SourceSpec, data_dir, size, channels)
    if kind == "imagenet_npz":
        return describe_imagenet_npz(SourceSpec, data_dir, size)
    raise DataError(f"cannot prepare data {kind!r}", key="data")


def _arrays_of(spec: SourceSpec) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The in-memory arrays of a fixed-size source."""
    if spec.kind == "digits":
        from nasx.data.digits import load_digits_raw

        # Importing scikit-learn sets KMP_* variables in os.environ; a driver that prepares
        # digits before its trials keeps its environment as it was (its processes' settings).
        saved = {k: os.environ.get(k) for k in SKLEARN_ENV}
        raw = load_digits_raw()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        to_u8 = [np.rint(x * 16).astype(np.uint8) for x in (raw.x_train, raw.x_test)]
        return {"train": (to_u8[0], raw.y_train), "test": (to_u8[1], raw.y_test)}
    if spec.kind in ("fashion_mnist", "mnist_idx"):
        from nasx.data.idx import load_idx_raw

        n = len(spec.classes) or None
        raw = load_idx_raw(spec.source, spec.kind, num_classes=n)
    else:
        from nasx.data.cifar import load_cifar10_raw

        raw = load_cifar10_raw(spec.source)
    return {"train": (raw.x_train, raw.y_train), "test": (raw.x_test, raw.y_test)}


def open_source(spec: SourceSpec) -> tuple[Source, SourceSpec]:
    """(the reader, the spec completed with counts and classes known only after reading)."""
    if spec.kind == "synthetic":
        return SyntheticSource(spec), spec
    if spec.kind == "imagefolder":
        src = ImageFolderSource.scan(spec)
        return src, src.spec
    if spec.kind == "imagenet_npz":
        npz = NpzImagenetSource(spec)
        return npz, spec
    arrays = _arrays_of(spec)
    counts = {k: int(v[0].shape[0]) for k, v in arrays.items()}
    classes = spec.classes
    if not classes:
        top = max(int(v[1].max()) for v in arrays.values())
        classes = tuple(str(i) for i in range(top + 1))
    from dataclasses import replace

    full = replace(spec, counts=counts, classes=classes)
    return ArraySource(full, arrays), full


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
