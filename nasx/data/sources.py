"""Where a prepared data set comes from: one :class:`Source` per data set, read in chunks.

:func:`describe` is cheap (a folder listing and file stats, never the pixels): it names the source
and fingerprints it, which is how a prepared store knows it is still current. :func:`open_source`
gives the object that reads images ``[start, stop)`` of a split as uint8 [n, C, S, S], so a
conversion can run chunk by chunk in a process pool and restart where it stopped. Each data set's
own describe/open lives in its module of :mod:`nasx.data.sets`; this module dispatches. Torch-free.
"""

from __future__ import annotations

import os

from nasx.data.sets import describe_set, get
from nasx.data.sets.arrays import ArraySource
from nasx.data.sets.entry import Source, SourceSpec, Wanted
from nasx.data.sets.synthetic import SYNTHETIC_BLOCK, SYNTHETIC_SEED, SyntheticSource
from nasx.errors import DataError

__all__ = ["SYNTHETIC_BLOCK", "SYNTHETIC_SEED", "ArraySource", "Source", "SourceSpec",
           "SyntheticSource", "cpu_count", "describe", "open_source"]


def describe(kind: str, data_dir: str | None, size: int | None, channels: int = 3,
             synthetic: tuple[int, int, int] = (50000, 10000, 10)) -> SourceSpec:
    """Describe the source of ``kind``; ``size`` None: the source's own size (fixed-size sets).

    ``channels`` matters for image folders and synthetic data (1: greyscale); ``synthetic`` is
    (train images, test images, classes).
    """
    if size is not None and size < 1:
        raise DataError(rule="size must be >= 1", value=size, key="size")
    return describe_set(kind, Wanted(data_dir, size, channels, synthetic))


def open_source(spec: SourceSpec) -> tuple[Source, SourceSpec]:
    """(the reader, the spec completed with counts and classes known only after reading)."""
    return get(spec.kind).open(spec)


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
