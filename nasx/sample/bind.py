"""Checking a space against its family: the first layer that knows which keys a family accepts.

``nasx.space`` validates the file's structure without importing ``nasx.arch``; here unknown
families, keys that the family does not accept and misplaced per-stage keys become SpaceErrors
naming the space file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from nasx.arch.families import FAMILIES, Family
from nasx.errors import SpaceError
from nasx.space import SearchSpace


@dataclass(frozen=True)
class Bound:
    """A space checked against its family, with the per-stage keys given under ``params``."""

    space: SearchSpace
    family: Family
    broadcast: tuple[str, ...]  # per-stage keys under params, drawn once and copied to each stage

    @property
    def file(self) -> str:
        """The space file, for error messages."""
        return str(self.space.path)


def _allowed(family: Family) -> str:
    return ", ".join(sorted(family.keys) + sorted(family.per_stage_keys))


def bind(space: SearchSpace) -> Bound:
    """Check ``space``'s keys against its family; SpaceError naming the file and key otherwise."""
    file = str(space.path)
    family = FAMILIES.get(space.family)
    if family is None:
        raise SpaceError(
            f"unknown family {space.family!r} (known: {', '.join(sorted(FAMILIES))})",
            file=file, key="family",
        )
    per_stage_keys = set(family.per_stage_keys)
    if space.stages is not None and not per_stage_keys:
        raise SpaceError(
            f"family '{family.name}' has no per-stage parameters; remove 'stages'",
            file=file, key="stages",
        )
    for key in space.params:
        if key not in family.keys and key not in per_stage_keys:
            raise SpaceError(
                f"unknown key for family '{family.name}' (allowed: {_allowed(family)})",
                file=file, key=f"params.{key}",
            )
    for key in space.per_stage:
        if key not in per_stage_keys:
            known = ", ".join(family.per_stage_keys) or "none"
            raise SpaceError(
                f"not a per-stage key of family '{family.name}' (per-stage keys: {known})",
                file=file, key=f"per_stage.{key}",
            )
    # Without `stages` a per-stage key under params stays unsuffixed: the family then applies it
    # to every stage itself.
    broadcast = tuple(k for k in space.params if k in per_stage_keys and space.stages)
    return Bound(space=space, family=family, broadcast=broadcast)
