"""Image sets in the MNIST IDX layout (MNIST, Fashion-MNIST, KMNIST), raw or gzipped, no download.

A folder holds four IDX files, each raw or ``.gz`` (a raw file wins when both are present):
train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte.
An IDX file is two zero bytes, a dtype code (0x08: unsigned byte, the only one images and labels
use here), the number of dimensions, each dimension as a big-endian uint32, then the values.

Decoding Fashion-MNIST's gzipped files takes 0.2-0.5 s of CPU; the decoded arrays are then kept in
an uncompressed ``.npz`` in the cache folder (``$NASX_CACHE``, else ``~/.cache/nasx``), keyed by
the files' paths, sizes and modification times, so later loads read them in ~20 ms
(``bench/bench_data.py``). The cache never holds pickles (``allow_pickle=False``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasx.data.base import RawData
from nasx.errors import DataError
from nasx.fsutil import atomic_write_bytes

# (file stem, number of dimensions): the four files of the layout, in the order they are read.
FILES = (
    ("train-images-idx3-ubyte", 3),
    ("train-labels-idx1-ubyte", 1),
    ("t10k-images-idx3-ubyte", 3),
    ("t10k-labels-idx1-ubyte", 1),
)
LAYOUT = "the MNIST IDX layout: " + ", ".join(f"{stem}[.gz]" for stem, _ in FILES)
UBYTE = 0x08
DTYPES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "short", 0x0C: "int",
          0x0D: "float", 0x0E: "double"}
# Bump when the cached arrays change meaning: old cache files are then read as misses.
CACHE_VERSION = 1


def cache_dir() -> Path:
    """Where decoded data sets are cached: ``$NASX_CACHE``, else ``~/.cache/nasx``."""
    env = os.environ.get("NASX_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "nasx"


def find_files(folder: Path) -> list[Path]:
    """The four IDX files of ``folder`` (raw preferred over .gz); DataError naming a missing one."""
    if not folder.is_dir():
        raise DataError(f"no such folder; expected {LAYOUT}", where=str(folder), key="data_dir")
    found = []
    for stem, _ in FILES:
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                found.append(folder / name)
                break
        else:
            raise DataError(f"missing {stem} (nor {stem}.gz); expected {LAYOUT}",
                            where=str(folder / stem), key="data_dir")
    return found


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        kind = "gzip file" if path.suffix == ".gz" else "file"
        raise DataError(f"cannot read the {kind} ({exc})", where=str(path)) from None


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """The uint8 array of one IDX file with ``ndim`` dimensions; DataError naming the broken rule."""
    blob = _read_bytes(path)
    if len(blob) < 4:
        raise DataError(f"IDX header needs 4 bytes; the file has {len(blob)}", where=str(path))
    if blob[0] != 0 or blob[1] != 0:
        hint = f" (a gzip file: name it {path.name}.gz)" if blob[:2] == b"\x1f\x8b" else ""
        raise DataError(rule="not an IDX file: the magic number must start with two zero bytes",
                        value=blob[:4], shown=f"0x{blob[:4].hex()}{hint}", where=str(path),
                        key="magic")
    code, have_ndim = blob[2], blob[3]
    if code != UBYTE:
        name = DTYPES.get(code, "unknown")
        raise DataError(rule="dtype code must be 0x08 (unsigned byte)", value=code,
                        shown=f"0x{code:02x} ({name})", where=str(path), key="dtype")
    if have_ndim != ndim:
        raise DataError(rule=f"must have {ndim} dimension(s)", value=have_ndim, where=str(path),
                        key="dims")
    head = 4 + 4 * ndim
    if len(blob) < head:
        raise DataError(rule=f"truncated header: {ndim} dimension(s) need {head} bytes",
                        value=len(blob), where=str(path), key="dims")
    dims = tuple(int(d) for d in np.frombuffer(blob, dtype=">u4", count=ndim, offset=4))
    if ndim == 3 and (dims[1] < 1 or dims[2] < 1):
        raise DataError(rule="images must be at least 1x1", value=dims[1:],
                        shown=f"{dims[1]}x{dims[2]}", where=str(path), key="dims")
    want = head + int(np.prod(dims, dtype=np.int64))
    if len(blob) != want:
        what = "truncated" if len(blob) < want else "trailing bytes"
        raise DataError(f"{what}: dims {'x'.join(map(str, dims))} need {want} bytes; the file has "
                        f"{len(blob)}", where=str(path), key="size")
    # a copy: arrays over the read-only bytes would make torch.from_numpy warn
    return np.frombuffer(blob, dtype=np.uint8, offset=head).reshape(dims).copy()


@dataclass(frozen=True)
class IdxArrays:
    """The four decoded arrays: images (N, 1, H, W) uint8 and labels (N,) uint8."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _decode(files: list[Path]) -> IdxArrays:
    """Read and cross-check the four files (counts of images and labels, image sizes)."""
    parts = [read_idx(p, ndim) for p, (_, ndim) in zip(files, FILES, strict=True)]
    x_tr, y_tr, x_te, y_te = parts
    for x, y, xp, yp in ((x_tr, y_tr, files[0], files[1]), (x_te, y_te, files[2], files[3])):
        if x.shape[0] != y.shape[0]:
            raise DataError(f"{y.shape[0]} labels for the {x.shape[0]} images of {xp.name}; the "
                            "counts must match", where=str(yp), key="count")
        if x.shape[0] == 0:
            raise DataError("holds no images", where=str(xp), key="count")
    if x_te.shape[1:] != x_tr.shape[1:]:
        raise DataError(f"test images are {x_te.shape[1]}x{x_te.shape[2]} but training images "
                        f"{x_tr.shape[1]}x{x_tr.shape[2]}; they must match", where=str(files[2]),
                        key="dims")
    return IdxArrays(x_tr[:, None], y_tr, x_te[:, None], y_te)


