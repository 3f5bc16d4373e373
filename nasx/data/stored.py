"""Training data read from a prepared store: lazy image views, batches gathered on demand.

A :class:`StoredImages` is what a :class:`~nasx.data.base.Dataset` holds in place of a float
tensor: the memory-mapped uint8 images of a split and the indices of its part (train, validation
or test). Indexing it with a batch of indices gathers those rows, moves them to the training
device (through a pinned buffer on CUDA) and there scales them to [0, 1], adapts the channels,
resizes them to the spec's resolution and standardises them with the training part's statistics:
the same operations, in the same order, as the whole-tensor path did once, so a trial sees the
same numbers batch by batch. On the CPU no copy of the data set is made: the file is opened
memory-mapped read-only and a batch's rows are read from it into the batch buffer (see
:class:`Rows`), so the page cache holds the one copy and a trial's private memory does not grow
with N. On CUDA a store whose uint8 images fit the memory budget is copied to the GPU once (4x smaller
than float32); a larger one streams, a background thread gathering the next batches.

A view also behaves like the tensor it stands for where code asks for one (``torch.equal(x, y)``,
``x.mean()``, ``x[:, 0]``): it is then materialised whole, which only small data sets and tests do.
"""

from __future__ import annotations

import ctypes
import os
import queue
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nasx.data.prepared import MappedArray

if TYPE_CHECKING:
    import torch

PREFETCH = 3  # batches gathered ahead on CUDA
TRIM_EVERY = 8  # gathers between returns of freed heap memory to the OS (glibc)


