"""``nasx sample SPACE``: draw N distinct architectures from a space into ``runs/NAME/``."""

from __future__ import annotations

import argparse
from typing import Any

from nasx.fmt import si


def register(subparsers: Any) -> None:
    """Add the ``sample`` verb."""
    p = subparsers.add_parser(
        "sample", help="sample architectures from a space into a run folder",
        description="Sample N distinct architectures from a search-space file (docs/spaces.md) by"
        " rejection against its constraints and write the run folder runs/NAME/. Re-running with"
        " the same space, N and seed changes nothing.",
    )
    p.add_argument("space", metavar="SPACE", help="search-space YAML file, e.g. spaces/regnet.yaml")
    p.add_argument("--n", "-n", type=int, default=None,
                   help="number of samples (default: the space's n)")
    p.add_argument("--seed", type=int, default=None,
                   help="sampler seed (default: the space's seed)")
    p.add_argument("--out", default=None, help="run folder (default: runs/<space name>)")
    p.add_argument("--max-attempts", type=int, default=None,
                   help="candidate budget before giving up (default: max(10000, 1000 * N))")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(func=run)


def _si(x: float) -> str:
    return si(x, 4, small_digits=6)  # the CLI's figures: 4 digits with a suffix, else as %g


def run(args: argparse.Namespace) -> int:
    """Sample the space, write the run and print a summary."""
    from nasx.api.runs import sample

    run = sample(args.space, n=args.n, seed=args.seed, out=args.out,
                 progress=not args.no_progress, max_attempts=args.max_attempts)
    s, space = run.sampling, run.space
    assert s is not None and space is not None
    if s.existed:
        print(f"{s.out} already holds this run ({s.accepted} trials, seed {s.seed}): "
              "nothing to do")
        return 0
    rejected = ", ".join(f"{k} {v}" for k, v in sorted(s.rejected.items(), key=lambda kv: -kv[1]))
    print(f"sampled {s.accepted} architectures from {args.space} (seed {s.seed}) into {s.out}")
    print(f"  attempts {s.attempts}, acceptance rate {100 * s.acceptance_rate:.3g}%"
          f"{', rejected: ' + rejected if rejected else ''}")
    print(f"  flops {_si(s.flops[0])}..{_si(s.flops[1])}, "
          f"params {_si(s.params[0])}..{_si(s.params[1])}, {s.seconds:.2f} s")
    if s.measured_line():
        print(f"  {s.measured_line()} ({space.measure.describe()}; measured figures are noisy:"
              " a rerun may accept other architectures)")
    return 0
