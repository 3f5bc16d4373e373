"""Pruning pays: the same refine budget with and without an Optuna pruner, on both executors.

    python bench/bench_prune.py [--space spaces/regnet_digits.yaml] [--n 8] [--epochs 8]
                                [--trials 32] [--batch 2] [--prune asha] [--seeds 0 1 2]
                                [--only SETUP ...] [--quick]

Trains one population (``nasx run SPACE --n N --epochs E``, inline), copies it once per setup and
sampler seed and runs ``nasx refine COPY --trials T --batch B --seed S``: inline and ray, each
without pruning and with ``--prune P``. Prints per run: wall time of the refine command, epochs
trained by its trials (the cost), how many were pruned, the best validation error reached by a
fully trained refine trial, and the mean of the best three (less noisy than the best alone); then
per setup the means over the seeds (the spread between seeds is the noise a search itself has).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _nasx(*args: str, cwd: Path) -> float:
    """Run one nasx command; its wall time in seconds (exits on failure with its stderr)."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nasx", *args], cwd=cwd, capture_output=True,
                          text=True)
    if done.returncode == 1:  # some trials failed: the figures below count only the others
        print(f"bench_prune: note: {done.stderr.strip()[-400:]}", file=sys.stderr)
    elif done.returncode != 0:
        sys.exit(f"bench_prune: nasx {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return time.perf_counter() - t0


def _refine_figures(run: Path) -> dict[str, float]:
    from nasx.store import RunStore

    with RunStore.open(run, readonly=True) as store:
        trials = [t for t in store.trials() if t.origin == "refine"]
    done = sorted(t.error for t in trials if t.status == "done" and t.error is not None)
    return {"trials": len(trials), "epochs": sum(len(t.curves or []) for t in trials),
            "pruned": sum(t.status == "pruned" for t in trials),
            "best": done[0] if done else float("nan"),
            "best3": statistics.mean(done[:3]) if done else float("nan")}


def main() -> None:
    """Population once, then each setup on its own copy; one line per setup."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default=str(REPO / "spaces" / "regnet_digits.yaml"))
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--prune", default="asha")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--quick", action="store_true",
                    help="2 models x 2 epochs, 2 refine trials, one seed, inline only: the test "
                         "suite's smoke run (no Ray start)")
    ns = ap.parse_args()
    if ns.quick:
        ns.n, ns.epochs, ns.trials, ns.batch, ns.seeds = 2, 2, 2, 1, ns.seeds[:1]
        ns.only = ns.only or ["inline"]
    setups = {f"{ex} {p or 'no pruning'}": (ex, p) for ex in ("inline", "ray")
              for p in (None, ns.prune)}
    if ns.only:
        setups = {k: v for k, v in setups.items() if any(o in k for o in ns.only)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = root / "population"
        t = _nasx("run", ns.space, "--n", str(ns.n), "--epochs", str(ns.epochs), "--out",
                  str(base), "--executor", "inline", "--keep-weights", "0", "--no-progress",
                  cwd=root)
        print(f"population: {ns.n} models x {ns.epochs} epochs in {t:.0f} s; refine budget "
              f"{ns.trials} trials, batch {ns.batch}, sampler seeds {ns.seeds}", flush=True)
        results: dict[str, list[dict[str, float]]] = {}
        for seed in ns.seeds:
            for name, (executor, prune) in setups.items():
                run = root / f"{name.replace(' ', '_')}_{seed}"
                shutil.copytree(base, run)
                args = ["refine", str(run), "--trials", str(ns.trials), "--batch",
                        str(ns.batch), "--seed", str(seed), "--executor", executor,
                        "--keep-weights", "0", "--no-progress"]
                wall = _nasx(*args, *(["--prune", prune] if prune else []), cwd=root)
                f = {**_refine_figures(run), "wall": wall}
                results.setdefault(name, []).append(f)
                print(f"{name:18} seed {seed}: {wall:6.1f} s wall, {f['epochs']:4.0f} epochs "
                      f"trained ({f['pruned']:.0f} of {f['trials']:.0f} pruned), best val error "
                      f"{f['best']:.2f}%, mean of best 3 {f['best3']:.2f}%", flush=True)
        print(f"means over {len(ns.seeds)} sampler seeds (sd between seeds):")
        for name, rows in results.items():
            cols = {k: [r[k] for r in rows] for k in ("wall", "epochs", "best", "best3")}
            sd = {k: statistics.stdev(v) if len(v) > 1 else 0.0 for k, v in cols.items()}
            mean = {k: statistics.mean(v) for k, v in cols.items()}
            print(f"  {name:18}: {mean['wall']:6.1f} s wall, {mean['epochs']:5.1f} epochs, best "
                  f"{mean['best']:.2f}% (sd {sd['best']:.2f}), best 3 {mean['best3']:.2f}% "
                  f"(sd {sd['best3']:.2f})", flush=True)

if __name__ == "__main__":
    main()
