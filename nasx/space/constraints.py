"""Constraint bounds ``[lo, hi]`` with K/M/G suffixes, and the per-stage relations.

Both are plain functions of numbers so the sampler can apply them in its inner loop.
"""

from __future__ import annotations

import math
import re
from typing import Any

from nasx.errors import RuleError

Bound = int | float | None
MAX_BOUND = 10**18  # below int64's 9.2e18: bounds compare against int64 counts
RELATIONS = ("shared", "non_decreasing", "non_increasing")
_SUFFIX = {"": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([kKMG]?)\s*$")


def parse_quantity(raw: Any) -> Bound:
    """A bound: None, a number, or a string like ``360M`` / ``0.4G`` / ``10K``.

    Raises ValueError with the rule when ``raw`` is none of these. Integral results are ints so
    flops bounds compare exactly.
    """
    if raw is None:
        return None
    out = _quantity(raw)
    if abs(out) > MAX_BOUND:
        raise RuleError(rule=f"a bound must be finite and within +-{MAX_BOUND:.0e}", value=raw)
    return out


def _quantity(raw: Any) -> int | float:
    """The number ``raw`` stands for (maybe infinite or huge); ValueError when it is none."""
    if isinstance(raw, bool):
        raise RuleError(rule="a bound must be a number, null or a K/M/G quantity", value=raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise RuleError(rule="a bound must be finite", value=raw)
        return int(raw) if raw.is_integer() and abs(raw) <= MAX_BOUND else raw
    if isinstance(raw, str) and len(raw) <= 64:
        m = _QUANTITY.match(raw)
        if m:
            number, suffix = m.groups()
            mult = _SUFFIX[suffix]
            if re.fullmatch(r"[-+]?\d+", number):
                return int(number) * mult
            value = float(number) * mult
            if not math.isfinite(value) or abs(value) > MAX_BOUND:
                return math.inf  # reported as out of range by the caller
            return int(round(value)) if abs(value - round(value)) < 1e-6 else value
    raise RuleError(rule="a bound must be a number, null or a K/M/G quantity", value=raw)


def parse_bounds(raw: Any) -> tuple[Bound, Bound]:
    """``[lo, hi]`` (either side null) -> (lo, hi); ValueError naming the rule otherwise."""
    if not isinstance(raw, list) or len(raw) != 2:
        raise RuleError(rule="a constraint must be a list [lo, hi]", value=raw)
    lo, hi = parse_quantity(raw[0]), parse_quantity(raw[1])
    if lo is not None and hi is not None and lo > hi:
        raise RuleError(rule="needs lo <= hi", value=raw)
    return lo, hi


def within(value: float, bounds: tuple[Bound, Bound]) -> bool:
    """Whether ``lo <= value <= hi`` (an open side always holds)."""
    lo, hi = bounds
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def apply_relation(values: list[Any], relation: str | None) -> list[Any]:
    """Per-stage draws tied by ``relation``.

    ``shared`` copies stage 1 to every stage; the monotone relations sort the independent draws,
    which gives the same distribution as rejecting unsorted draws without the rejections.
    """
    if relation is None:
        return values
    if relation == "shared":
        return [values[0]] * len(values)
    if relation == "non_decreasing":
        return sorted(values)
    if relation == "non_increasing":
        return sorted(values, reverse=True)
    raise ValueError(f"unknown relation {relation!r}")
