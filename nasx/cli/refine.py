"""``nasx refine RUN --trials N``: an Optuna study over the run's space, warm-started from it."""

from __future__ import annotations

import argparse
from typing import Any

SAMPLERS = ("tpe", "nsga2", "cmaes", "random")  # nasx.refine.optuna_space.SAMPLERS (no optuna import here)
# recipe overrides taken from the command line, as `nasx train` takes them
RECIPE_ARGS = (("epochs", int), ("batch_size", int), ("lr", float), ("device", str),
               ("data", str), ("data_dir", str), ("threads", int))


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
                   help="error, or error plus flops/params/acts, comma-separated (default: error)")
    p.add_argument("--storage", default=None,
                   help="SQLAlchemy URL of the Optuna storage (default: sqlite:///RUN/optuna.db)")
    p.add_argument("--study", default=None, help="study name (default: <run name>-<objectives>)")
    p.add_argument("--prune", action="store_true",
                   help="stop weak trials early with a MedianPruner (inline executor only)")
    p.add_argument("--batch", type=int, default=1, help="suggestions trained per round K")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampler (default: 0)")
    t = p.add_argument_group("training (as nasx train)")
    t.add_argument("--executor", choices=("ray", "inline"), default="ray",
                   help="ray (default) or inline (one trial after another in this process)")
    t.add_argument("--address", default=None, help="Ray cluster address (default: $RAY_ADDRESS"
                   " or a local Ray)")
    t.add_argument("--cpus-per-trial", type=float, default=1.0)
    t.add_argument("--gpus-per-trial", type=float, default=0.0)
    t.add_argument("--max-failures", type=int, default=2)
    t.add_argument("--keep-weights", type=int, default=3, help="keep the best K trials' weights")
    t.add_argument("--no-progress", action="store_true", help="no progress display")
    for name, kind in RECIPE_ARGS:
        t.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None,
                       help=f"recipe override: {name}")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the study and print its summary."""
    from nasx.execute.options import ExecOptions
    from nasx.refine.study import RefineOptions, refine

    overrides = {name: getattr(args, name) for name, _ in RECIPE_ARGS
                 if getattr(args, name) is not None}
    exec_opts = ExecOptions(
        executor=args.executor, address=args.address, cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial, max_failures=args.max_failures,
        keep_weights=args.keep_weights, overrides=overrides, progress=not args.no_progress,
    )
    opts = RefineOptions(
        trials=args.trials, sampler=args.sampler,
        objectives=tuple(o.strip() for o in args.objectives.split(",") if o.strip()),
        storage=args.storage, study=args.study, prune=args.prune, batch=args.batch,
        seed=args.seed,
    )
    summary = refine(args.run, opts, exec_opts)
    print("\n".join(summary.lines()))
    return 0
