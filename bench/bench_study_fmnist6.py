"""The whole progression on Fashion-MNIST on a CPU: AnyNetX A, B, C, D, E and RegNet as one study.

Runs ``nasx run`` for the six shipped spaces (fmnist_anynet_a ... _e, fmnist_regnet; one input,
stem, budget and recipe), ``nasx fit`` on the E run (RegNet's parameters fitted to its best
models, a RegNet space written beside the runs), with ``--epochs-long E`` ``nasx fidelity`` of
A and E (K = 32 models each retrained for E epochs), and ``nasx report`` of the six, then prints
each run's figures, the Holm-corrected family (A-B, B-C, C-D, D-E, E-RegNet and A-E) with every
headline, and whether A vs E holds at E epochs. Resumable: re-running continues every run.

    python bench/bench_study_fmnist6.py --n 64 --epochs-long 8  # the study of bench/RESULTS.md
    python bench/bench_study_fmnist6.py --n 8 --epochs 1  # a quick look
    python bench/bench_study_fmnist6.py --quick --out /tmp/study6  # the test suite's smoke run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

SPACES = ("anynet_a", "anynet_b", "anynet_c", "anynet_d", "anynet_e", "regnet")


def nasx(*args: str) -> str:
    """Run one nasx command, echo and return its output; stop the study when it fails."""
    cmd = [sys.executable, "-m", "nasx", *args]
    print("$ nasx " + " ".join(args), flush=True)
    res = subprocess.run(cmd, check=False, capture_output=True, text=True)
    print(res.stdout, end="", flush=True)
    if res.returncode != 0:
        sys.exit(f"nasx {args[0]} exited {res.returncode}: {res.stderr.strip()}")
    return res.stdout


def _print_summary(summary: dict[str, object]) -> None:
    """Per-run figures, the corrected family and every headline."""
    for r in summary["runs"]:  # type: ignore[attr-defined]
        print(f"  {r['name']:16s} n = {r['edf']['n']:3d}  median val error "
              f"{r['median_error']:.2f}%  best {r['best_error']:.2f}%")
    fam = summary.get("family")
    if fam:
        print(f"  family ({fam['scope']}, {fam['method']}, {fam['size']} comparisons): "
              + ", ".join(fam["pairs"]))
    for c in summary["comparisons"]:  # type: ignore[attr-defined]
        h = c.get("holm") or {}
        if h.get("in_family"):
            print(f"  {c['headline']}")
        for lv in c.get("long") or []:
            print(f"  {lv['sentence']}")


def main() -> None:
    """Run the study and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64, help="models per space (default 64)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs (default: the spaces')")
    ap.add_argument("--top", type=int, default=10, help="best E models nasx fit uses (10)")
    ap.add_argument("--epochs-long", type=int, default=0,
                    help="also retrain K models of A and E for this many epochs (0: skip)")
    ap.add_argument("--k", type=int, default=32, help="models per run retrained long (32)")
    ap.add_argument("--executor", default="ray", choices=("ray", "inline"))
    ap.add_argument("--out", default="runs/study_fmnist6", help="folder of the six runs")
    ap.add_argument("--quick", action="store_true",
                    help="2 models per space, 1 epoch on 2%% of the images, fit of the best 2,"
                         " no long retrains, inline (the test suite's smoke run; give --out a"
                         " scratch folder)")
    a = ap.parse_args()
    if a.quick:
        a.n, a.epochs, a.top, a.epochs_long, a.executor = 2, 1, 2, 0, "inline"
    root = Path(a.out)
    spaces = Path(__file__).resolve().parents[1] / "nasx" / "spaces"
    if a.quick:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_study_fmnist import quick_spaces

        spaces = quick_spaces(spaces, root / "spaces", names=SPACES)
    common = ["--executor", a.executor, "--no-progress"]
    epochs = ["--epochs", str(a.epochs)] if a.epochs else []
    t0 = time.monotonic()
    for s in SPACES:
        nasx("run", str(spaces / f"fmnist_{s}.yaml"), "--n", str(a.n), "--out", str(root / s),
             *epochs, *common)
    t_runs = time.monotonic() - t0
    nasx("fit", str(root / "anynet_e"), "--top", str(a.top), "--out",
         str(root / "fmnist_regnet_fitted.yaml"), "--force")
    if a.epochs_long:
        nasx("fidelity", str(root / "anynet_a"), str(root / "anynet_e"), "--epochs-long",
             str(a.epochs_long), "--k", str(a.k), *common)
    nasx("report", *(str(root / s) for s in SPACES), "--out", str(root / "report"), "--force")
    summary = json.loads((root / "report" / "summary.json").read_text())
    print(f"\nstudy: {a.n} models per space, {time.monotonic() - t0:.0f} s in all "
          f"(runs {t_runs:.0f} s; executor {a.executor})")
    _print_summary(summary)


if __name__ == "__main__":
    main()
