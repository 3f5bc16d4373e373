"""``nasx fidelity RUN``: retrain K models with other seeds and/or a longer schedule; print the
seed-noise floor and the short-vs-long rank agreement (resumable like ``nasx train``)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from nasx.cli.train import EXECUTOR_HELP
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
    p.add_argument("run", metavar="RUN", help="run folder with finished trials")
    p.add_argument("--seeds", type=int, default=None,
                   help="trainings per model, the original included (default 3; 1 with"
                   " --epochs-long alone)")
    p.add_argument("--k", type=int, default=8, help="models to retrain (default 8)")
    p.add_argument("--epochs-long", type=int, default=None,
                   help="also retrain each model for E epochs (more than the population's)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the subset, the repeat seeds and the bootstrap (default 0)")
    e = p.add_argument_group("execution")
    e.add_argument("--executor", choices=("ray", "inline"), default="ray", help=EXECUTOR_HELP)
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


def run(args: argparse.Namespace) -> int:
    """Insert and train the retrains, then print one line per figure."""
    import sys

    from nasx.analysis.fidelity import fidelity_of
    from nasx.cli.train import exec_options
    from nasx.execute.fidelity import FidelityPlan, run_fidelity
    from nasx.store import RunStore, trials_frame

    seeds = args.seeds if args.seeds is not None else (1 if args.epochs_long else 3)
    plan = FidelityPlan(seeds=seeds, k=args.k, epochs_long=args.epochs_long, seed=args.seed)
    opts = exec_options(args)
    started = time.monotonic()
    with RunStore.open(args.run) as store:
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
    if c[S.FAILED]:
        print(f"nasx: {c[S.FAILED]} retrains failed; `nasx fidelity {args.run} --retry-failed`"
              " trains them again", file=sys.stderr)
        return 1
    return 0
