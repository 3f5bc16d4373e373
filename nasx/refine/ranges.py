"""Cut one distribution to a good range, respecting its kind, and compare value sets.

The good range is the [p2.5, p97.5] interval of the bootstrap winners (DDS; computed by
``nasx.analysis.good_ranges``). Bounds are snapped OUTWARD to the distribution's grid (multiples of
``q``, powers of two, listed choices) and clipped to the parent's bounds, so the cut distribution
is valid (``q`` still divides its bounds, ``log`` still has ``lo > 0``) and never wider than the parent.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from nasx.space import ChoiceDist, Dist, FloatDist, IntDist, Pow2Dist
from nasx.types import JSONObject

_SIG = 3  # significant digits kept when rounding a free float bound outward (readable files)
MIN_SHARE = 0.025  # a non-numeric choice stays when at least this share of the winners took it


def _clean(x: float) -> float:
    return float(f"{x:.12g}")


def _outward(x: float, up: bool) -> float:
    """``x`` rounded away from the range's inside to ``_SIG`` significant digits."""
    if x == 0 or not math.isfinite(x):
        return x
    step = 10.0 ** (math.floor(math.log10(abs(x))) - _SIG + 1)
    return _clean((math.ceil(x / step) if up else math.floor(x / step)) * step)


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def cut(dist: Dist, lo: float, hi: float, winners: Sequence[Any]) -> Dist:
    """``dist`` restricted to [lo, hi] (the winners' good range), snapped outward to its grid.

    ``winners`` are the bootstrap winners' values; they decide non-numeric choices (kept when at
    least ``MIN_SHARE`` of the winners took them) and back up numeric choices (the option nearest
    the winners' median survives when no option falls inside [lo, hi]).
    """
    if isinstance(dist, IntDist):
        q = dist.q
        new_lo = max(dist.lo, math.floor(lo / q) * q)
        new_hi = min(dist.hi, math.ceil(hi / q) * q)
        return IntDist.parse({"int": [int(new_lo), int(max(new_lo, new_hi))],
                              "q": q, "log": dist.log})
    if isinstance(dist, FloatDist):
        if dist.q is not None:
            q = dist.q
            new_lo = _clean(math.floor(lo / q + 1e-9) * q)
            new_hi = _clean(math.ceil(hi / q - 1e-9) * q)
        else:
            new_lo, new_hi = _outward(lo, up=False), _outward(hi, up=True)
        new_lo, new_hi = max(dist.lo, new_lo), min(dist.hi, new_hi)
        out: JSONObject = {"float": [float(new_lo), float(max(new_lo, new_hi))], "log": dist.log}
        if dist.q is not None:
            out["q"] = dist.q
        return FloatDist.parse(out)
    if isinstance(dist, Pow2Dist):
        e_lo = max(round(math.log2(dist.lo)), math.floor(math.log2(lo)))
        e_hi = min(round(math.log2(dist.hi)), math.ceil(math.log2(hi)))
        e_hi = max(e_lo, e_hi)
        return Pow2Dist.parse({"pow2": [2.0**e_lo, 2.0**e_hi]})
    return _cut_choice(dist, lo, hi, winners)


def _cut_choice(dist: ChoiceDist, lo: float, hi: float, winners: Sequence[Any]) -> ChoiceDist:
    options = list(dist.options)
    if all(_is_number(o) for o in options) and math.isfinite(lo) and math.isfinite(hi):
        tol = 1e-9 * max(1.0, abs(lo), abs(hi))
        kept = [o for o in options if lo - tol <= float(o) <= hi + tol]
        if not kept:  # the interval fell between two options: keep the one nearest the median
            mid = sorted(float(w) for w in winners)[len(winners) // 2] if winners else lo
            kept = [min(options, key=lambda o: abs(float(o) - mid))]
    else:
        share = {repr(o): sum(1 for w in winners if w == o) / max(1, len(winners)) for o in options}
        kept = [o for o in options if share[repr(o)] >= MIN_SHARE]
        if not kept:
            kept = [max(options, key=lambda o: share[repr(o)])]
    return ChoiceDist.parse({"choice": kept})


def value_set(dist: Dist) -> tuple[str, float, float] | frozenset[Any]:
    """A comparable description of what ``dist`` can draw: an interval or a finite set."""
    if isinstance(dist, ChoiceDist):
        return frozenset(repr(o) for o in dist.options)
    if isinstance(dist, Pow2Dist):
        return frozenset(repr(float(2.0**e)) for e in range(round(math.log2(dist.lo)),
                                                             round(math.log2(dist.hi)) + 1))
    return ("interval", float(dist.lo), float(dist.hi))


def is_subset(new: Dist, old: Dist) -> bool:
    """Whether everything ``new`` can draw, ``old`` can draw too (same kind, same grid)."""
    if type(new) is not type(old):
        return False
    a, b = value_set(new), value_set(old)
    if isinstance(a, frozenset) and isinstance(b, frozenset):
        return a <= b
    assert isinstance(a, tuple) and isinstance(b, tuple)  # same kind: both intervals
    return b[1] <= a[1] and a[2] <= b[2]


def is_strict_subset(new: Dist, old: Dist) -> bool:
    """``new`` draws from a strictly smaller set than ``old``."""
    return is_subset(new, old) and value_set(new) != value_set(old)


def describe(dist: Dist) -> str:
    """Short text of a distribution for comments and the summary."""
    return str(dist)
