"""Threads per trial: inline and Ray at 1 and 2 torch threads per trial, on this machine.

    python bench/bench_threads.py [--space spaces/regnet_digits.yaml] [--n 8] [--epochs 2]
                                  [--repeats 3] [--quick]

Runs ``nasx run SPACE --n N --epochs E --no-progress`` in a fresh temporary folder for each setup:

- inline at ``--threads 1`` and ``--threads 2`` (one trial at a time in the driver);
- ray at ``--cpus-per-trial 1 --threads 1`` (as many trials at once as cores),
  ``--cpus-per-trial 2 --threads 2`` (one trial at a time, 2 threads) and
  ``--cpus-per-trial 1 --threads 2`` (oversubscribed: cores trials of 2 threads each);
- each default (no ``--threads`` / ``--cpus-per-trial``), to check what the defaults resolve to.

``--only NAME ...`` picks setups; a command that runs past ``--timeout`` seconds counts as that.

Setups are interleaved (round-robin over the repeats) so that a burst of load from other processes
hits all of them alike. Prints, per setup, the wall time of the whole command (sampling and Ray
start-up included) and the training time the command itself reports: min, median and max over the
repeats, and the thread count that the trials recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUPS: dict[str, list[str]] = {
    "inline t1": ["--executor", "inline", "--threads", "1"],
    "inline t2": ["--executor", "inline", "--threads", "2"],
    "inline default": ["--executor", "inline"],
    "ray cpt1 t1": ["--executor", "ray", "--cpus-per-trial", "1", "--threads", "1"],
    "ray cpt2 t2": ["--executor", "ray", "--cpus-per-trial", "2", "--threads", "2"],
    "ray cpt1 t2": ["--executor", "ray", "--cpus-per-trial", "1", "--threads", "2"],
    "ray default": ["--executor", "ray"],
}
TRAINED = re.compile(r" in ([0-9.]+) s \(")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line of the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--space", default=str(REPO / "spaces" / "regnet_digits.yaml"))
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--only", nargs="*", default=None, help="setup names to run (default: all)")
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed per command")
    p.add_argument("--quick", action="store_true",
                   help="2 models x 1 epoch, one repeat, inline at 1 thread only (no Ray start): "
                        "the test suite's smoke run")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.epochs, args.repeats = 2, 1, 1
        args.only = args.only or ["inline t1"]
    return args


def recorded_threads(run: Path) -> list[object]:
    """The distinct thread counts the run's trials recorded (metrics['threads'])."""
    from nasx.store import RunStore

    with RunStore.open(run) as store:
        return sorted({(t.metrics or {}).get("threads") for t in store.trials()}, key=str)


def one(setup: str, args: argparse.Namespace, tmp: Path, i: int) -> tuple[float, float, list]:
    """(wall s, training s reported by nasx, recorded thread counts) of one command."""
    out = tmp / f"{setup.replace(' ', '_')}-{i}"
    cmd = [sys.executable, "-m", "nasx", "run", args.space, "--n", str(args.n), "--epochs",
           str(args.epochs), "--out", str(out), "--no-progress", *SETUPS[setup]]
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "NASX_THREADS", "RAY_ADDRESS")}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return float("inf"), float("inf"), []
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{setup}: exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    found = TRAINED.search(proc.stdout)
    return wall, float(found.group(1)) if found else float("nan"), recorded_threads(out)


def main(argv: list[str] | None = None) -> None:
    """Run every setup ``--repeats`` times, interleaved, and print the figures."""
    args = parse_args(argv)
    setups = args.only or list(SETUPS)
    walls: dict[str, list[float]] = {s: [] for s in setups}
    trains: dict[str, list[float]] = {s: [] for s in setups}
    threads: dict[str, list] = {}
    print(f"nasx run {Path(args.space).name} --n {args.n} --epochs {args.epochs}; "
          f"{os.cpu_count()} cpus; {args.repeats} repeats; load average at start "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as d:
        for i in range(args.repeats):
            for s in setups:
                wall, train, thr = one(s, args, Path(d), i)
                walls[s].append(wall)
                trains[s].append(train)
                threads[s] = thr
                print(f"  repeat {i + 1} {s:15s}: wall {wall:6.1f} s, training {train:6.1f} s"
                      f" (load average {os.getloadavg()[0]:.1f})", flush=True)
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    print(f"{'setup':15s} {'wall min/median/max s':>24s} {'training min/median/max s':>28s}"
          f"  threads")
    for s in setups:
        w, t = walls[s], trains[s]
        print(f"{s:15s} {min(w):7.1f} {statistics.median(w):7.1f} {max(w):7.1f}"
              f"     {min(t):7.1f} {statistics.median(t):7.1f} {max(t):7.1f}"
              f"     {json.dumps(threads[s])}")


if __name__ == "__main__":
    main()
