"""The small-scale study: AnyNetX A, C and E on Fashion-MNIST, with the fidelity checks, on a CPU.

Runs ``nasx run`` for the three shipped spaces (fmnist_anynet_a/c/e), ``nasx fidelity`` on A (seed
repeats and a longer schedule of a random subset), and ``nasx report`` of the three, then prints
the headline figures from the report's summary.json. Resumable: re-running continues every run.

    python bench/bench_study_fmnist.py --n 64            # the recorded study (bench/RESULTS.md)
    python bench/bench_study_fmnist.py --n 8 --epochs 1  # a quick look
    python bench/bench_study_fmnist.py --quick --out /tmp/study  # the test suite's smoke run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

SPACES = ("a", "c", "e")


def nasx(*args: str) -> None:
    """Run one nasx command; stop the study when it fails."""
    cmd = [sys.executable, "-m", "nasx", *args]
    print("$ nasx " + " ".join(args), flush=True)
    rc = subprocess.run(cmd, check=False).returncode
    if rc != 0:
        sys.exit(f"nasx {args[0]} exited {rc}")


def quick_spaces(shipped: Path, out: Path,
                 names: tuple[str, ...] = tuple(f"anynet_{s}" for s in SPACES)) -> Path:
    """Copies of the spaces fmnist_NAME training on 2% of the images (1,080 instead of 10,800)."""
    import yaml

    out.mkdir(parents=True, exist_ok=True)
    for s in names:
        doc = yaml.safe_load((shipped / f"fmnist_{s}.yaml").read_text(encoding="utf-8"))
        doc["train"]["train_fraction"] = 0.02
        (out / f"fmnist_{s}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


def main() -> None:
    """Run the study and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64, help="models per space (default 64)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs (default: the spaces')")
    ap.add_argument("--k", type=int, default=8, help="models retrained by fidelity (default 8)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per fidelity model (default 3)")
    ap.add_argument("--epochs-long", type=int, default=None,
                    help="the longer schedule (default: twice the short one)")
    ap.add_argument("--executor", default="ray", choices=("ray", "inline"))
    ap.add_argument("--out", default="runs/study_fmnist", help="folder of the three runs")
    ap.add_argument("--quick", action="store_true",
                    help="2 models per space, 1 epoch on 2%% of the images, fidelity of 2 models "
                         "x 2 seeds, inline (the test suite's smoke run; give --out a scratch "
                         "folder)")
    a = ap.parse_args()
    if a.quick:
        a.n, a.epochs, a.k, a.seeds, a.executor = 2, 1, 2, 2, "inline"
    root = Path(a.out)
    spaces = Path(__file__).resolve().parents[1] / "nasx" / "spaces"
    if a.quick:
        spaces = quick_spaces(spaces, root / "spaces")
    common = ["--executor", a.executor, "--no-progress"]
    epochs = ["--epochs", str(a.epochs)] if a.epochs else []
    t0 = time.monotonic()
    for s in SPACES:
        nasx("run", str(spaces / f"fmnist_anynet_{s}.yaml"), "--n", str(a.n),
             "--out", str(root / s), *epochs, *common)
    t_runs = time.monotonic() - t0
    short = a.epochs or 2
    nasx("fidelity", str(root / "a"), "--k", str(a.k), "--seeds", str(a.seeds),
         "--epochs-long", str(a.epochs_long or 2 * short), *common)
    t_fid = time.monotonic() - t0 - t_runs
    nasx("report", *(str(root / s) for s in SPACES), "--out", str(root / "report"), "--force")
    summary = json.loads((root / "report" / "summary.json").read_text())
    print(f"\nstudy: {a.n} models per space, {time.monotonic() - t0:.0f} s in all "
          f"(runs {t_runs:.0f} s, fidelity {t_fid:.0f} s; executor {a.executor})")
    for r in summary["runs"]:
        print(f"  {r['name']:16s} n = {r['edf']['n']:3d}  median val error "
              f"{r['median_error']:.2f}%  best {r['best_error']:.2f}% "
              f"(test {r['best_test_error']:.2f}%)")
    for c in summary["comparisons"]:
        print(f"  {c['headline']}")
    for c in summary["comparisons"]:
        if {c["a"], c["b"]} == {"fmnist_anynet_a", "fmnist_anynet_e"}:
            _print_a_vs_e(c)
    fid = next((r.get("fidelity") for r in summary["runs"] if r.get("fidelity")), None)
    if fid:
        noise = fid.get("seed_noise")
        if noise:
            print(f"  seed-noise floor (A): pooled SD {noise['pooled_sd']:.2f}% "
                  f"(CI {noise['ci']['low']:.2f}..{noise['ci']['high']:.2f}, "
                  f"{noise['models']} models)")
        for sl in fid.get("short_long", []):
            ci = sl.get("tau_ci") or {}
            print(f"  short ({sl['epochs_short']} ep) vs long ({sl['epochs_long']} ep), "
                  f"{sl['n']} models: Kendall tau {_num(sl.get('kendall_tau'))} "
                  f"(CI {_num(ci.get('low'))}..{_num(ci.get('high'))}), "
                  f"Spearman rho {_num(sl.get('spearman_rho'))}")


def _print_a_vs_e(c: dict) -> None:
    """A vs E: the plain test, each normalised comparison (by flops and by params), the verdict."""
    print(f"  A vs E: KS D = {c['ks_statistic']:.3f}, p = {c['ks_pvalue']:.3g}; "
          f"medians {c['median_a']:.2f}% vs {c['median_b']:.2f}%")
    for key, n in c["normalized"].items():
        if n["ks_statistic"] is None:
            print(f"  A vs E normalised by {key}: no complexity bin both populate")
            continue
        print(f"  A vs E normalised by {key}: D = {n['ks_statistic']:.3f}, permutation"
              f" p = {n['ks_pvalue_permutation']:.3g}, weighted Cliff's delta"
              f" {n['cliffs_delta']:.2f} ({n['n_a']} vs {n['n_b']} models in"
              f" {n['K_common']} of {n['K']} bins)")
    print(f"  verdict: {c['verdict']}")


def _num(value: object) -> str:
    """A correlation to 2 decimals; "n/a" where too few models left it undefined (None)."""
    return f"{value:.2f}" if isinstance(value, (int, float)) else "n/a"


if __name__ == "__main__":
    main()
