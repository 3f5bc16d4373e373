"""``nasx narrow RUN --out NEW.yaml [--verify N]``: propose a strictly narrower space from a
trained run, and (``--verify``) check that its population is better than its parent's."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasx.cli.train import add_training_args


def register(subparsers: Any) -> None:
    """Add the ``narrow`` verb."""
    p = subparsers.add_parser(
        "narrow", help="propose a narrower space file from a trained run (and verify it)",
        description="Cut every sampled parameter to its bootstrap good range (2.5-97.5 percentiles"
        " of the best of 25% of the models, B times) where the evidence supports it (--level),"
        " add the per-stage relations the better models support (Holm-adjusted), and write a new"
        " space file with its lineage and the parent population's recipe. --verify N samples N"
        " models of it, trains them with the parent's recipe into a new run and compares the two"
        " populations as nasx report does; re-running the same command resumes.",
    )
    p.add_argument("run", metavar="RUN", help="trained run folder, e.g. runs/regnet_digits")
    p.add_argument("--out", required=True, help="the new space file, e.g. spaces/narrow.yaml")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    p.add_argument("--boot", type=int, default=1000, help="bootstrap rounds B (default: 1000)")
    p.add_argument("--level", type=float, default=0.95,
                   help="share of half-samples of the models that must rank a value worse and"
                   " outside their good range before it is cut (default: 0.95; at 0.95 a truly"
                   " good value is cut in under 5%% of simulated studies)")
    p.add_argument("--force", action="store_true", help="replace OUT when it exists")
    v = p.add_argument_group("verify (train the narrowed space and compare it with its parent)")
    v.add_argument("--verify", type=int, default=None, metavar="N",
                   help="sample N models of the narrowed space, train them with the parent's"
                   " recipe and print whether the narrowed space is better")
    v.add_argument("--verify-out", default=None, metavar="DIR",
                   help="the new run's folder (default: beside RUN, named after OUT)")
    add_training_args(p, recipe=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the narrowed space and print what changed and why; with --verify, train and
    compare it."""
    from nasx.cli.verify import check_args, narrowed_here
    from nasx.errors import NothingNarrowedError
    from nasx.refine.narrow import narrow

    check_args(args)
    if args.verify is not None and narrowed_here(Path(args.out), Path(args.run)):
        from nasx.cli.verify import verify

        print(f"reusing {args.out}, narrowed from {args.run} (resuming --verify)", flush=True)
        return verify(args)
    try:
        result = narrow(args.run, args.out, seed=args.seed, boot=args.boot, force=args.force,
                        level=args.level)
    except NothingNarrowedError as e:  # the per-parameter reasons, then the one-line error
        print("\n".join(e.result.lines()[:-1]), flush=True)
        raise
    print("\n".join(result.lines()), flush=True)
    if args.verify is None:
        return 0
    from nasx.cli.verify import verify

    return verify(args)
