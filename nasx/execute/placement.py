"""Every node of a Ray cluster gets the prepared stores before trials start: one task per node.

For each store the driver prepared, a task pinned to each node that can run trials (a CPU or a
GPU) looks in that node's cache (``$NASX_CACHE`` of its Ray workers): a complete copy of the same
checksum is used as it is (a folder all nodes see, or an earlier placement); otherwise the
driver's files travel through Ray's object store in chunks, are written into a ``.partial``
folder there, checked against the header's checksum and renamed into place. Either way the node
records which store a recipe's data set resolves to, so its workers find it without seeing the
source. A copy whose checksum differs is a DataError (one line), never a silent misread.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ray

from nasx.data.lookup import record_placed
from nasx.data.prepared import HEADER, Store, cache_dir, check_sizes, data_files, read_header
from nasx.errors import DataError

CHUNK = 64 << 20  # bytes per object-store chunk


def _node_folder(name: str) -> Path:
    return cache_dir() / "prepared" / name


def _present(name: str, checksum: str, keys: list[str]) -> bool:
    """On a node: is a complete copy of this store in its cache? (records the keys when so)."""
    folder = _node_folder(name)
    try:
        header = read_header(folder)
        if header.checksum != checksum:
            return False
        check_sizes(folder, header)
    except DataError:
        return False
    for key in keys:
        record_placed(key, name)
    return True


def _write(name: str, header_text: str, parts: list[tuple[str, int, Any]], keys: list[str]) -> str:
    """On a node: write the store from object-store chunks, verify, install; its folder."""
    import shutil

    from nasx.data.prepared import verify_store

    folder = _node_folder(name)
    partial = folder.with_name(name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for file_name, offset, ref in parts:
        blob = ray.get(ref)
        with open(partial / file_name, "r+b" if offset else "wb") as fh:
            fh.seek(offset)
            fh.write(blob)
    for file_name in {name for name, _, _ in parts}:
        with open(partial / file_name, "rb+") as fh:
            os.fsync(fh.fileno())
    (partial / HEADER).write_text(header_text)
    verify_store(partial)  # the copy's bytes against the header's checksum
    if folder.exists():
        shutil.rmtree(folder)
    os.rename(partial, folder)
    for key in keys:
        record_placed(key, name)
    return str(folder)


_present_task = ray.remote(num_cpus=0, max_retries=0)(_present)
_write_task = ray.remote(num_cpus=0, max_retries=0)(_write)


def _chunks(store: Store) -> list[tuple[str, int, Any]]:
    """(file, offset, object ref) of every chunk of the store's data files."""
    parts = []
    for name in data_files(store.header.format):
        with open(store.folder / name, "rb") as fh:
            offset = 0
            while blob := fh.read(CHUNK):
                parts.append((name, offset, ray.put(blob)))
                offset += len(blob)
    return parts


def _on(node_id: str) -> dict[str, Any]:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=False)}


def trial_nodes() -> list[str]:
    """Ids of the alive nodes that can run a trial (some CPU or GPU)."""
    out = []
    for node in ray.nodes():
        res = node.get("Resources", {})
        if node.get("Alive") and (res.get("CPU", 0) > 0 or res.get("GPU", 0) > 0):
            out.append(str(node["NodeID"]))
    return out


def place_stores(placements: Iterable[tuple[Store, list[str]]]) -> dict[str, int]:
    """Put each store (with the recipe keys that resolve to it) on every trial node.

    Returns {"present": n, "copied": m} over (store, node) pairs.
    """
    nodes = trial_nodes()
    counts = {"present": 0, "copied": 0}
    for store, keys in placements:
        name, header = store.folder.name, read_header(store.folder)
        have = ray.get([_present_task.options(**_on(n)).remote(name, header.checksum, keys)
                        for n in nodes])
        lacking = [n for n, ok in zip(nodes, have, strict=True) if not ok]
        counts["present"] += len(nodes) - len(lacking)
        if not lacking:
            continue
        parts = _chunks(store)
        text = (store.folder / HEADER).read_text()
        try:
            ray.get([_write_task.options(**_on(n)).remote(name, text, parts, keys)
                     for n in lacking])
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(exc.cause, DataError) else None
            if cause is not None:
                raise cause from None
            raise DataError(f"copying the prepared data set to a node failed: "
                            f"{type(exc.cause).__name__}: {exc.cause}",
                            where=str(store.folder)) from None
        counts["copied"] += len(lacking)
    return counts
