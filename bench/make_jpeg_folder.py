"""An ImageNet-shaped JPEG folder for the data benchmarks: train/<class>/*.jpg and val/<class>/*.jpg.

    python bench/make_jpeg_folder.py OUT [--train 100000] [--val 5000] [--classes 1000]

Images are about 400x350 px (sizes vary by +-20%), JPEG quality 90, with smooth colour gradients
and noise (so they compress like photos, about 30-60 KB each), made on every core.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np


def _write(job: tuple[str, int, int, int]) -> None:
    from PIL import Image

    path, seed, w, h = job
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(0, 255, 3)
    slope = rng.uniform(-0.4, 0.4, (3, 2))
    img = np.stack([base[c] + slope[c, 0] * xx + slope[c, 1] * yy for c in range(3)], axis=-1)
    img += rng.normal(0, 18, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=90)


def make(out: Path, train: int, val: int, classes: int) -> int:
    """Write the folder; returns the number of images."""
    jobs = []
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("val", val)):
        for i in range(n):
            cls = out / split / f"c{i % classes:04d}"
            cls.mkdir(parents=True, exist_ok=True)
            w, h = (int(v) for v in rng.normal((400, 350), (40, 35)).clip(200, 600))
            jobs.append((str(cls / f"{i:07d}.jpg"), i + (0 if split == "train" else 10**8), w, h))
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(_write, jobs, chunksize=64))
    return len(jobs)


def main() -> None:
    """Parse arguments and write the folder."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=100000)
    ap.add_argument("--val", type=int, default=5000)
    ap.add_argument("--classes", type=int, default=1000)
    args = ap.parse_args()
    n = make(Path(args.out), args.train, args.val, args.classes)
    print(f"wrote {n} JPEG images into {args.out}")


if __name__ == "__main__":
    main()
