"""``nasx run SPACE --n N``: sample a space into a run and train it, in one (resumable) command."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from nasx.cli.train import add_training_args, exec_options, train_and_summarise
from nasx.types import Scalar


def register(subparsers: Any) -> None:
    """Add the ``run`` verb."""
    p = subparsers.add_parser(
        "run", help="sample a space and train it",
        description="Sample N architectures from a space (as nasx sample) and train them (as nasx"
        " train). Re-running the same command reuses the run and trains only what is left.",
    )
    p.add_argument("space", metavar="SPACE", help="search-space YAML file")
    p.add_argument("--n", "-n", type=int, default=None, help="number of samples (default: the space's n)")
    p.add_argument("--seed", type=int, default=None, help="sampler seed (default: the space's)")
    p.add_argument("--out", default=None, help="run folder (default: runs/<space name>)")
    add_training_args(p, before_training=True)
    p.set_defaults(func=run)


def sample_or_reuse(space: str, n: int | None, seed: int | None, out: str | None,
                    progress: bool, overrides: Mapping[str, Scalar] | None = None,
                    executor: str = "inline", address: str | None = None) -> Any:
    """The open store of the run of (space, n, seed) in ``out``: sampled now, or the one already
    there (:func:`nasx.api.sample`). Nothing is written before the space and the full recipe
    (its ``train:`` block with the command line's ``overrides``) are valid, and a CUDA device the
    recipe asks for is present."""
    from nasx.api.runs import check_recipe_device, sample
    from nasx.api.spaces import load_space
    from nasx.execute.options import ExecOptions
    from nasx.sample.sampler import check_counts
    from nasx.store import RunStore

    check_counts(str(space), n, seed)
    parsed = load_space(space, overrides)
    check_recipe_device(parsed, ExecOptions(executor=executor,
                                            address=address, overrides=dict(overrides or {})))
    r = sample(parsed, n, seed, out, progress=progress, overrides=overrides)
    s = r.sampling
    assert s is not None
    what = "reusing" if s.existed else "sampled"
    print(f"{what} {s.accepted} architectures of {space} (seed {s.seed}) in {s.out}")
    if s.measured_line():
        print(f"  {s.measured_line()} ({parsed.measure.describe()})")
    store = RunStore.open(r.path)
    store.adopt_space(parsed)  # parsed once for the whole command
    return store


def run(args: argparse.Namespace) -> int:
    """Sample (or reuse) the run, then train it."""
    from nasx.api.runs import refuse_population_pruning

    opts = exec_options(args)
    refuse_population_pruning(opts)
    with sample_or_reuse(args.space, args.n, args.seed, args.out, opts.progress, opts.overrides,
                         opts.executor, opts.address) as store:
        return train_and_summarise(store, opts, args)
