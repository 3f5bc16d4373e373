"""The registry of data sets: one module per set (``ENTRY``), collected here in a fixed order.

Every layer reads a data set from its entry (:class:`~nasx.data.sets.entry.DataSetEntry`): the
loader and the prepared store (describe/open, key fields), the recipe's ``data`` rule and the CLI
help (:func:`names`), export provenance (pixel scaling) and GPU packing (image count).
``BUILTIN`` is the shipped list; :func:`register` / :func:`registered` add a set at run time
(tests, a plugin in the driver process), the only mutable state here. A set registered so is
seen in this process only: the inline executor trains with it, Ray workers do not.
Imports nothing from ``nasx.train`` (the recipe imports this module) and no torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nasx.data.sets import (
    cifar10,
    digits,
    fashion_mnist,
    imagefolder,
    imagenet_npz,
    mnist_idx,
    synthetic,
)
from nasx.data.sets.entry import DataSetEntry, SourceSpec, Wanted
from nasx.errors import DataError

# The shipped data sets, in the order the help and error messages list them.
BUILTIN: tuple[DataSetEntry, ...] = (
    digits.ENTRY, cifar10.ENTRY, imagefolder.ENTRY, fashion_mnist.ENTRY, mnist_idx.ENTRY,
    synthetic.ENTRY, imagenet_npz.ENTRY,
)
_added: dict[str, DataSetEntry] = {}  # registered at run time, after the shipped ones


def entries() -> tuple[DataSetEntry, ...]:
    """Every data set: the shipped ones, then those registered, in order."""
    return (*BUILTIN, *_added.values())


def names() -> tuple[str, ...]:
    """The names ``recipe.data`` may take."""
    return tuple(e.name for e in entries())


def find(name: object) -> DataSetEntry | None:
    """The entry named ``name``, or None."""
    return next((e for e in entries() if e.name == name), None)


def get(name: str) -> DataSetEntry:
    """The entry named ``name``; DataError (key data) naming the known sets otherwise."""
    entry = find(name)
    if entry is None:
        raise DataError(f"unknown data set {name!r} ({', '.join(names())})", key="data")
    return entry


def register(entry: DataSetEntry) -> None:
    """Add a data set (its one module's ``ENTRY``); a name already known is refused."""
    if find(entry.name) is not None:
        raise DataError(f"data set {entry.name!r} is already registered", key="data")
    _added[entry.name] = entry


def unregister(name: str) -> None:
    """Remove a data set :func:`register` added (the shipped ones stay)."""
    _added.pop(name, None)


@contextmanager
def registered(entry: DataSetEntry) -> Iterator[DataSetEntry]:
    """``register(entry)`` for the duration of a ``with`` block (what tests use)."""
    register(entry)
    try:
        yield entry
    finally:
        unregister(entry.name)


def help_line(sep: str = " | ") -> str:
    """The names joined for a CLI help text: ``digits | cifar10 | ...``."""
    return sep.join(names())


def describe_set(kind: str, wanted: Wanted) -> SourceSpec:
    """The SourceSpec of data set ``kind`` (cheap: never the pixels)."""
    entry = find(kind)
    if entry is None:
        raise DataError(f"cannot prepare data {kind!r}", key="data")
    return entry.spec(entry.describe(wanted))


__all__ = ["BUILTIN", "DataSetEntry", "describe_set", "entries", "find", "get", "help_line",
           "names", "register", "registered", "unregister"]
