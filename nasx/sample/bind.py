"""Checking a space against its family: the first layer that knows which keys a family accepts.

``nasx.space`` validates the file's structure without importing ``nasx.arch``; here unknown
families, keys that the family does not accept and misplaced per-stage keys become SpaceErrors
naming the space file and the key.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nasx.arch.families import FAMILIES, Family
from nasx.errors import SpaceError
from nasx.space import ChoiceDist, Fixed, Param, SearchSpace
from nasx.yamlio import shorten


def _value_limits() -> dict[str, int]:
    """Key name -> the largest value nasx samples, from the families' value models (``hi``):
    the keys whose size the sampler pays for before it can count anything (a RegNet of depth d
    draws d block widths per candidate, the RegNet screen a 2048 x d matrix). Checked before a
    space is bound to its family, so a name means one limit in every family."""
    out: dict[str, int] = {}
    for family in FAMILIES.values():
        assert family.model is not None
        for key in family.model.by_name.values():
            if key.hi is not None:
                assert out.setdefault(key.name, int(key.hi)) == int(key.hi), key.name
    return out


# Other sizes are bounded by the space's number limits and by the sampler's complexity limit.
VALUE_LIMITS: dict[str, int] = _value_limits()


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


def largest(param: Param) -> float | None:
    """The largest magnitude ``param`` can take (None when it takes no number)."""
    if isinstance(param, Fixed):
        values: tuple[object, ...] = (param.value,)
    elif isinstance(param, ChoiceDist):
        values = param.options
    else:
        values = (param.lo, param.hi)
    numbers_ = [abs(v) for v in values
                if isinstance(v, numbers.Real) and not isinstance(v, bool)]
    return max(numbers_) if numbers_ else None


def _check_limits(space: SearchSpace) -> None:
    """SpaceError for a key of VALUE_LIMITS whose range reaches beyond its limit."""
    entries = [(f"input.{k}", k, p) for k, p in space.input.items()]
    entries += [(f"params.{k}", k, p) for k, p in space.params.items()]
    entries += [(f"per_stage.{k}", k, p) for k, ps in space.per_stage.items() for p in ps[:1]]
    entries += [(f"per_stage.{k}.{i}", k, p) for k, ps in space.per_stage.items()
                for i, p in enumerate(ps[1:], start=2)]
    for where, key, param in entries:
        limit = VALUE_LIMITS.get(key)
        top = largest(param)
        if limit is not None and top is not None and top > limit:
            raise SpaceError(rule=f"must be at most {limit} (the largest {key} nasx samples)",
                             value=param.to_yaml(), where=str(space.path), key=where)


def check_value_limits(values: Mapping[str, Any], *, file: str, prefix: str = "values") -> None:
    """SpaceError for a value (``depth`` or ``depth_3`` alike) beyond its VALUE_LIMITS entry.

    For value dicts decoded without a space (spec files ``{family, values}``).
    """
    for key, value in values.items():
        base = key.rsplit("_", 1)[0] if isinstance(key, str) and key[-1:].isdigit() else key
        limit = VALUE_LIMITS.get(base) if isinstance(base, str) else None
        if (limit is not None and isinstance(value, numbers.Real)
                and not isinstance(value, bool) and abs(value) > limit):
            raise SpaceError(rule=f"must be at most {limit} (the largest {base} nasx decodes)",
                             value=value, where=file, key=f"{prefix}.{key}")


def bind(space: SearchSpace) -> Bound:
    """Check ``space``'s keys against its family; SpaceError naming the file and key otherwise."""
    file = str(space.path)
    family = FAMILIES.get(space.family)
    if family is None:
        raise SpaceError(
            f"unknown family {shorten(space.family)} (known: {', '.join(sorted(FAMILIES))})",
            where=file, key="family",
        )
    per_stage_keys = set(family.per_stage_keys)
    if space.stages is not None and not per_stage_keys:
        raise SpaceError(
            f"family '{family.name}' has no per-stage parameters; remove 'stages'",
            where=file, key="stages",
        )
    for key in space.params:
        if key not in family.keys and key not in per_stage_keys:
            raise SpaceError(
                f"unknown key for family '{family.name}' (allowed: {_allowed(family)})",
                where=file, key=f"params.{key}",
            )
    for key in space.per_stage:
        if key not in per_stage_keys:
            known = ", ".join(family.per_stage_keys) or "none"
            raise SpaceError(
                f"not a per-stage key of family '{family.name}' (per-stage keys: {known})",
                where=file, key=f"per_stage.{key}",
            )
    _check_limits(space)
    # Without `stages` a per-stage key under params stays unsuffixed: the family then applies it
    # to every stage itself.
    broadcast = tuple(k for k in space.params if k in per_stage_keys and space.stages)
    return Bound(space=space, family=family, broadcast=broadcast)
