"""Helpers of the data-set modules: sources already in memory as arrays, file fingerprints."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nasx.data.imagesrc import resize_square
from nasx.data.sets.entry import Source, SourceSpec


@dataclass
class ArraySource:
    """A source already in memory as uint8 arrays (IDX, CIFAR-10, digits), resized when asked."""

    spec: SourceSpec
    arrays: dict[str, tuple[np.ndarray, np.ndarray]]
    parallel: bool = False

    def read(self, split: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray,
                                                               list[tuple[int, str, str]]]:
        """Images ``[start, stop)`` of ``split`` at the store's size."""
        x, y = self.arrays[split]
        part = x[start:stop]
        s = self.spec.size
        if part.shape[-1] != s or part.shape[-2] != s:
            part = np.stack([resize_square(im, s) for im in part]) if len(part) else part
        return np.ascontiguousarray(part, dtype=np.uint8), y[start:stop].astype(np.int32), []


def open_arrays(spec: SourceSpec, arrays: dict[str, tuple[np.ndarray, np.ndarray]],
                ) -> tuple[Source, SourceSpec]:
    """An ArraySource and ``spec`` completed with the counts and classes the arrays hold."""
    counts = {k: int(v[0].shape[0]) for k, v in arrays.items()}
    classes = spec.classes
    if not classes:
        top = max(int(v[1].max()) for v in arrays.values())
        classes = tuple(str(i) for i in range(top + 1))
    full = replace(spec, counts=counts, classes=classes)
    return ArraySource(full, arrays), full


def file_lines(files: list[Path]) -> list[str]:
    """``name size mtime_ns`` of each file: what fingerprints a file-backed source."""
    out = []
    for p in files:
        st = p.stat()
        out.append(f"{p.name} {st.st_size} {st.st_mtime_ns}")
    return out
