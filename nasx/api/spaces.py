"""Spaces for the public API: read once, checked once (the checks `nasx sample`, `nasx run` and
`nasx describe` make, in one place)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nasx.space import SearchSpace
from nasx.types import Scalar


def check_train_block(space: SearchSpace, overrides: Mapping[str, Scalar] | None = None) -> None:
    """SpaceError naming the file and key when the ``train:`` block is not a valid recipe.

    Lives in the API layer because ``nasx.space`` and ``nasx.sample`` sit below ``nasx.train``.
    Fixed values are checked together; each distribution at its extreme values; ``overrides``
    (the command line's, applied last) are checked with them and reported as the command line's.
    """
    from nasx.errors import SpaceError, TrainError
    from nasx.space import ChoiceDist, Fixed
    from nasx.train.recipe import Recipe, space_recipe

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
            space_recipe(space, hparams, overrides, source=file)
        except TrainError as exc:
            if exc.where != file:  # the command line's value
                raise
            key = f"train.{exc.key}" if exc.key else "train"
            raise exc.at(key=key, kind=SpaceError) from None


def load_space(path: str | Path | SearchSpace,
               overrides: Mapping[str, Scalar] | None = None) -> SearchSpace:
    """A space file (or a shipped space's name) read once and given every check sampling makes
    before it draws: the schema and limits, the family's keys and value types, constraint names,
    and the ``train:`` block as a recipe (with ``overrides``, the caller's, applied last).
    A loaded space is checked again, not re-read. SpaceError (one line) otherwise."""
    from nasx.sample import check_space
    from nasx.space import load_space as read_space

    space = path if isinstance(path, SearchSpace) else read_space(path)
    check_space(space)
    check_train_block(space, overrides)
    return space


def measurer_for(space: SearchSpace) -> Any:
    """The measuring hook of ``space``'s measured constraints, or None (torch is imported only
    for a space that has them)."""
    if not space.measured:
        return None
    from nasx.measure.probe import constraint_measurer

    return constraint_measurer(space)


