"""``nasx train RUN``: train every trial of a run that is not finished yet (resumable)."""

from __future__ import annotations

import argparse
import time
from typing import Any


def add_executor_arg(g: Any, default: str | None = None) -> None:
    """``--executor``: its choices and help come from the executor registry (torch- and ray-free)."""
    from nasx.execute.registry import DEFAULT_EXECUTOR, EXECUTORS, executor_help

    g.add_argument("--executor", choices=tuple(EXECUTORS), default=default or DEFAULT_EXECUTOR,
                   help=executor_help())


def add_training_args(p: argparse.ArgumentParser, executor: str | None = None, *,
                      before_training: bool = False, recipe: bool = True) -> None:
    """Recipe overrides and execution options shared by train, run and demo (and, with
    ``before_training``, --proxies and --measure: the verbs that call train_and_summarise with
    their arguments). ``recipe`` False: only the settings that are not part of a recipe (data
    folder, device, threads), for a verb that trains with a recipe it does not choose."""
    if recipe:
        g = p.add_argument_group("recipe overrides (default: the space's train: block)")
        g.add_argument("--epochs", type=int, default=None, help="training epochs per trial")
        g.add_argument("--batch-size", type=int, default=None, help="mini-batch size")
        g.add_argument("--lr", type=float, default=None, help="base learning rate")
        from nasx.data.sets import help_line  # torch-free: the registry's names

        g.add_argument("--data", default=None, help=help_line())
    else:
        g = p.add_argument_group("where trials run (the recipe is not chosen here)")
    g.add_argument("--data-dir", default=None,
                   help="folder of the data set (or of a prepared store: nasx data prepare --out)")
    g.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N")
    g.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads per trial (default: 1 inline; with ray, the"
                   " trial's CPUs)")
    e = p.add_argument_group("execution")
    add_executor_arg(e, executor)
    e.add_argument("--address", default=None,
                   help="Ray cluster to join (default: $RAY_ADDRESS, else a fresh local Ray)")
    e.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs per trial (ray)")
    e.add_argument("--gpus-per-trial", type=float, default=None,
                   help="GPUs per trial; a fraction 1/k packs k trials on one GPU (ray;"
                   " default: as many per GPU as the largest model's training memory allows,"
                   " at most 8, when the cluster has GPUs, else 0)")
    e.add_argument("--max-failures", type=int, default=2,
                   help="retries of a trial whose worker dies (default 2)")
    e.add_argument("--keep-weights", type=int, default=3,
                   help="keep the weights of the best K trials (default 3; 0: none)")
    e.add_argument("--retry-failed", action="store_true", help="train failed trials again")
    from nasx.execute.options import PRUNERS

    e.add_argument("--prune", nargs="?", const="median", choices=PRUNERS, default=None,
                   metavar="{" + ",".join(PRUNERS) + "}",
                   help="stop unpromising trials after a validated epoch with Optuna's pruner"
                   " (median when no name is given; with either executor); they end 'pruned'."
                   " A population sampled for an EDF must be trained equally: train and run"
                   " refuse it for sampled trials unless --force-prune")
    e.add_argument("--force-prune", action="store_true",
                   help="prune sampled-population trials anyway (their EDF then mixes budgets)")
    e.add_argument("--dashboard", action="store_true",
                   help="start Ray's dashboard (bound to 127.0.0.1)")
    e.add_argument("--no-progress", action="store_true", help="no live progress display")
    if before_training:
        _add_before_training_args(p)


def _add_before_training_args(p: argparse.ArgumentParser) -> None:
    """--proxies and --measure, in their own group."""
    b = p.add_argument_group("before training (only the trials that lack them)")
    b.add_argument("--proxies", action="store_true",
                   help="compute the zero-cost proxies of every trial at initialisation, as"
                   " `nasx proxies RUN` with its defaults (cheap: one minibatch per trial)")
    b.add_argument("--measure", action="store_true",
                   help="measure inference latency and training memory of every architecture,"
                   " as `nasx measure RUN` with its defaults")


