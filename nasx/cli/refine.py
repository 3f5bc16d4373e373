"""``nasx refine RUN --trials N``: an Optuna study over the run's space, warm-started from it."""

from __future__ import annotations

import argparse
from typing import Any

from nasx.cli.train import add_training_args, exec_options

SAMPLERS = ("tpe", "nsga2", "cmaes", "random")  # nasx.refine.optuna_space.SAMPLERS (no optuna here)


def register(subparsers: Any) -> None:
    """Add the ``refine`` verb."""
    p = subparsers.add_parser(
        "refine", help="search the run's space with Optuna, warm-started from the run",
        description="Optuna ask/tell over the run's own space: every finished trial warm-starts"
        " the study, suggestions are checked against the constraints before training, feasible"
        " ones are trained by the same executors and stored with origin 'refine'. A second call"
        " continues the study.",
    )
    p.add_argument("run", metavar="RUN", help="run folder, e.g. runs/regnet_digits")
    p.add_argument("--trials", type=int, required=True, help="new trials to train")
    p.add_argument("--sampler", choices=SAMPLERS, default=None,
                   help="Optuna sampler (default: tpe; nsga2 with several objectives)")
    p.add_argument("--objectives", default="error",
                   help="error, or error plus flops/params/acts/latency_ms/memory_mb,"
                   " comma-separated (default: error); latency_ms and memory_mb are measured"
                   " before training, as the space's measure: block says")
    p.add_argument("--storage", default=None,
                   help="SQLAlchemy URL of the Optuna storage (default: sqlite:///RUN/optuna.db)")
    p.add_argument("--study", default=None, help="study name (default: <run name>-<objectives>)")
    p.add_argument("--batch", type=int, default=1, help="suggestions trained per round K")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampler (default: 0)")
    p.add_argument("--prerank", default=None, metavar="PROXY",
                   help="train only the suggestions this zero-cost proxy (or params, flops)"
                   " ranks best; the others are told FAIL to Optuna (needs --oversample)")
    p.add_argument("--oversample", type=int, default=1, metavar="K",
                   help="with --prerank: feasible suggestions scored per trained trial (>= 2)")
    add_training_args(p)  # the same training options as nasx train
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the study and print its summary."""
    from nasx.refine.options import RefineOptions
    from nasx.refine.study import refine

    exec_opts = exec_options(args)
    opts = RefineOptions(
        trials=args.trials, sampler=args.sampler,
        objectives=tuple(o.strip() for o in args.objectives.split(",") if o.strip()),
        storage=args.storage, study=args.study, prune=args.prune, batch=args.batch,
        seed=args.seed, prerank=args.prerank, oversample=args.oversample,
    )
    summary = refine(args.run, opts, exec_opts)
    print("\n".join(summary.lines()), flush=True)
    return report_failures(args.run, summary.trained, "refine")


def report_failures(run: str, ids: list[int], verb: str) -> int:
    """Say on stderr which of the trials ``ids`` failed and why; exit status 1 if any did."""
    import sys

    from nasx.execute.progress import failure_summary
    from nasx.store import RunStore

    with RunStore.open(run) as store:
        trials = [store.get(i) for i in ids]
    lines = failure_summary(trials, len(ids), f"nasx train {run} --retry-failed")
    for text in lines:
        print(text if text.startswith(" ") else f"nasx {verb}: {text}", file=sys.stderr)
    return 1 if lines else 0
