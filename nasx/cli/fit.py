"""``nasx fit RUN [--top K] [--out FILE]``: RegNet fitted to the best models of a run (DDS 3.3)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``fit`` verb."""
    p = subparsers.add_parser(
        "fit", help="fit RegNet's quantised linear widths to the best models of a run",
        description="Fit, for every finished model of an AnyNet or RegNet run, the quantised "
        "linear widths of RegNet (d = its depth; w0, wa, wm minimising e_fit, the mean absolute "
        "log-ratio of fitted to observed per-block widths); print e_fit of the K best models, "
        "e_fit of the best vs the rest, the ranges of w0, wa, wm, d over the K best, and with "
        "--out write a RegNet space file with those ranges and its lineage.",
    )
    p.add_argument("run", metavar="RUN", help="trained run folder, e.g. runs/fmnist_anynet_e")
    p.add_argument("--top", type=int, default=10, metavar="K",
                   help="the K best models give the ranges (default: 10)")
    p.add_argument("--out", default=None, metavar="FILE", help="write the RegNet space file")
    p.add_argument("--force", action="store_true", help="replace FILE when it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fit, print, and write the space file with --out."""
    from nasx.refine.fit import fit_run

    result = fit_run(args.run, top=args.top, out=args.out, force=args.force)
    print("\n".join(result.lines()))
    return 0
