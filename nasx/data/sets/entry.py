"""What a data set declares: one frozen :class:`DataSetEntry`, and the source types it uses.

A data set is one module of ``nasx/data/sets/`` that defines ``ENTRY``; the registry
(:mod:`nasx.data.sets`) collects them. Everything nasx needs to know about a set lives in its
entry: how its source is described and read into a prepared store, how its pixels are scaled to
[0, 1] (recorded in export provenance), its channels, its image count (for GPU packing), flip and
crop, the recipe fields its data depend on and its help text. Torch- and numpy-free at import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


class DataRecipe(Protocol):
    """The few recipe values the data layer reads (``nasx.train.recipe.Recipe`` has them)."""

    @property
    def data(self) -> str: ...  # noqa: D102
    @property
    def data_dir(self) -> str | None: ...  # noqa: D102
    @property
    def train_fraction(self) -> float: ...  # noqa: D102
    @property
    def val_fraction(self) -> float: ...  # noqa: D102
    @property
    def split_seed(self) -> int: ...  # noqa: D102
    @property
    def synthetic_train(self) -> int: ...  # noqa: D102
    @property
    def synthetic_test(self) -> int: ...  # noqa: D102
    @property
    def synthetic_classes(self) -> int: ...  # noqa: D102


@dataclass(frozen=True)
class SourceSpec:
    """A source as described (cheaply): identity, fingerprint and what the store will hold."""

    kind: str
    source: str  # a folder, or a description of generated data
    identity: str  # what names the store (kind + folder + parameters), not its contents
    fingerprint: str  # contents: file list, sizes, mtimes (or generator parameters)
    size: int
    channels: int
    scale: float
    classes: tuple[str, ...]
    counts: dict[str, int]
    flip: bool = True
    crop: bool = True
    params: dict[str, int] = field(default_factory=dict)  # synthetic sizes


class Source(Protocol):
    """Reads a split's images in chunks."""

    spec: SourceSpec
    parallel: bool  # decoding is costly: worth a process pool

    def read(self, split: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray,
                                                               list[tuple[int, str, str]]]:
        """(images uint8 [n, C, S, S], labels int32 [n], [(index, path, reason) unreadable])."""
        ...


@dataclass(frozen=True)
class Wanted:
    """What the caller asks of a source: its folder, stored size, channels, synthetic sizes."""

    data_dir: str | None
    size: int | None  # None: the source's own size (fixed-size sets)
    channels: int = 3
    synthetic: tuple[int, int, int] = (50000, 10000, 10)  # train images, test images, classes


@dataclass(frozen=True)
class Found:
    """What describing a source found; the entry adds kind, channels, scale, flip and crop."""

    source: str
    identity: str
    fingerprint: str
    size: int
    classes: tuple[str, ...]
    counts: dict[str, int]
    channels: int | None = None  # None: the entry's one channel count
    params: dict[str, int] = field(default_factory=dict)


Describe = Callable[[Wanted], Found]
Open = Callable[[SourceSpec], "tuple[Source, SourceSpec]"]
ImageRule = Callable[[DataRecipe], int]


@dataclass(frozen=True)
class DataSetEntry:
    """One data set ``recipe.data`` may name: the one definition every layer reads.

    ``scale`` divides the stored uint8 values to [0, 1] and ``scale_text`` says how, in export
    provenance (``scale_to_unit``). ``channels`` are those the store may hold: one value for a
    fixed set, several when the space's ``in_channels`` chooses. ``images`` is the train + test
    count (packing's memory estimate): a number, a rule of the recipe, or None (unknown until
    read). ``sized``: the store holds images at the training resolution (else at the source's
    own size, resized per batch). ``key_fields``: recipe fields beyond data, data_dir and the
    split that change its data (the per-worker cache key).
    """

    name: str
    help: str
    describe: Describe
    open: Open
    scale: float
    scale_text: str
    channels: tuple[int, ...]
    images: int | ImageRule | None
    flip: bool = True
    crop: bool = True
    sized: bool = False
    key_fields: tuple[str, ...] = ()

    def image_count(self, recipe: DataRecipe) -> int | None:
        """Train + test images of the set for ``recipe`` (None: not known before reading)."""
        if self.images is None or isinstance(self.images, int):
            return self.images
        return self.images(recipe)

    def spec(self, found: Found) -> SourceSpec:
        """The SourceSpec of ``found``: the entry's kind, channels, scale, flip and crop."""
        channels = found.channels if found.channels is not None else self.channels[0]
        return SourceSpec(self.name, found.source, found.identity, found.fingerprint, found.size,
                          channels, self.scale, found.classes, found.counts, flip=self.flip,
                          crop=self.crop, params=found.params)
