"""Which prepared store a data set uses, and getting it (prepared on first use).

A store is named by what it is made from, not by its contents: ``<kind>-<id>-<S>px-<C>c-<format>``
under ``$NASX_CACHE/prepared/``, ``id`` a hash of the source's folder (and, for synthetic data,
its sizes). Its header holds the source's fingerprint: a source changed since is prepared again
into the same place. Training asks for the size it trains at for image folders and synthetic
data, and the source's own size for fixed-size sets (IDX, CIFAR-10, digits, downsampled
ImageNet), which are resized per batch like before.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from nasx.data.jpegstore import prepare_jpeg
from nasx.data.prepare import prepare
from nasx.data.prepared import (
    DAMAGED,
    HEADER,
    Store,
    cache_dir,
    open_store,
    read_header,
    store_lock,
)
from nasx.data.progress import Progress
from nasx.data.sets import find
from nasx.data.sets.entry import DataRecipe
from nasx.data.sources import SourceSpec, describe
from nasx.errors import DataError
from nasx.fsutil import atomic_write_bytes

ANNOUNCE_MIN = 20000  # smaller sets prepare in about a second: no progress lines for them


def _sized(name: str) -> bool:
    """Whether the store of ``name`` holds images at the training resolution (else its own)."""
    entry = find(name)
    return entry is not None and entry.sized


def store_folder(spec: SourceSpec, fmt: str = "raw") -> Path:
    """The cache folder of the store of ``spec``."""
    key = hashlib.blake2b(spec.identity.encode("utf-8", "surrogateescape"),
                          digest_size=6).hexdigest()
    return cache_dir() / "prepared" / f"{spec.kind}-{key}-{spec.size}px-{spec.channels}c-{fmt}"


def ensure_prepared(spec: SourceSpec, folder: Path, *, skip_bad: bool = False,
                    progress: Callable[[], Progress | None] | None = None,
                    fmt: str = "raw") -> tuple[Store, bool]:
    """(the store at ``folder``, whether it was prepared now).

    A complete store of the same source fingerprint is opened as it is (its files' sizes
    checked: a file cut short is a DataError, never re-read silently); none, or one of a
    changed source, is prepared (again). One process prepares; others wait on the lock.
    """
    with store_lock(folder):
        if (folder / HEADER).exists():
            header = read_header(folder)
            if (header.fingerprint == spec.fingerprint and header.size == spec.size
                    and header.format == fmt):
                return open_store(folder), False
        shown = progress() if progress is not None else None
        if fmt == "jpeg":
            prepare_jpeg(spec, folder, skip_bad=skip_bad, progress=shown)
        else:
            prepare(spec, folder, skip_bad=skip_bad, progress=shown)
        return open_store(folder), True


def recipe_spec(recipe: DataRecipe, resolution: int, in_channels: int) -> SourceSpec:
    """The source a recipe's data set reads, at the size its store holds."""
    size = resolution if _sized(recipe.data) else None
    return describe(recipe.data, recipe.data_dir, size, in_channels,
                    (recipe.synthetic_train, recipe.synthetic_test, recipe.synthetic_classes))


def _announce(spec: SourceSpec, folder: Path) -> Progress | None:
    """A progress display for preparing on first use (silent for small data sets)."""
    n = sum(spec.counts.values())
    if 0 <= n < ANNOUNCE_MIN:
        return None
    print(f"nasx: preparing {spec.kind} at {spec.size} px into {folder} (once; later runs reuse "
          "it)", file=sys.stderr, flush=True)
    return Progress(f"prepare {spec.kind}")


def _given_store(recipe: DataRecipe) -> Store | None:
    """The store ``data_dir`` names when it is a prepared folder itself (``--out``, a shared path)."""
    if not recipe.data_dir or not (Path(recipe.data_dir) / HEADER).is_file():
        return None
    store = open_store(recipe.data_dir)
    if store.header.kind != recipe.data:
        raise DataError(rule=f"the folder holds a prepared {store.header.kind!r} data set",
                        value=recipe.data, where=recipe.data_dir, key="data")
    return store


def placed_key(recipe: DataRecipe, resolution: int, in_channels: int) -> str:
    """How a recipe's data set is named on a node that may not see its source."""
    size = resolution if _sized(recipe.data) else 0
    parts = (recipe.data, recipe.data_dir or "", size, in_channels, recipe.synthetic_train,
             recipe.synthetic_test, recipe.synthetic_classes)
    text = "\n".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()


def _placed_path(key: str) -> Path:
    return cache_dir() / "prepared" / "placed" / key


def record_placed(key: str, name: str) -> None:
    """Note on this node that the data set ``key`` resolves to the store folder ``name``."""
    path = _placed_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, name.encode())


def _placed_store(key: str) -> Store | None:
    try:
        name = _placed_path(key).read_text().strip()
    except OSError:
        return None
    folder = cache_dir() / "prepared" / name
    return open_store(folder) if (folder / HEADER).is_file() else None


def store_for(recipe: DataRecipe, resolution: int, in_channels: int) -> Store:
    """The recipe's prepared store, prepared now when missing or out of date.

    On a node that cannot see the source (a Ray worker node), the store placed there before
    the trials started (:mod:`nasx.execute.placement`) is used.
    """
    given = _given_store(recipe)
    if given is not None:
        return given
    try:
        spec = recipe_spec(recipe, resolution, in_channels)
    except DataError:
        placed = _placed_store(placed_key(recipe, resolution, in_channels))
        if placed is not None:
            return placed
        raise
    folder = store_folder(spec)
    store, _ = ensure_prepared(spec, folder, progress=lambda: _announce(spec, folder))
    return store


def prepare_all(wanted: Iterable[tuple[DataRecipe, int, int]]) -> dict[Path, tuple[Store, list[str]]]:
    """{folder: (store, placed keys)} of every distinct data set wanted, prepared once each.

    What a driver calls before trials start, so that workers find them ready (and what it
    places on every node of a cluster). A data set that cannot be prepared is left to the
    trials, which fail with its one-line reason; a damaged store is an error here.
    """
    out: dict[Path, tuple[Store, list[str]]] = {}
    seen: set[str] = set()
    for recipe, resolution, channels in wanted:
        key = placed_key(recipe, resolution, channels)
        if key in seen:
            continue
        seen.add(key)
        try:
            store = store_for(recipe, resolution, channels)
        except DataError as exc:
            if exc.rule == DAMAGED:
                raise  # a damaged store: one line before any trial, never a silent misread
            continue
        out.setdefault(store.folder, (store, []))[1].append(key)
    return out
