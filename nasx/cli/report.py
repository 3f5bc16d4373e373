"""``nasx report RUN [RUN ...]``: a static HTML report (EDFs, tests, good ranges) + summary.json."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``report`` verb."""
    p = subparsers.add_parser(
        "report", help="write an HTML report of one or several runs",
        description="Analyse runs (validation-error EDFs, normalised EDFs, two-sample tests with"
        " their confounds, best of k, good ranges, trends), print the verdict, and write"
        " reports/RUN/index.html and summary.json.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folder(s), e.g. runs/regnet")
    p.add_argument("--out", default=None,
                   help="output folder (default: reports/<run folder> or reports/<a>__vs__<b>)")
    p.add_argument("--force", action="store_true",
                   help="replace a report of other runs in the output folder")
    p.add_argument("--allow-incomparable", action="store_true",
                   help="compare runs whose errors measure different things (another recipe,"
                   " data, classes, or validation vs test error); the verdict names it")
    p.add_argument("--normalize", choices=("auto", "flops", "params", "none"), default="auto",
                   help="the complexity measure of the normalised comparison: auto (default)"
                   " normalises by whichever of flops and params differ between the runs (by"
                   " both when both do); flops or params forces one; none lets the plain"
                   " comparison carry")
    p.add_argument("--bins", type=int, default=10, help="complexity bins K (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the report; print one headline per comparison, then each full verdict on one
    line, then the path of its index.html."""
    from nasx.errors import printable
    from nasx.report import build_report, verdict_lines

    path, summary = build_report(args.runs, out=args.out, normalize=args.normalize,
                                 bins=args.bins, seed=args.seed, force=args.force,
                                 allow_incomparable=args.allow_incomparable)
    for line in verdict_lines(summary):
        print(printable(line))
    print(printable(path))
    return 0
