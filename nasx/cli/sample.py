"""``nasx sample SPACE``: draw N distinct architectures from a space into ``runs/NAME/``."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from nasx.fmt import si
from nasx.space import SearchSpace
from nasx.types import Scalar


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


MAX_ATTEMPTS = 10**9  # candidates one `sample` may look at (about an hour of screening)


def check_train_block(space: SearchSpace, overrides: Mapping[str, Scalar] | None = None) -> None:
    """SpaceError naming the file and key when the ``train:`` block is not a valid recipe.

    Lives in the CLI layer because ``nasx.space`` and ``nasx.sample`` sit below ``nasx.train``.
    Fixed values are checked together; each distribution at its extreme values; ``overrides``
    (the command line's, applied last) are checked with them and reported as the command line's.
    """
    from nasx.errors import SpaceError, TrainError
    from nasx.space import ChoiceDist, Fixed
    from nasx.train.recipe import Recipe, resolve_recipe

    file = str(space.path)
    known = Recipe.field_names()
    for key in [*space.train_fixed, *space.train_dists]:
        if key not in known:
            raise SpaceError(
                f"unknown recipe key (known: {', '.join(sorted(known))})", where=file,
                key=f"train.{key}",
            )
    probes: list[dict[str, Scalar]] = [{}]
    for key, dist in space.train_dists.items():
        if isinstance(dist, ChoiceDist):
            probes += [{key: option} for option in dist.options]
        elif not isinstance(dist, Fixed):
            probes += [{key: dist.lo}, {key: dist.hi}]
    for hparams in probes:
        try:
            resolve_recipe(space.train_fixed, hparams, overrides, source=file)
        except TrainError as exc:
            if exc.where != file:  # the command line's value
                raise
            key = f"train.{exc.key}" if exc.key else "train"
            raise exc.at(key=key, kind=SpaceError) from None


def validate_space(path: str) -> SearchSpace:
    """Every check of a space file that sampling makes before it draws (``describe`` runs it too):
    the schema and limits, the family's keys and value types, constraint names, the train block.
    """
    from nasx.sample import check_space
    from nasx.space import load_space

    space = load_space(path)
    check_space(space)
    check_train_block(space)
    return space


def check_counts(space: str, n: int | None, seed: int | None,
                 max_attempts: int | None = None) -> None:
    """SamplingError for a command-line count outside the limits a space file has too."""
    from nasx.errors import SamplingError
    from nasx.space.schema import MAX_N, MAX_SEED

    for key, value, lo, hi in (("n", n, 1, MAX_N), ("seed", seed, 0, MAX_SEED),
                               ("max_attempts", max_attempts, 1, MAX_ATTEMPTS)):
        if value is not None and not lo <= value <= hi:
            shown = value if abs(value) < 10**30 else f"{str(value)[:12]}..."
            raise SamplingError(f"must be in [{lo}, {hi}], got {shown}", where=space, key=key)


def measurer_for(space: SearchSpace) -> Any:
    """The measuring hook of ``space``'s measured constraints, or None (torch is imported only
    for a space that has them)."""
    if not space.measured:
        return None
    from nasx.measure.probe import constraint_measurer

    return constraint_measurer(space)


def _si(x: float) -> str:
    return si(x, 4, small_digits=6)  # the CLI's figures: 4 digits with a suffix, else as %g


def run(args: argparse.Namespace) -> int:
    """Sample the space, write the run and print a summary."""
    from nasx.sample import create_run

    check_counts(args.space, args.n, args.seed, args.max_attempts)
    space = validate_space(args.space)
    store, s = create_run(args.space, n=args.n, seed=args.seed, out=args.out,
                          progress=not args.no_progress, max_attempts=args.max_attempts,
                          measure=measurer_for(space))
    store.close()
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
