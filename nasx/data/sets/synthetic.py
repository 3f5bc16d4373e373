"""``synthetic``: seeded uniform uint8 images of a given size, for benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nasx.data.sets.entry import DataRecipe, DataSetEntry, Found, Source, SourceSpec, Wanted
from nasx.errors import DataError

if TYPE_CHECKING:
    import numpy as np

SYNTHETIC_SEED = 0
SYNTHETIC_BLOCK = 1024  # synthetic images are generated in blocks seeded by their index
SPLIT_IDS = {"train": 0, "test": 1}


@dataclass
class SyntheticSource:
    """Seeded uniform uint8 images and labels; a block of images depends only on its index."""

    spec: SourceSpec
    parallel: bool = False

    def _block(self, split: str, b: int) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        n = self.spec.counts[split]
        lo, hi = b * SYNTHETIC_BLOCK, min(n, (b + 1) * SYNTHETIC_BLOCK)
        rng = np.random.default_rng([SYNTHETIC_SEED, SPLIT_IDS[split], b])
        s, c = self.spec.size, self.spec.channels
        x = rng.integers(0, 256, (hi - lo, c, s, s), dtype=np.uint8)
        y = rng.integers(0, len(self.spec.classes), hi - lo).astype(np.int32)
        return x, y

    def read(self, split: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray,
                                                               list[tuple[int, str, str]]]:
        """Images ``[start, stop)`` of ``split``, the same whatever the chunking."""
        import numpy as np

        blocks = range(start // SYNTHETIC_BLOCK, (max(stop, start + 1) - 1) // SYNTHETIC_BLOCK + 1)
        parts = [self._block(split, b) for b in blocks]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        off = start - blocks[0] * SYNTHETIC_BLOCK
        return x[off : off + stop - start], y[off : off + stop - start], []


def _describe(wanted: Wanted) -> Found:
    from nasx.data.prepared import fingerprint

    if wanted.size is None:
        raise DataError("synthetic data needs a size", key="size")
    n_train, n_test, k = wanted.synthetic
    params = {"train": n_train, "test": n_test, "classes": k}
    ident = f"synthetic {n_train} {n_test} {k} seed {SYNTHETIC_SEED}"
    return Found(ident, ident, fingerprint([ident]), wanted.size, tuple(str(i) for i in range(k)),
                 {"train": n_train, "test": n_test}, channels=wanted.channels, params=params)


def _open(spec: SourceSpec) -> tuple[Source, SourceSpec]:
    return SyntheticSource(spec), spec


def _images(recipe: DataRecipe) -> int:
    return recipe.synthetic_train + recipe.synthetic_test


ENTRY = DataSetEntry(
    name="synthetic", help="seeded uniform random images (benchmarks; nothing to learn)",
    describe=_describe, open=_open, scale=255.0,
    scale_text="seeded uniform 8-bit random images divided by 255 (nothing to learn)",
    channels=(3, 1), images=_images, sized=True,
    key_fields=("synthetic_train", "synthetic_test", "synthetic_classes"),
)
