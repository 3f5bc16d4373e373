"""The ``jpeg`` format of the prepared store: JPEG bytes (quality 90) and offsets per split.

For large sizes (224 px and up) raw pixels take 150 KB an image; JPEG at quality 90 about a
tenth. Each image is stored as the same S x S square the raw format holds (shorter side to S,
centre crop), encoded once; ``{split}_jpeg.npy`` is every image's bytes end to end,
``{split}_offsets.npy`` (int64, N + 1) where each starts. The conversion writes one file per
chunk into the ``.partial`` folder (a chunk is done when its file is there and the progress
record names it), so a killed conversion continues where it stopped; the chunks are joined,
measured and checksummed at the end, and the header comes last, as for ``raw``. Batches are
decoded by a thread pool (Pillow releases the GIL while decoding; simplejpeg or PyTurboJPEG,
which the issue names, are not installed here).
"""

from __future__ import annotations

import io
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from nasx.data.prepare import (
    PLAN,
    STATE,
    Bad,
    _chunk_size,
    _chunks,
    _install,
    _results,
    _resume,
    converting,
    pool_workers,
    write_state,
)
from nasx.data.prepared import HEADER, SPLITS, Header, checksum_files, data_files, jpeg_files
from nasx.data.progress import Progress
from nasx.data.sources import Source, SourceSpec, cpu_count, open_source
from nasx.errors import DataError
from nasx.fsutil import atomic_write_bytes

