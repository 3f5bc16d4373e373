"""Wall time of `nasx sample spaces/regnet.yaml --n 500`, interpreter start-up included.

Prints figures only (target on a 2-core machine: < 3 s); no test asserts on time.
Usage: python bench/bench_sample.py [--repeat 3] [--space spaces/regnet.yaml] [--n 500] [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _time(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one command; CPU time is what a busy machine cannot skew."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Run the benchmark and print one line per measurement."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--space", default="spaces/regnet.yaml")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--quick", action="store_true",
                    help="one repeat of 20 models: the test suite's smoke run")
    args = ap.parse_args()
    if args.quick:
        args.repeat, args.n = 1, 20
    startup = [_time([sys.executable, "-c", "import nasx.cli.main"]) for _ in range(args.repeat)]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            out = Path(tmp) / f"run{i}"
            runs.append(_time([sys.executable, "-m", "nasx", "sample", args.space, "--n",
                               str(args.n), "--out", str(out), "--no-progress"]))
    for label, times in (("python start-up + import nasx.cli", startup),
                         (f"nasx sample {args.space} --n {args.n}", runs)):
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        print(f"{label}: wall min {min(walls):.2f} s, median {statistics.median(walls):.2f} s;"
              f" cpu min {min(cpus):.2f} s ({len(times)} runs)")
    print(f"load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