def before_training(store: Any, opts: Any, args: argparse.Namespace | None) -> None:
    """What --proxies and --measure ask for, before any trial trains: the code paths of
    ``nasx proxies`` and ``nasx measure``, one line each (errors per trial on stderr)."""
    if args is None:
        return
    if getattr(args, "proxies", False):
        from nasx.cli import proxies

        print(proxies.compute_missing(store, proxies.defaults(progress=False),
                                      overrides=opts.overrides).line(), flush=True)
    if getattr(args, "measure", False):
        from nasx.cli import measure

        print(measure.measure_missing(store, measure.defaults(progress=False)).line(), flush=True)


def exec_options(args: argparse.Namespace) -> Any:
    """ExecOptions from parsed arguments, checked by :func:`nasx.api.execution.options_from`."""
    from nasx.api.execution import RECIPE_KEYS, options_from

    return options_from(
        executor=args.executor, address=args.address, cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial, max_failures=args.max_failures,
        keep_weights=args.keep_weights, retry_failed=args.retry_failed,
        prune=getattr(args, "prune", None), force_prune=getattr(args, "force_prune", False),
        progress=not args.no_progress, dashboard=args.dashboard,
        **{k: getattr(args, k, None) for k in RECIPE_KEYS})  # narrow has no recipe flags


def train_and_summarise(store: Any, opts: Any, args: argparse.Namespace | None = None) -> int:
    """Train a run's unfinished trials, print one summary line; returns the exit status.

    With ``args`` (the verb's arguments), --proxies and --measure run first (:func:`before_training`).

    Exit 1 when the run holds failed trials (then stderr says how many, why, one line per distinct
    message, and how to retry them); else 0. Diverged trials (a loss that became non-finite) are
    a result of the population, not a failure of the tool: the summary counts them, exit stays 0.
    """
    import statistics
    import sys

    from nasx.api.runs import train_store
    from nasx.execute.progress import failure_summary
    from nasx.store import TrialStatus as S

    before_training(store, opts, args)
    started = time.monotonic()
    counts = train_store(store, opts)
    done = store.finished(origins=None, any_recipe=True, stopped_early=True).trials
    errors = sorted((t.error, t.id) for t in done if t.error is not None)
    total = sum(counts.values())
    parts = [f"{counts[s]} {s}" for s in (S.DONE, S.PRUNED, S.FAILED, S.DIVERGED, S.PENDING)
             if counts[s]]
    line = (f"{store.meta().get('name', store.root.name)}: {', '.join(parts) or 'no trials'}"
            f" of {total} in {time.monotonic() - started:.1f} s ({opts.executor})")
    if errors:
        line += (f"; best val error {errors[0][0]:.2f}% (trial {errors[0][1]}), "
                 f"median {statistics.median(e for e, _ in errors):.2f}%")
    print(f"{line}; run {store.root}", flush=True)
    failures = failure_summary(store.trials(S.FAILED), total,
                               f"nasx train {store.root} --retry-failed")
    for text in failures:
        print(f"nasx: {text}" if not text.startswith(" ") else text, file=sys.stderr)
    return 1 if failures else 0


def register(subparsers: Any) -> None:
    """Add the ``train`` verb."""
    p = subparsers.add_parser(
        "train", help="train the unfinished trials of a run",
        description="Train every trial of a run that is not finished. Re-running resumes: done"
        " trials are never trained again; trials left running by a dead driver are queued again.",
    )
    p.add_argument("run", metavar="RUN", help="run folder, e.g. runs/regnet_digits")
    add_training_args(p, before_training=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Open the run and train it."""
    from nasx.store import RunStore

    opts = exec_options(args)
    with RunStore.open(args.run) as store:
        return train_and_summarise(store, opts, args)
