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
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from nasx.data.prepare import ensure_prepared
from nasx.data.prepared import HEADER, Store, cache_dir, open_store
from nasx.data.progress import Progress
from nasx.data.sources import SourceSpec, describe
from nasx.errors import DataError

if TYPE_CHECKING:
    from nasx.train.recipe import Recipe

# Kinds whose store holds images at the training resolution (the others keep their own size).
SIZED = ("imagefolder", "synthetic")
ANNOUNCE_MIN = 20000  # smaller sets prepare in about a second: no progress lines for them


def store_folder(spec: SourceSpec, fmt: str = "raw") -> Path:
    """The cache folder of the store of ``spec``."""
    key = hashlib.blake2b(spec.identity.encode("utf-8", "surrogateescape"),
                          digest_size=6).hexdigest()
    return cache_dir() / "prepared" / f"{spec.kind}-{key}-{spec.size}px-{spec.channels}c-{fmt}"


def recipe_spec(recipe: Recipe, resolution: int, in_channels: int) -> SourceSpec:
    """The source a recipe's data set reads, at the size its store holds."""
    size = resolution if recipe.data in SIZED else None
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


def _given_store(recipe: Recipe) -> Store | None:
    """The store ``data_dir`` names when it is a prepared folder itself (``--out``, a shared path)."""
    if not recipe.data_dir or not (Path(recipe.data_dir) / HEADER).is_file():
        return None
    store = open_store(recipe.data_dir)
    if store.header.kind != recipe.data:
        raise DataError(f"a prepared {store.header.kind!r} data set, not {recipe.data!r}",
                        where=recipe.data_dir, key="data")
    return store


def store_for(recipe: Recipe, resolution: int, in_channels: int) -> Store:
    """The recipe's prepared store, prepared now when missing or out of date."""
    given = _given_store(recipe)
    if given is not None:
        return given
    spec = recipe_spec(recipe, resolution, in_channels)
    folder = store_folder(spec)
    store, _ = ensure_prepared(spec, folder, progress=lambda: _announce(spec, folder))
    return store


def prepare_all(wanted: Iterable[tuple[Recipe, int, int]]) -> list[Store]:
    """The stores of every distinct (recipe data, resolution, channels), prepared once each.

    What a driver calls before trials start, so that workers find them ready. A data set that
    cannot be prepared is left to the trials, which fail with its one-line reason.
    """
    seen: dict[tuple[object, ...], Store] = {}
    for recipe, resolution, channels in wanted:
        key = (recipe.data, recipe.data_dir, resolution, channels, recipe.synthetic_train,
               recipe.synthetic_test, recipe.synthetic_classes)
        if key in seen:
            continue
        try:
            seen[key] = store_for(recipe, resolution, channels)
        except DataError:
            continue
    return list({s.folder: s for s in seen.values()}.values())
