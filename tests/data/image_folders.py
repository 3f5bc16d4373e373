"""Tiny image folders of mixed files (JPEG, PNG, WebP), sizes and modes, for the store tests."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("ant", "bee", "cow")


def make_mixed_folder(root: Path, train: int = 12, val: int = 4, seed: int = 0) -> list[Path]:
    """train/<class>/ and val/<class>/ images; each class has its own dominant colour.

    Returns the files written (in sorted order).
    """
    rng = np.random.default_rng(seed)
    files = []
    for split, per in (("train", train), ("val", val)):
        for ci, cls in enumerate(CLASSES):
            folder = root / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per):
                w, h = (int(v) for v in rng.integers(20, 70, 2))
                arr = rng.integers(0, 120, (h, w, 3), dtype=np.uint8)
                arr[..., ci] = 230  # a learnable colour
                im = Image.fromarray(arr)
                ext = ("jpg", "png", "webp")[i % 3]
                if ext == "png" and i % 2:
                    im = im.convert("RGBA") if i % 4 == 1 else im.convert("P")
                elif ext == "jpg" and i % 4 == 3:
                    im = im.convert("L")
                path = folder / f"{i:03d}.{ext}"
                im.save(path, quality=90) if ext != "png" else im.save(path)
                files.append(path)
    return sorted(files)


def truncate(path: Path, keep: float = 0.5) -> None:
    """Cut ``path`` to a fraction of its bytes (a truncated download)."""
    blob = path.read_bytes()
    path.write_bytes(blob[: int(len(blob) * keep)])


if __name__ == "__main__":
    make_mixed_folder(Path(sys.argv[1]), *(int(a) for a in sys.argv[2:]))
