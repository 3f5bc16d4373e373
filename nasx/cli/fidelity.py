"""``nasx fidelity RUN``: retrain K models with other seeds and/or a longer schedule; print the
seed-noise floor and the short-vs-long rank agreement (resumable like ``nasx train``)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from nasx.cli.train import add_executor_arg
from nasx.status import TrialStatus as S


def register(subparsers: Any) -> None:
    """Add the ``fidelity`` verb."""
    p = subparsers.add_parser(
        "fidelity", help="measure seed noise and short-vs-long rank agreement of a run",
        description="Retrain K models of the run (a seeded random subset of its finished sampled"
        " models, not the best) with S-1 other seeds and/or for E epochs, into the same run"
        " (origin 'fidelity', kept out of every EDF), then print the seed-noise floor and"
        " Kendall's tau / Spearman's rho between short and long errors. Re-running with the"
        " same arguments adds nothing and trains only what is left.",
    )
    p.add_argument("runs", metavar="RUN", nargs="+",
                   help="run folder(s) with finished trials; with two or more and"
                   " --epochs-long, each pair's conclusion is tested again on the long"
                   " retrainings (holds / does not hold / cannot be decided)")
    p.add_argument("--seeds", type=int, default=None,
                   help="trainings per model, the original included (default 3; 1 with"
                   " --epochs-long alone)")
    p.add_argument("--k", type=int, default=None,
                   help="models to retrain per run (default 8; 32 with several runs)")
    p.add_argument("--epochs-long", type=int, default=None,
                   help="also retrain each model for E epochs (more than the population's)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the subset, the repeat seeds and the bootstrap (default 0)")
    e = p.add_argument_group("execution")
    add_executor_arg(e)
    e.add_argument("--address", default=None,
                   help="Ray cluster to join (default: $RAY_ADDRESS, else a fresh local Ray)")
    e.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs per trial (ray)")
    e.add_argument("--gpus-per-trial", type=float, default=None, help="GPUs per trial (ray)")
    e.add_argument("--max-failures", type=int, default=2,
                   help="retries of a trial whose worker dies (default 2)")
    e.add_argument("--retry-failed", action="store_true", help="train failed retrains again")
    e.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N")
    e.add_argument("--threads", type=int, default=None, help="torch CPU threads per trial")
    e.add_argument("--data-dir", default=None, help="folder of the data set")
    e.add_argument("--no-progress", action="store_true", help="no live progress display")
    # what exec_options reads and fidelity never changes: the recipe is the population's
    p.set_defaults(func=run, epochs=None, batch_size=None, lr=None, data=None, keep_weights=0,
                   dashboard=False)


def _one(run_dir: str, args: argparse.Namespace, plan: Any, opts: Any) -> int:
    """Insert and train one run's retrains, print its figures; the number that failed."""
    from nasx.analysis.fidelity import fidelity_of
    from nasx.execute.fidelity import run_fidelity
    from nasx.store import RunStore, trials_frame

    started = time.monotonic()
    with RunStore.open(run_dir) as store:
        out = run_fidelity(store, opts, plan)
        frame = trials_frame(store.trials())
        fid = fidelity_of(frame, store.run_recipe(), seed=args.seed)
        name = store.meta().get("name", store.root.name)
    c = out.counts
    shown = ", ".join(str(i) for i in out.models[:10]) + (" ..." if len(out.models) > 10 else "")
    print(f"{name}: retrained {len(out.models)} of {out.population} finished sampled models"
          f" (trials {shown}); {len(out.added)} retrains added, {out.planned} planned; fidelity"
          f" trials {c[S.DONE]} done, {c[S.FAILED]} failed, {c[S.DIVERGED]} diverged,"
          f" {c[S.PENDING] + c[S.RUNNING]} pending, in {time.monotonic() - started:.1f} s"
          f" ({opts.executor})", flush=True)
    for line in (fid.lines() if fid is not None else ["no finished retrains yet"]):
        print(line, flush=True)
    return int(c[S.FAILED])


def long_lines(runs: list[str], seed: int) -> list[str]:
    """Each pair's conclusion at the long schedule(s) (the report's sentences)."""
    from nasx.analysis import read_runs, summarize

    summary = summarize(read_runs(runs), seed=seed)
    lines = [lv.sentence for c in summary.comparisons for lv in (c.long or [])]
    return lines or ["no pair has long retrainings of both runs at one schedule yet"]


def run(args: argparse.Namespace) -> int:
    """Insert and train the retrains of every run, print one line per figure, then (several
    runs with --epochs-long) whether each pair's conclusion holds at the long schedule."""
    import sys

    from nasx.cli.train import exec_options
    from nasx.execute.fidelity import FidelityPlan

    seeds = args.seeds if args.seeds is not None else (1 if args.epochs_long else 3)
    k = args.k if args.k is not None else (8 if len(args.runs) == 1 else 32)
    plan = FidelityPlan(seeds=seeds, k=k, epochs_long=args.epochs_long, seed=args.seed)
    opts = exec_options(args)
    failed = {r: _one(r, args, plan, opts) for r in args.runs}
    if len(args.runs) > 1 and args.epochs_long:
        for line in long_lines(list(args.runs), args.seed):
            print(line, flush=True)
    for r, n in failed.items():
        if n:
            print(f"nasx: {n} retrains failed; `nasx fidelity {r} --retry-failed`"
                  " trains them again", file=sys.stderr)
    return 1 if any(failed.values()) else 0