def _signature(files: list[Path]) -> np.ndarray:
    """(size, mtime in ns) of each file: a changed file changes it."""
    stats = [p.stat() for p in files]
    return np.array([[s.st_size, s.st_mtime_ns] for s in stats], dtype=np.int64)


def _cache_path(files: list[Path]) -> Path:
    # One cache file per set of paths: a changed file overwrites its entry instead of adding one.
    key = "\n".join([str(CACHE_VERSION), *(str(p.resolve()) for p in files)])
    return cache_dir() / "idx" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"


def _read_cache(path: Path, signature: np.ndarray) -> IdxArrays | None:
    """The cached arrays when ``path`` holds them for exactly these files, else None."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if not np.array_equal(z["signature"], signature):
                return None
            return IdxArrays(z["x_train"], z["y_train"], z["x_test"], z["y_test"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None  # absent, stale layout or damaged: decode again and overwrite


def _write_cache(path: Path, signature: np.ndarray, arrays: IdxArrays) -> None:
    buf = io.BytesIO()
    np.savez(buf, signature=signature, x_train=arrays.x_train, y_train=arrays.y_train,
             x_test=arrays.x_test, y_test=arrays.y_test)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
    except OSError:
        pass  # a read-only or full cache folder costs speed, never the load


def load_idx_arrays(folder: str | os.PathLike[str], *, use_cache: bool = True) -> IdxArrays:
    """The decoded arrays of an IDX folder, from the cache when its files have not changed."""
    files = find_files(Path(folder).expanduser())
    if not use_cache:
        return _decode(files)
    signature = _signature(files)
    path = _cache_path(files)
    cached = _read_cache(path, signature)
    if cached is not None:
        return cached
    arrays = _decode(files)
    _write_cache(path, signature, arrays)
    return arrays


def load_idx_raw(folder: str | os.PathLike[str], name: str, *, num_classes: int | None = None,
                 flip: bool = False, crop: bool = False) -> RawData:
    """RawData of an IDX folder; ``num_classes`` None: the highest label + 1.

    With ``num_classes`` given, a label outside 0..num_classes-1 is a DataError.
    """
    a = load_idx_arrays(folder)
    top = int(max(a.y_train.max(), a.y_test.max()))
    if num_classes is not None and top >= num_classes:
        bad = "train-labels" if int(a.y_train.max()) == top else "t10k-labels"
        raise DataError(rule=f"{name} labels must be in 0..{num_classes - 1}", value=top,
                        where=f"{Path(folder)}/{bad}-idx1-ubyte", key="labels")
    return RawData(
        name=name,
        x_train=a.x_train,
        y_train=a.y_train.astype(np.int64),
        x_test=a.x_test,
        y_test=a.y_test.astype(np.int64),
        num_classes=num_classes if num_classes is not None else top + 1,
        flip=flip,
        crop=crop,
    )


def load_mnist_idx_raw(data_dir: str | None) -> RawData:
    """Any folder in the MNIST IDX layout (MNIST, KMNIST, ...): no flips, no crops (glyphs)."""
    if not data_dir:
        raise DataError(f"data 'mnist_idx' needs a data_dir; expected {LAYOUT}", key="data_dir")
    # Flipped or shifted glyphs change what they mean: no augmentation.
    return load_idx_raw(data_dir, "mnist_idx")


def header_counts(files: list[Path]) -> tuple[int, int, int]:
    """(image size, train count, test count) from the IDX headers (a few bytes read).

    A header that does not parse is left to the reader, whose error names the broken rule.
    """
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
