"""Time of the analysis and of ``nasx report`` on synthetic runs (no training, no torch).

    python bench/bench_report.py [--n 500] [--repeat 3] [--quick]

Makes a synthetic run of N sampled trials and a second one of N trials (tests/analysis/
synth_runs.py, seeded), then prints min and median wall seconds (and min CPU seconds, steadier
when the machine is shared) of: the analysis alone
(``read_runs`` + ``summarize``) and the whole ``nasx report`` command (a fresh interpreter:
import, analysis, figures, HTML, summary.json), for one run and for the pair.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "analysis"))


def _cpu() -> float:
    """CPU seconds of this process and its finished children (user + system)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object], repeat: int) -> str:
    """min and median wall seconds, and min CPU seconds, of ``repeat`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), _cpu()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(_cpu() - c0)
    return (f"wall min {min(wall):.3f} s, median {statistics.median(wall):.3f} s;"
            f" cpu min {min(cpu):.3f} s")


def main() -> None:
    """Build the runs, time the analysis and the command, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=500, help="sampled trials per run (default: 500)")
    ap.add_argument("--repeat", type=int, default=3, help="timed repetitions (default: 3)")
    ap.add_argument("--quick", action="store_true",
                    help="runs of 40 trials, one repetition, the command on one run only: the "
                         "test suite's smoke run")
    args = ap.parse_args()
    if args.quick:
        args.n, args.repeat = 40, 1

    from synth_runs import make_run

    from nasx.analysis import read_runs, summarize

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a = make_run(root / "runs" / "bench_a", "bench_a", n=args.n, n_failed=5, n_refine=10,
                     seed=1)
        b = make_run(root / "runs" / "bench_b", "bench_b", n=args.n, shift=-2.0, dlo=2, seed=2)
        cases = {"one run": [a], "two runs": [a, b]}
        print(f"synthetic runs of {args.n} sampled trials; {args.repeat} repetitions")
        for label, dirs in cases.items():
            t = timed(lambda d=dirs: summarize(read_runs(d)), args.repeat)
            print(f"analysis (read_runs + summarize), {label}: {t}")
        for label, dirs in list(cases.items())[: 1 if args.quick else None]:
            out = root / "reports" / label.replace(" ", "_")
            cmd = [sys.executable, "-m", "nasx", "report", *map(str, dirs), "--out", str(out)]
            t = timed(lambda c=cmd: subprocess.run(c, check=True, capture_output=True),
                      args.repeat)
            print(f"nasx report, {label}: {t}")


if __name__ == "__main__":
    main()
