"""``nasx report RUN [RUN ...]``: a static HTML report (EDFs, tests, good ranges) + summary.json."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``report`` verb."""
    p = subparsers.add_parser(
        "report", help="write an HTML report of one or several runs",
        description="Analyse runs (error EDFs, normalised EDFs, two-sample tests, best of k, good"
        " ranges, trends) and write reports/NAME/index.html and summary.json.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folder(s), e.g. runs/regnet")
    p.add_argument("--out", default=None,
                   help="output folder (default: reports/<run name> or reports/<a>_vs_<b>)")
    p.add_argument("--normalize", choices=("flops", "params", "none"), default="flops",
                   help="complexity used by the normalised EDF (default: flops)")
    p.add_argument("--bins", type=int, default=10, help="complexity bins K (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the report and print the path of its index.html."""
    from nasx.report import write_report

    path = write_report(args.runs, out=args.out, normalize=args.normalize, bins=args.bins,
                        seed=args.seed)
    print(path)
    return 0