def _malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or None elsewhere.

    Batch buffers of a few MB fall below glibc's adaptive mmap threshold and land on the heap,
    whose free pages glibc keeps: over the first tens of steps of an epoch the heap grew by
    tens of MB in measurements. Trimming every few batches hands the free pages back.
    """
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


_TRIM = _malloc_trim()


@dataclass
class View:
    """How stored uint8 rows become training inputs (shared by a data set's parts)."""

    scale: float
    channels: int
    resolution: int
    device: Any  # torch.device
    mean: Any = None  # float32 [1, C, 1, 1] on the device once measured
    std: Any = None


class Rows:
    """Where a split's uint8 rows are: a prepared file on the host, or a uint8 tensor on the GPU.

    Host rows are read with positional reads (``os.preadv``) of the memory-mapped file, straight
    into the batch buffer, in file order: the page cache serves them (one copy per node), and
    this process maps no pages of the file at all. Gathering through the mapping instead was
    measured to map far more than the rows it copies (fault-around and large page-cache folios
    map whole neighbourhoods), a private-memory spike that grew with the file.
    """

    def __init__(self, mapped: MappedArray, on_device: Any = None) -> None:  # noqa: ANN401
        self.mapped = mapped
        self.on_device = on_device  # torch uint8 tensor [N, C, S, S], or None: read the file
        self.gathers = 0
        arr = mapped.array
        self.row_bytes = int(arr[0].nbytes) if arr.shape[0] else 0
        self.offset = mapped.offset
        self.fd = os.open(mapped.path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """The uint8 rows ``rows`` (positions in the split) as a new array, in that order."""
        arr = self.mapped.array
        n = arr.shape[0]
        if rows.size and (rows.min() < -n or rows.max() >= n):
            raise IndexError(f"row index out of range for {n} rows")
        rows = np.where(rows < 0, rows + n, rows)
        out = np.empty((rows.shape[0], *arr.shape[1:]), dtype=np.uint8)
        buf = memoryview(out).cast("B")
        rb, off, fd = self.row_bytes, self.offset, self.fd
        for i in np.argsort(rows, kind="stable").tolist():  # file order: sequential reads
            r = int(rows[i])
            if os.preadv(fd, [buf[i * rb : (i + 1) * rb]], off + r * rb) != rb:
                raise OSError(f"short read of row {r} of {self.mapped.path}")
        self.gathers += 1
        if _TRIM is not None and self.gathers % TRIM_EVERY == 0:
            _TRIM()
        return out

    def gather(self, rows: np.ndarray, pin: bool = False) -> torch.Tensor:
        """The uint8 rows ``rows`` (int64 positions in the split) as a tensor."""
        import torch

        if self.on_device is not None:
            return self.on_device[torch.from_numpy(rows).to(self.on_device.device)]
        out = torch.from_numpy(self.read(np.asarray(rows, dtype=np.int64)))
        return out.pin_memory() if pin and torch.cuda.is_available() else out


def convert(u8: torch.Tensor, view: View) -> torch.Tensor:
    """uint8 rows -> float inputs on the device: scale, channels, resize, standardise."""
    import torch.nn.functional as F  # noqa: N812

    # In place where the tensor is its own (fewer fresh buffers, the same float operations).
    part = u8.to(view.device, non_blocking=True).float().div_(view.scale)
    if part.shape[1] != view.channels:
        part = part.expand(-1, view.channels, -1, -1)
    r = view.resolution
    if part.shape[-2:] != (r, r):
        part = F.interpolate(part, size=(r, r), mode="bilinear", align_corners=False,
                             antialias=r < part.shape[-1])
    if view.mean is not None:
        if part.is_contiguous():
            part = part.sub_(view.mean).div_(view.std)
        else:  # an expanded view shares its memory between channels
            part = (part - view.mean) / view.std
    return part


def _materialise(obj: Any) -> Any:  # noqa: ANN401 - any argument of a torch function
    if isinstance(obj, StoredImages):
        return obj.tensor()
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(o) for o in obj)
    return obj


class StoredImages:
    """A lazy float [n, C, R, R] view of stored images (see the module docstring)."""

    def __init__(self, rows: Any, index: np.ndarray, view: View) -> None:  # noqa: ANN401
        """``rows``: a :class:`Rows` or a ``jpeg`` store's JpegRows (same read/gather)."""
        self.rows = rows
        self.index = np.asarray(index, dtype=np.int64)
        self.view = view

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(n, channels, resolution, resolution), like the tensor it stands for."""
        r = self.view.resolution
        return (int(self.index.shape[0]), self.view.channels, r, r)

    @property
    def device(self) -> torch.device:
        """The training device (where gathered batches go)."""
        return self.view.device  # type: ignore[no-any-return]

    @property
    def dtype(self) -> torch.dtype:
        """torch.float32."""
        import torch

        return torch.float32

    @property
    def ndim(self) -> int:
        """4."""
        return 4

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def select(self, positions: Any) -> StoredImages:  # noqa: ANN401 - tensor or array
        """The view of a subset (positions into this view), still lazy."""
        return StoredImages(self.rows, self.index[_positions(positions)], self.view)

    def gather(self, positions: Any) -> torch.Tensor:  # noqa: ANN401
        """The float inputs at ``positions`` (an index tensor/array or a slice)."""
        return convert(self.rows.gather(self.index[_positions(positions)]), self.view)

    def __getitem__(self, key: Any) -> torch.Tensor:  # noqa: ANN401 - tensor indexing
        if isinstance(key, tuple):
            head = self[key[0]]
            return head[key[1:]] if isinstance(key[0], int) else head[(slice(None), *key[1:])]
        if isinstance(key, int):
            return self.gather(np.array([key]))[0]
        return self.gather(key)

    def tensor(self, chunk: int = 4096) -> torch.Tensor:
        """The whole view as one float tensor (small data sets, tests, exports)."""
        import torch

        n = len(self)
        if n == 0:
            return torch.empty(self.shape, device=self.device)
        return torch.cat([self.gather(slice(i, i + chunk)) for i in range(0, n, chunk)])

    def batches(self, batches: Sequence[Any]) -> Iterator[torch.Tensor]:
        """The inputs of each index batch in turn; on CUDA from host rows, gathered ahead."""
        if self.view.device.type != "cuda" or self.rows.on_device is not None:
            for b in batches:
                yield self.gather(b)
            return
        yield from _prefetched(self, [self.index[_positions(b)] for b in batches])

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (),  # noqa: ANN401
                           kwargs: Any = None) -> Any:  # noqa: ANN401
        """A torch function given a view runs on the materialised tensor."""
        return func(*_materialise(args), **_materialise(kwargs or {}))

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - the tensor's own attributes
        if name.startswith("_") or name in ("rows", "index", "view"):
            raise AttributeError(name)
        return getattr(self.tensor(), name)


def _positions(key: Any) -> Any:  # noqa: ANN401
    """An index usable on a numpy array: slices as they are, tensors moved to the host."""
    if isinstance(key, slice):
        return key
    if hasattr(key, "detach"):
        return key.detach().cpu().numpy()
    return np.asarray(key)


def _prefetched(images: StoredImages, rows: list[np.ndarray]) -> Iterator[torch.Tensor]:
    """Batches gathered into pinned host memory by a background thread, copied non-blocking."""
    q: queue.Queue[Any] = queue.Queue(maxsize=PREFETCH)
    stop = threading.Event()

    def work() -> None:
        try:
            for r in rows:
                if stop.is_set():
                    return
                q.put(images.rows.gather(r, pin=True))
            q.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True, name="nasx-gather")
    thread.start()
    try:
        while (item := q.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield convert(item, images.view)
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)
