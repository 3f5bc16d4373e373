"""Loading an IDX data set (Fashion-MNIST by default): the first read, the cached read, the tensors.

    python bench/bench_data.py [--data-dir /usr/share/datasets/fashion-mnist] [--repeat 5]
    python bench/bench_data.py --quick   # one repeat, 14 px only (the test suite's smoke run)

Prints CPU and wall seconds for: decoding the (gzipped) IDX files with no cache; the first load
into an empty cache folder (decode + write the .npz); a cached load (median of --repeat); and a
whole ``load_dataset`` (split, convert, resize, standardise) at 28 and 14 px from the cache.
The cache folder is a fresh temporary one ($NASX_CACHE is set for this process only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def _median(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = [_timed(fn) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    """Print the timings."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="one repeat, one size (14 px): the smoke run of the test suite")
    args = ap.parse_args()
    if args.quick:
        args.repeat = 1
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["NASX_CACHE"] = cache
        import torch

        torch.set_num_threads(1)
        from nasx.data.idx import load_idx_arrays
        from nasx.data.loader import load_dataset
        from nasx.train.recipe import Recipe

        a = load_idx_arrays(args.data_dir, use_cache=False)
        n = a.x_train.shape[0] + a.x_test.shape[0]
        print(f"{args.data_dir}: {a.x_train.shape[0]} + {a.x_test.shape[0]} images "
              f"{a.x_train.shape[2]}x{a.x_train.shape[3]}, torch threads 1")
        rows = [("decode, no cache", _median(lambda: load_idx_arrays(args.data_dir,
                                                                     use_cache=False), 1)),
                ("first load (decode + write cache)", _timed(lambda: load_idx_arrays(args.data_dir))),
                ("cached load", _median(lambda: load_idx_arrays(args.data_dir), args.repeat))]
        recipe = Recipe(data="mnist_idx", data_dir=args.data_dir)
        for res in (14,) if args.quick else (28, 14):
            load_dataset(recipe, res, 1, "cpu")  # warm torch's kernels once
            rows.append((f"load_dataset at {res} px (cached)",
                         _median(lambda res=res: load_dataset(recipe, res, 1, "cpu"),
                                 args.repeat)))
        for name, (cpu, wall) in rows:
            print(f"  {name:36s} cpu {cpu:6.3f} s  wall {wall:6.3f} s  "
                  f"({n / max(wall, 1e-9) / 1e6:.1f} M images/s)")


if __name__ == "__main__":
    main()
