"""Converting a source into a prepared store: chunked, on every core, restartable, atomic.

The images are written into ``<store>.partial/`` (files allocated at their full size, chunks
written at their offsets by whichever pool worker decoded them). After each batch of chunks the
data files are fsynced and ``progress.json`` records which chunks are done, so a rerun after a
kill (SIGKILL included) continues where it stopped and, the conversion being deterministic,
ends with the same bytes and checksum. Last come the statistics, the checksum, ``header.json``
and one rename of the folder into place: a killed or failed conversion never leaves a folder that
looks complete. Unreadable images stop the conversion with one line naming the file (the partial
folder is removed) unless ``skip_bad``, which leaves them out and counts them.

The pool (forkserver) imports the caller's main module in its workers, as every process pool
does: a script calling this must guard its top level with ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from nasx.data.prepared import (
    HEADER,
    SPLITS,
    Header,
    MappedArray,
    checksum_files,
    data_files,
    read_npy_header,
    split_files,
)
from nasx.data.progress import Progress
from nasx.data.sources import Source, SourceSpec, cpu_count, open_source
from nasx.errors import DataError
from nasx.fsutil import atomic_write_bytes

PLAN, STATE = "plan.json", "progress.json"
STATE_CHUNKS = "chunks"  # the state's list of chunks written ([split, first image])
SYNC_SECONDS = 2.0  # progress is made durable at most this often
POOL_MIN_IMAGES = 512  # fewer images decode faster than a process pool starts
Chunk = tuple[str, int, int]
Bad = tuple[int, str, str]
_SOURCE: Source | None = None  # a pool worker's source (set once by its initializer)


def _chunk_size(spec: SourceSpec, parallel: bool, workers: int) -> int:
    env = os.environ.get("NASX_PREPARE_CHUNK")
    if env:
        return max(1, int(env))
    per_image = spec.channels * spec.size * spec.size
    if not parallel:
        return int(min(16384, max(64, (16 << 20) // per_image)))
    n = sum(spec.counts.values())
    return int(min(256, max(16, n // (4 * max(1, workers)))))


def _chunks(spec: SourceSpec, size: int) -> list[Chunk]:
    return [(split, lo, min(lo + size, spec.counts[split]))
            for split in SPLITS for lo in range(0, spec.counts[split], size)]


def _allocate(folder: Path, spec: SourceSpec) -> dict[str, tuple[Path, int]]:
    """Create each data file at full size; {file name: (path, offset of its data)}."""
    out = {}
    for split in SPLITS:
        n = spec.counts[split]
        if n < 1:
            raise DataError(f"the {split} part holds no images", where=spec.source)
        img, lab = split_files(split)
        for name, dtype, shape in ((img, np.uint8, (n, spec.channels, spec.size, spec.size)),
                                   (lab, np.int32, (n,))):
            path = folder / name
            if not path.exists():
                np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape).flush()
            out[name] = (path, _data_offset(path))
    return out


def _data_offset(path: Path) -> int:
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_npy_header(fh, version)
        return fh.tell()


def _resume(partial: Path, plan: dict[str, Any]) -> tuple[set[tuple[str, int]], list[Bad]]:
    """(chunks already done, bad images met) of an earlier attempt with the same plan."""
    try:
        same = json.loads((partial / PLAN).read_text()) == plan
        state = json.loads((partial / STATE).read_text()) if same else None
    except (OSError, ValueError):
        same, state = False, None
    if not same:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        atomic_write_bytes(partial / PLAN, json.dumps(plan).encode(), durable=True)
        return set(), []
    state = state or {}
    done = {(s, int(lo)) for s, lo in state.get(STATE_CHUNKS, [])}
    bad = [(int(i), str(p), str(r)) for i, p, r in state.get("bad", [])]
    return done, bad


def _init_worker(source: Source) -> None:
    global _SOURCE
    _SOURCE = source


def _read_chunk(chunk: Chunk) -> tuple[Chunk, np.ndarray, np.ndarray, list[Bad]]:
    assert _SOURCE is not None
    x, y, bad = _SOURCE.read(*chunk)
    return chunk, x, y, bad


def _results(source: Source, todo: list[Chunk], workers: int
             ) -> Iterator[tuple[Chunk, np.ndarray, np.ndarray, list[Bad]]]:
    """Chunks read in a process pool (bounded in flight) or in this process."""
    if not source.parallel or workers < 2 or len(todo) < 2:
        for c in todo:
            yield (c, *source.read(*c))
        return
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(source,)) as pool:
        pending: set[Future[Any]] = set()
        queue = iter(todo)
        try:
            while True:
                for c in queue:
                    pending.add(pool.submit(_read_chunk, c))
                    if len(pending) >= 2 * workers:
                        break
                if not pending:
                    return
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    yield fut.result()
        finally:
            for fut in pending:
                fut.cancel()


def _write(files: dict[str, tuple[Path, int]], fds: dict[str, int], chunk: Chunk,
           x: np.ndarray, y: np.ndarray, spec: SourceSpec) -> None:
    split, lo, _ = chunk
    img, lab = split_files(split)
    per = spec.channels * spec.size * spec.size
    os.pwrite(fds[img], np.ascontiguousarray(x, dtype=np.uint8).tobytes(), files[img][1] + lo * per)
    os.pwrite(fds[lab], np.ascontiguousarray(y, dtype=np.int32).tobytes(), files[lab][1] + lo * 4)


def _save_state(partial: Path, fds: dict[str, int], done: set[tuple[str, int]],
                bad: list[Bad]) -> None:
    for fd in fds.values():
        os.fsync(fd)  # the chunks a state names are on disk before it names them
    write_state(partial, done, bad)


def write_state(partial: Path, done: set[tuple[str, int]], bad: list[Bad]) -> None:
    """Record the chunks written so far and the unreadable images (a restart resumes there)."""
    doc = {STATE_CHUNKS: sorted([s, lo] for s, lo in done), "bad": [list(b) for b in bad]}
    atomic_write_bytes(partial / STATE, json.dumps(doc).encode(), durable=True)


def pool_workers(spec: SourceSpec) -> int:
    """Pool processes: every core (``$NASX_PREPARE_WORKERS`` overrides); none for small sets."""
    env = os.environ.get("NASX_PREPARE_WORKERS")
    if env:
        return max(1, int(env))
    return cpu_count() if sum(spec.counts.values()) >= POOL_MIN_IMAGES else 1


def _convert(source: Source, spec: SourceSpec, partial: Path, skip_bad: bool,
             progress: Progress | None) -> list[Bad]:
    workers = pool_workers(spec)
    size = _chunk_size(spec, source.parallel, workers)
    plan = {"fingerprint": spec.fingerprint, "size": spec.size, "channels": spec.channels,
            "counts": spec.counts, "chunk": size, "kind": spec.kind, "skip_bad": skip_bad}
    done, bad = _resume(partial, plan)
    files = _allocate(partial, spec)
    todo = [c for c in _chunks(spec, size) if (c[0], c[1]) not in done]
    if progress is not None:
        progress.start(sum(spec.counts.values()), sum(hi - lo for s, lo, hi in _chunks(spec, size)
                                                     if (s, lo) in done))
    fds = {name: os.open(path, os.O_WRONLY) for name, (path, _) in files.items()}
    sync = float(os.environ.get("NASX_PREPARE_SYNC", SYNC_SECONDS))  # tests: 0, every chunk
    try:
        last = time.monotonic()
        for chunk, x, y, chunk_bad in _results(source, todo, workers):
            if chunk_bad and not skip_bad:
                i, path, reason = chunk_bad[0]
                raise DataError(f"cannot read image ({reason}); --skip-bad leaves unreadable "
                                "images out", where=path)
            _write(files, fds, chunk, x, y, spec)
            done.add((chunk[0], chunk[1]))
            bad.extend((i if chunk[0] == "train" else -1 - i, p, r) for i, p, r in chunk_bad)
            if progress is not None:
                progress.advance(chunk[2] - chunk[1])
            if time.monotonic() - last > sync:
                _save_state(partial, fds, done, bad)
                last = time.monotonic()
        _save_state(partial, fds, done, bad)
    finally:
        for fd in fds.values():
            os.close(fd)
    return bad


def _compact(partial: Path, spec: SourceSpec, bad: list[Bad]) -> dict[str, int]:
    """Rewrite each split without its unreadable images; the new counts."""
    counts = dict(spec.counts)
    for split in SPLITS:
        drop = {i if split == "train" else -1 - i for i, _, _ in bad
                if (i >= 0) == (split == "train")}
        if not drop:
            continue
        keep = np.setdiff1d(np.arange(spec.counts[split]), np.fromiter(drop, dtype=np.int64))
        for name in split_files(split):
            src = np.load(partial / name, mmap_mode="r")
            new = partial / f"compact_{name}"
            out = np.lib.format.open_memmap(new, mode="w+", dtype=src.dtype,
                                            shape=(keep.size, *src.shape[1:]))
            for lo in range(0, keep.size, 4096):
                out[lo : lo + 4096] = src[keep[lo : lo + 4096]]
            out.flush()
            del out, src
            os.replace(new, partial / name)
        counts[split] = int(keep.size)
    return counts


def _stats(folder: Path, scale: float) -> tuple[list[float], list[float]]:
    """Per-channel mean/std of the training images (pixels / scale), streamed in float64."""
    mapped = MappedArray(folder / split_files("train")[0])
    x = mapped.array
    total = np.zeros(x.shape[1], dtype=np.float64)
    total_sq = np.zeros_like(total)
    for lo in range(0, x.shape[0], 4096):
        part = x[lo : lo + 4096].astype(np.float64) / scale
        total += part.sum(axis=(0, 2, 3))
        total_sq += (part * part).sum(axis=(0, 2, 3))
        mapped.release()
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean * mean, 1e-12))
    return [float(v) for v in mean], [float(v) for v in std]


def _finish(partial: Path, spec: SourceSpec, bad: list[Bad]) -> Header:
    """Compact, measure, checksum and write the header (last) into the partial folder."""
    from nasx import __version__

    counts = _compact(partial, spec, bad) if bad else dict(spec.counts)
    for name in data_files():
        with open(partial / name, "rb+") as fh:
            os.fsync(fh.fileno())
    mean, std = _stats(partial, spec.scale)
    header = Header(kind=spec.kind, source=spec.source, fingerprint=spec.fingerprint,
                    size=spec.size, channels=spec.channels, format="raw", scale=spec.scale,
                    classes=list(spec.classes), counts=counts,
                    file_bytes={n: (partial / n).stat().st_size for n in data_files()},
                    mean=mean, std=std, checksum=checksum_files(partial), flip=spec.flip,
                    crop=spec.crop, skipped=len(bad), nasx_version=__version__,
                    extra={k: str(v) for k, v in spec.params.items()})
    for name in (PLAN, STATE):
        (partial / name).unlink(missing_ok=True)
    atomic_write_bytes(partial / HEADER, header.to_json().encode(), durable=True)
    return header


def _install(partial: Path, folder: Path) -> None:
    """Rename the finished partial folder into place (an older store there is replaced)."""
    old = folder.with_name(f".{folder.name}.old.{os.getpid()}")
    if folder.exists():
        os.rename(folder, old)
    os.rename(partial, folder)
    fd = os.open(folder.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def converting(partial: Path, progress: Progress | None) -> Iterator[None]:
    """The failure rules of a conversion into ``partial`` (every format's): a DataError (an
    unreadable source) leaves nothing behind, another OSError (disk full) keeps what is done for
    a rerun and says so in one line; the progress display is closed either way."""
    try:
        yield
    except DataError:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    except OSError as exc:
        raise DataError(f"cannot write the prepared data set ({exc}); a rerun continues where "
                        "this one stopped", where=str(partial)) from None
    finally:
        if progress is not None:
            progress.close()


def prepare(spec: SourceSpec, folder: Path, *, skip_bad: bool = False,
            progress: Progress | None = None) -> tuple[Header, list[Bad]]:
    """Convert ``spec``'s source into ``folder`` (call under :func:`store_lock`)."""
    partial = folder.with_name(folder.name + ".partial")
    source, full = open_source(spec)
    with converting(partial, progress):
        bad = _convert(source, full, partial, skip_bad, progress)
        header = _finish(partial, full, bad)
        _install(partial, folder)
    return header, bad


def header_dict(header: Header) -> dict[str, Any]:
    """The header as a plain dict (for JSON output)."""
    return asdict(header)
