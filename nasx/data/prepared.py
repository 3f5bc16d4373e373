"""The prepared store: a data set converted once to uint8 images in one file per split.

A prepared data set is a folder::

    header.json          written last: shape, classes, mean/std, source fingerprint, checksum
    train_images.npy     uint8 [N, C, S, S] (numpy .npy: ``np.load(path, mmap_mode="r")`` reads it)
    train_labels.npy     int32 [N]
    test_images.npy, test_labels.npy

It lives in ``$NASX_CACHE/prepared/<kind>-<source id>-<S>px-<C>c-<format>/`` (or where ``--out``
says). A folder is complete only when its ``header.json`` is there: the conversion writes into a
``.partial`` folder and renames it into place last (:mod:`nasx.data.prepare`). Opening checks every
file's size against the header (a file cut short is one line, never a silent misread);
:func:`verify_store` also checks the blake2b checksum of the bytes.

Trials open the image files memory-mapped and read-only (:class:`MappedArray`), so a node's page
cache holds one copy however many trials read it. Torch-free.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from nasx.errors import DataError

FORMAT_VERSION = 1
HEADER = "header.json"
SPLITS = ("train", "test")
FORMATS = ("raw", "jpeg")
CHUNK_BYTES = 1 << 22  # streamed checksum reads


# The rule a DataError names when a prepared store's files do not match its header (cut short,
# resized, bytes changed): a damaged store, never a source to read again.
DAMAGED = "a prepared store's files must match its header"


def damaged(message: str, where: str) -> DataError:
    """The DataError of a damaged store (its ``rule`` is :data:`DAMAGED`)."""
    return DataError(message, where=where, rule=DAMAGED)


def cache_dir() -> Path:
    """Where prepared data sets live: ``$NASX_CACHE``, else ``~/.cache/nasx``."""
    env = os.environ.get("NASX_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "nasx"


def split_files(split: str) -> tuple[str, str]:
    """(images file, labels file) of ``split``."""
    return f"{split}_images.npy", f"{split}_labels.npy"


def jpeg_files(split: str) -> tuple[str, str, str]:
    """(JPEG bytes, offsets, labels) files of ``split`` in the ``jpeg`` format."""
    return f"{split}_jpeg.npy", f"{split}_offsets.npy", f"{split}_labels.npy"


def data_files(fmt: str = "raw") -> list[str]:
    """Every data file of a store of format ``fmt``, in the order its checksum reads them."""
    files = jpeg_files if fmt == "jpeg" else split_files
    return [name for split in SPLITS for name in files(split)]


@dataclass(frozen=True)
class Header:
    """What a prepared data set holds (``header.json``)."""

    kind: str  # the data set name (imagefolder, fashion_mnist, ...)
    source: str  # where it was read from (a folder, or a description)
    fingerprint: str  # of the source: file list, sizes, mtimes (or generator parameters)
    size: int  # S: images are S x S
    channels: int
    format: str  # raw
    scale: float  # pixel value of white: images / scale are in [0, 1]
    classes: list[str]
    counts: dict[str, int]  # images per split
    file_bytes: dict[str, int]  # bytes of each data file
    mean: list[float]  # per channel, on [0, 1] pixels of the training split at size S
    std: list[float]
    checksum: str  # blake2b of the data files, in data_files() order
    flip: bool = True  # a horizontal flip keeps the label
    crop: bool = True  # a shifted crop keeps the label
    skipped: int = 0  # unreadable source images left out (--skip-bad)
    nasx_version: str = ""
    format_version: int = FORMAT_VERSION
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """The header as pretty JSON text."""
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    @property
    def total_bytes(self) -> int:
        """Bytes of the data files together."""
        return sum(self.file_bytes.values())


def read_header(folder: Path) -> Header:
    """The header of a prepared folder; DataError when it is absent or not a nasx header."""
    path = folder / HEADER
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError("not a prepared data set (no header.json; an unfinished or killed "
                        "prepare leaves none)", where=str(folder)) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"unreadable header ({exc})", where=str(path)) from None
    names = set(Header.__dataclass_fields__)
    if not isinstance(doc, dict) or doc.get("format_version") != FORMAT_VERSION:
        raise DataError(f"not a prepared data set of format version {FORMAT_VERSION}",
                        where=str(path), key="format_version")
    try:
        return Header(**{k: v for k, v in doc.items() if k in names})
    except TypeError as exc:
        raise DataError(f"incomplete header ({exc})", where=str(path)) from None


def check_sizes(folder: Path, header: Header) -> None:
    """DataError naming the first data file whose size differs from the header's."""
    for name in data_files(header.format):
        path = folder / name
        want = header.file_bytes.get(name)
        try:
            have = path.stat().st_size
        except OSError:
            raise damaged("missing data file of a prepared data set", str(path)) from None
        if want is None or have != want:
            what = "cut short" if want is not None and have < want else "of the wrong size"
            raise damaged(f"prepared file {what}: {have} bytes, its header says {want}; "
                          "delete the folder and prepare it again", str(path))


