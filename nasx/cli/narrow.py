"""``nasx narrow RUN --out NEW.yaml``: propose a strictly narrower space from a trained run."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``narrow`` verb."""
    p = subparsers.add_parser(
        "narrow", help="propose a narrower space file from a trained run",
        description="Cut every sampled parameter to its bootstrap good range (2.5-97.5 percentiles"
        " of the best of 25% of the models, B times), add the per-stage relations the better"
        " models support, and write a new space file with its lineage (parent and evidence).",
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the narrowed space and print what changed and why."""
    from nasx.refine.narrow import NothingNarrowed, narrow

    try:
        result = narrow(args.run, args.out, seed=args.seed, boot=args.boot, force=args.force,
                        level=args.level)
    except NothingNarrowed as e:  # the per-parameter reasons, then the one-line error
        print("\n".join(e.result.lines()[:-1]), flush=True)
        raise
    print("\n".join(result.lines()))
    return 0