QUALITY = 90
_POOL: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """The process's encode/decode threads (one per core)."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max(1, cpu_count()), thread_name_prefix="nasx-jpeg")
    return _POOL


def encode(image: np.ndarray) -> bytes:
    """uint8 [C, S, S] -> JPEG bytes at quality 90."""
    from PIL import Image

    pil = Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=QUALITY)
    return buf.getvalue()


def decode(blob: bytes | memoryview, channels: int) -> np.ndarray:
    """JPEG bytes -> uint8 [C, S, S]."""
    from PIL import Image

    with Image.open(io.BytesIO(blob)) as im:
        arr = np.asarray(im.convert("L" if channels == 1 else "RGB"), dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _save_chunk(partial: Path, chunk: tuple[str, int, int], x: np.ndarray, y: np.ndarray) -> None:
    blobs = list(pool().map(encode, x))
    lengths = np.array([len(b) for b in blobs], dtype=np.int64)
    buf = io.BytesIO()
    np.savez(buf, blob=np.frombuffer(b"".join(blobs), dtype=np.uint8), lengths=lengths,
             labels=y.astype(np.int32))
    atomic_write_bytes(partial / "chunks" / f"{chunk[0]}_{chunk[1]}.npz", buf.getvalue(),
                       durable=True)


def _convert(source: Source, spec: SourceSpec, partial: Path, skip_bad: bool,
             progress: Progress | None) -> tuple[list[tuple[str, int, int]], list[Bad]]:
    workers = pool_workers(spec)
    size = _chunk_size(spec, source.parallel, workers)
    plan = {"fingerprint": spec.fingerprint, "size": spec.size, "channels": spec.channels,
            "counts": spec.counts, "chunk": size, "kind": spec.kind, "skip_bad": skip_bad,
            "format": "jpeg"}
    done, bad = _resume(partial, plan)
    (partial / "chunks").mkdir(exist_ok=True)
    chunks = _chunks(spec, size)
    todo = [c for c in chunks if (c[0], c[1]) not in done]
    if progress is not None:
        progress.start(sum(spec.counts.values()),
                       sum(hi - lo for s, lo, hi in chunks if (s, lo) in done))
    for chunk, x, y, chunk_bad in _results(source, todo, workers):
        if chunk_bad and not skip_bad:
            _, path, reason = chunk_bad[0]
            raise DataError(f"cannot read image ({reason}); --skip-bad leaves unreadable "
                            "images out", where=path)
        _save_chunk(partial, chunk, x, y)
        done.add((chunk[0], chunk[1]))
        bad.extend((i if chunk[0] == "train" else -1 - i, p, r) for i, p, r in chunk_bad)
        write_state(partial, done, bad)
        if progress is not None:
            progress.advance(chunk[2] - chunk[1])
    return chunks, bad


def _join(partial: Path, chunks: list[tuple[str, int, int]], bad: list[Bad]) -> dict[str, int]:
    """Join the chunk files into each split's three files, leaving bad images out."""
    counts = {}
    for split in SPLITS:
        drop = {i if split == "train" else -1 - i for i, _, _ in bad
                if (i >= 0) == (split == "train")}
        blobs, lengths, labels = [], [], []
        for s, lo, hi in chunks:
            if s != split:
                continue
            with np.load(partial / "chunks" / f"{s}_{lo}.npz") as z:
                blob, lens, labs = z["blob"], z["lengths"], z["labels"]
            starts = np.concatenate([[0], np.cumsum(lens)])
            for k in range(hi - lo):
                if lo + k not in drop:
                    blobs.append(blob[starts[k]:starts[k + 1]])
                    lengths.append(int(lens[k]))
                    labels.append(int(labs[k]))
        names = jpeg_files(split)
        np.save(partial / names[0], np.concatenate(blobs) if blobs else np.zeros(0, np.uint8))
        np.save(partial / names[1], np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
        np.save(partial / names[2], np.array(labels, dtype=np.int32))
        counts[split] = len(labels)
    return counts


def _stats(partial: Path, channels: int, scale: float) -> tuple[list[float], list[float]]:
    blob = np.load(partial / jpeg_files("train")[0], mmap_mode="r")
    offsets = np.load(partial / jpeg_files("train")[1])
    total = np.zeros(channels)
    total_sq = np.zeros(channels)
    count = 0
    for lo in range(0, len(offsets) - 1, 1024):
        hi = min(lo + 1024, len(offsets) - 1)
        images = pool().map(lambda k: decode(blob[offsets[k]:offsets[k + 1]].tobytes(),
                                             channels), range(lo, hi))
        for im in images:
            part = im.astype(np.float64) / scale
            total += part.sum(axis=(1, 2))
            total_sq += (part * part).sum(axis=(1, 2))
            count += im.shape[1] * im.shape[2]
    mean = total / max(1, count)
    std = np.sqrt(np.maximum(total_sq / max(1, count) - mean * mean, 1e-12))
    return mean.tolist(), std.tolist()


def prepare_jpeg(spec: SourceSpec, folder: Path, *, skip_bad: bool = False,
                 progress: Progress | None = None) -> tuple[Header, list[Bad]]:
    """Convert ``spec``'s source into a ``jpeg`` store at ``folder`` (under the store lock)."""
    from nasx import __version__

    partial = folder.with_name(folder.name + ".partial")
    source, full = open_source(spec)
    with converting(partial, progress):
        chunks, bad = _convert(source, full, partial, skip_bad, progress)
        counts = _join(partial, chunks, bad)
        mean, std = _stats(partial, full.channels, full.scale)
        shutil.rmtree(partial / "chunks")
        for name in (PLAN, STATE):
            (partial / name).unlink(missing_ok=True)
        header = Header(kind=full.kind, source=full.source, fingerprint=full.fingerprint,
                        size=full.size, channels=full.channels, format="jpeg", scale=full.scale,
                        classes=list(full.classes), counts=counts,
                        file_bytes={n: (partial / n).stat().st_size
                                    for n in data_files("jpeg")},
                        mean=mean, std=std, checksum=checksum_files(partial, "jpeg"),
                        flip=full.flip, crop=full.crop, skipped=len(bad),
                        nasx_version=__version__, extra={"quality": str(QUALITY)})
        atomic_write_bytes(partial / HEADER, header.to_json().encode(), durable=True)
        _install(partial, folder)
    return header, bad


class JpegRows:
    """A split of a ``jpeg`` store: a batch's JPEGs read and decoded by a thread pool."""

    on_device = None

    def __init__(self, folder: Path, split: str, channels: int) -> None:
        names = jpeg_files(split)
        self.path = folder / names[0]
        self.offsets = np.load(folder / names[1])
        with open(self.path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            from nasx.data.prepared import read_npy_header

            read_npy_header(fh, version)
            self.base = fh.tell()
        self.channels = channels
        self.fd = os.open(self.path, os.O_RDONLY)
        import weakref

        weakref.finalize(self, os.close, self.fd)

    def _one(self, r: int) -> np.ndarray:
        lo, hi = int(self.offsets[r]), int(self.offsets[r + 1])
        return decode(os.pread(self.fd, hi - lo, self.base + lo), self.channels)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """The decoded uint8 [n, C, S, S] images ``rows``, in that order."""
        n = len(self.offsets) - 1
        rows = np.where(rows < 0, rows + n, rows)
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise IndexError(f"row index out of range for {n} rows")
        return np.stack(list(pool().map(self._one, rows.tolist())))

    def gather(self, rows: np.ndarray, pin: bool = False) -> object:
        """The decoded rows as a uint8 tensor."""
        import torch

        out = torch.from_numpy(self.read(np.asarray(rows, dtype=np.int64)))
        return out.pin_memory() if pin and torch.cuda.is_available() else out
