"""``nasx demo``: the README's main job: sample the tiny digits space, train it, write the report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasx.cli.train import add_training_args, exec_options, train_and_summarise

DEMO_SPACE = "regnet_digits"  # a shipped space (nasx/spaces/), found in the installed package
# Ray by default: on 2 cores it trains two single-threaded trials at once, which beats one trial
# on two threads for these tiny models by more than Ray's start-up costs over ~16 trials.
DEMO_EXECUTOR = "ray"


def find_demo_space() -> Path:
    """The shipped regnet_digits space, read from the installed package (works in any folder)."""
    from nasx.errors import NasxError
    from nasx.space.shipped import shipped_dir, shipped_space

    path = shipped_space(DEMO_SPACE)
    if path is None:
        raise NasxError(f"the package has no shipped space {DEMO_SPACE!r} (looked in "
                        f"{shipped_dir()}); reinstall nasx or pass --space FILE")
    return path


def register(subparsers: Any) -> None:
    """Add the ``demo`` verb."""
    p = subparsers.add_parser(
        "demo", help="sample, train and report the tiny digits space in a few minutes",
        description="Sample the shipped regnet_digits space, train every architecture on the"
        " embedded digits data and write the report. Re-running resumes.",
    )
    p.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    p.add_argument("--space", default=None,
                   help="space file or shipped space name (default: regnet_digits)")
    p.add_argument("--n", "-n", type=int, default=20, help="architectures to sample (default 20)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    p.add_argument("--report", default=None, help="report folder (default: reports/<run folder name>)")
    add_training_args(p, executor=DEMO_EXECUTOR)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Sample (or reuse), train, then write the report."""
    from nasx.api.runs import refuse_population_pruning
    from nasx.cli.run import sample_or_reuse

    space = Path(args.space) if args.space else find_demo_space()
    opts = exec_options(args)
    refuse_population_pruning(opts)
    with sample_or_reuse(str(space), args.n, args.seed, args.out, opts.progress, opts.overrides,
                         opts.executor, opts.address) as store:
        status = train_and_summarise(store, opts)
        root = store.root
    from nasx.report import write_report

    print(f"report: {write_report([root], out=args.report)}")
    return status