def checksum_files(folder: Path, fmt: str = "raw") -> str:
    """blake2b (hex) over the data files' bytes, streamed."""
    h = hashlib.blake2b(digest_size=32)
    for name in data_files(fmt):
        with open(folder / name, "rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                h.update(chunk)
    return h.hexdigest()


def verify_store(folder: str | os.PathLike[str]) -> Header:
    """The header after checking sizes and checksum; DataError (one line) on any mismatch."""
    root = Path(folder)
    header = read_header(root)
    check_sizes(root, header)
    have = checksum_files(root, header.format)
    if have != header.checksum:
        raise damaged(f"checksum mismatch: the data files hash to {have[:16]}..., the header "
                      f"says {header.checksum[:16]}...; the store is damaged, prepare it again",
                      str(root))
    return header


def read_npy_header(fh: BinaryIO, version: tuple[int, int]) -> tuple[tuple[int, ...], bool, Any]:
    """(shape, fortran order, dtype) of a .npy file positioned after its magic."""
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fh)  # type: ignore[no-any-return]
    return np.lib.format.read_array_header_2_0(fh)  # type: ignore[no-any-return]


class MappedArray:
    """A read-only memory map of one .npy file as a numpy array (``array``).

    :meth:`release` tells the kernel this process no longer needs the pages it touched
    (``MADV_DONTNEED``): they stay in the page cache for every other reader, but leave this
    process's private memory, so a trial reading a 20 GB file does not grow by 20 GB.
    """

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            shape, fortran, dtype = read_npy_header(fh, version)
            offset = fh.tell()
            if fortran:
                raise DataError("Fortran-ordered array in a prepared store", where=str(path))
            count = int(np.prod(shape, dtype=np.int64))
            need = offset + count * dtype.itemsize
            size = os.fstat(fh.fileno()).st_size
            if size < need:
                raise damaged(f"prepared file cut short: {size} bytes, its shape needs {need}",
                              str(path))
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        if self._map is not None and hasattr(mmap, "MADV_RANDOM"):
            # batches read scattered rows: no read-ahead, no mapping of neighbouring pages
            self._map.madvise(mmap.MADV_RANDOM)
        buf = self._map if self._map is not None else b""
        self.array: np.ndarray = np.frombuffer(buf, dtype=dtype, count=count,
                                               offset=offset).reshape(shape)
        self.path = path
        self.offset = offset  # of the data in the file

    def release(self) -> None:
        """Drop this process's mapping of the pages touched so far (they stay cached)."""
        if self._map is not None and hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED)


@dataclass(frozen=True)
class Store:
    """An opened prepared data set: its folder and header, sizes checked."""

    folder: Path
    header: Header

    def images(self, split: str) -> MappedArray:
        """The uint8 [N, C, S, S] images of ``split``, memory-mapped read-only."""
        return MappedArray(self.folder / split_files(split)[0])

    def labels(self, split: str) -> np.ndarray:
        """The int64 labels of ``split`` (read into memory: 8 bytes an image)."""
        return np.load(self.folder / split_files(split)[1]).astype(np.int64)


def open_store(folder: str | os.PathLike[str]) -> Store:
    """Open a prepared folder: header read, every data file's size checked (no checksum)."""
    root = Path(folder)
    header = read_header(root)
    check_sizes(root, header)
    return Store(root, header)


@contextmanager
def store_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock beside ``folder`` (one preparer per store across processes)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock = folder.parent / f".{folder.name}.lock"
    with open(lock, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def fingerprint(lines: Iterator[str] | list[str]) -> str:
    """blake2b (hex, 32 chars) of text lines: how a source is identified."""
    h = hashlib.blake2b(digest_size=16)
    for line in lines:
        h.update(line.encode("utf-8", "surrogateescape") + b"\n")
    return h.hexdigest()
