"""How sure a cut is: the share of random half-samples of the population whose own good range
removes the values the cut removes (stability selection, Meinshausen & Buehlmann 2010).

The good range of a population of n models (DDS) keeps a value unless the best of m = frac * n
models drawn with replacement takes it less than 2.5% of the time (a tail beyond the 2.5 or 97.5
percentile of the winners; a non-numeric option taken by less than 2.5% of them). The chance that
the i-th best of h models wins a draw of m is exactly ``((h-i+1)/h)^m - ((h-i)/h)^m`` (ties in
error broken at random), so the winners' distribution of a sample needs no inner bootstrap.

A cut is only as good as its evidence. ``count`` times, half of the models are drawn without
replacement; a set of values (a tail beyond a bound, or one option) is *removed by* that
half-sample when (1) some model of the half has a value in it, (2) those models rank worse than
the half's other models by a one-sided Mann-Whitney test at 5%, and (3) the half's good range
excludes it (its winners take it less than 2.5% of the time). A half-sample without a model there
has no evidence against the values and counts as keeping them. A value leaves the space only
when at least ``level`` of the half-samples remove it (:func:`supported_cut`); the proposal of
the whole population's good range is pulled back towards the parent's range until that holds, or
kept whole. Why each part: the good range alone always clips the edges of a flat parameter (its
winners are a dozen models, so a tail holding 3% of the models is outside it most of the time,
in every half-sample alike: stable, yet no evidence that the values are bad); the rank test asks
for that evidence. Half-samples rather than resamples with replacement: a resample holds the one
low-ranked model of a sparsely sampled value in most draws; a half-sample only half of the time.
The minimum population follows (:func:`min_models`: 32 at the default level), and the models a
refused cut would need are estimated like the verdicts' power (:func:`models_needed`).
Calibration on simulated populations with a known good region:
tests/refine/test_refine_support.py.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasx.refine.ranges import MIN_SHARE, cut, is_strict_subset
from nasx.space import ChoiceDist, Dist

LEVEL = 0.95  # default share of half-samples that must remove a value before the cut removes it
HALVES = 400  # half-samples per narrowing
TAIL = 0.025  # a tail the winners take less often than this lies outside the good range
N_MAX = 1024  # the largest population the "models needed" estimate considers
POPULATIONS = 16  # resampled populations per size in that estimate
POWER = 0.8  # ... of which this share must support the cut
Z_WORSE = 1.6449  # one-sided 5% Mann-Whitney: a half's models of the set rank worse than the rest


@dataclass(frozen=True)
class HalfSamples:
    """Winner probabilities (count, n) of each model in each half-sample (0: not drawn), and
    which models each half-sample holds."""

    weights: np.ndarray
    present: np.ndarray
    ranks: np.ndarray  # 1-based rank by error in the half-sample (0: not drawn)
    level: float

    @property
    def count(self) -> int:
        """Number of half-samples."""
        return int(self.weights.shape[0])

    def rates(self, masks: np.ndarray, share: float = TAIL) -> np.ndarray:
        """Share of half-samples that remove each set of models (rows of ``masks``, (k, n))."""
        m = np.asarray(masks, dtype=float).reshape(-1, self.weights.shape[1])
        t = self.present.astype(float) @ m.T
        removed = _removes(self.weights @ m.T, t, self.ranks @ m.T, self.size, share)
        return np.mean(removed, axis=0)

    @property
    def size(self) -> float:
        """Models in each half-sample."""
        return float(self.present[0].sum()) if self.present.size else 0.0


def _removes(mass: np.ndarray, t: np.ndarray, rank_sum: np.ndarray, h: float, share: float
             ) -> np.ndarray:
    """Whether a half-sample removes a set of models: its t models of the set (t > 0) rank worse
    than its other h - t by a one-sided Mann-Whitney test at 5% (normal approximation), and the
    winners take the set less often than ``share`` (it lies outside the half's good range)."""
    k = h - t
    u = rank_sum - t * (t + 1) / 2  # pairs (model of the set, other model) the set's model loses
    sd = np.sqrt(np.maximum(t * k * (h + 1) / 12.0, 1e-12))
    worse = (t > 0) & (k > 0) & ((u - t * k / 2) / sd > Z_WORSE)
    return worse & (mass < share - 1e-12)


def winner_probs(h: int, frac: float) -> np.ndarray:
    """P(the i-th best of h models is the best of m = max(1, round(frac h)) drawn with
    replacement), i = 1..h."""
    m = max(1, int(round(frac * h)))
    i = np.arange(1, h + 1, dtype=float)
    return ((h - i + 1) / h) ** m - ((h - i) / h) ** m


def half_samples(errors: np.ndarray, rng: np.random.Generator, count: int = HALVES,
                 frac: float = 0.25, level: float = LEVEL) -> HalfSamples:
    """``count`` half-samples of the models with errors ``errors`` (rows: several populations of
    the same size at once when 2-D, each of them ``count`` times)."""
    e = np.atleast_2d(np.asarray(errors, dtype=float))
    pops, n = e.shape
    h = n // 2
    weights, present = np.zeros((pops * count, n)), np.zeros((pops * count, n), dtype=bool)
    ranks = np.zeros((pops * count, n))
    if h < 1:
        return HalfSamples(weights, present, ranks, level)
    rows = np.repeat(np.arange(pops), count)
    half = np.argsort(rng.random((rows.size, n)), axis=1)[:, :h]
    dense = np.unique(e, return_inverse=True)[1].reshape(e.shape)  # ties: same integer
    key = dense[rows[:, None], half] + 0.5 * rng.random(half.shape)  # broken at random
    ranked = np.take_along_axis(half, np.argsort(key, axis=1), axis=1)
    at = np.arange(rows.size)[:, None]
    weights[at, ranked] = winner_probs(h, frac)
    ranks[at, ranked] = np.arange(1, h + 1, dtype=float)
    present[at, half] = True
    return HalfSamples(weights, present, ranks, level)


@dataclass(frozen=True)
class Support:
    """The cut of one parameter and its evidence.

    ``kept_by``: the largest share of half-samples whose good range keeps a value the cut removes
    (None: nothing removed). ``removed_by``: the largest share that removes a value the cut keeps
    at its edge (None: no such value was sampled). ``proposed``: the whole population's good range,
    ``proposed_support`` the share of half-samples supporting it (its weaker side); ``needed``: the
    population that would likely support it, when the evidence at hand does not (None: not
    estimated; 0: even N_MAX models would not)."""

    new: Dist
    proposed: Dist
    proposed_support: float | None
    kept_by: float | None
    removed_by: float | None
    level: float
    halves: int
    needed: int | None = None

    @property
    def refused(self) -> bool:
        """The good range proposed a cut that the evidence does not support (in part or whole)."""
        return is_strict_subset(self.proposed, self.new)

    def clause(self) -> str:
        """What the evidence says, for the parameter's line."""
        parts = []
        if self.kept_by is not None:
            parts.append(f"a removed value is kept by {_pct(self.kept_by)} of {self.halves}"
                         " half-samples")
        if self.removed_by is not None:
            parts.append(f"a kept edge value is removed by {_pct(self.removed_by)}")
        if self.refused:
            whole = "kept the parent's range" if self.kept_by is None else "cut less"
            support = _pct(self.proposed_support or 0.0)
            why = (f"{whole}: the good range's cut to {self.proposed} is supported by {support}"
                   f" of the half-samples, below the level {_pct(self.level)}")
            if self.needed:
                why += f"; about {self.needed} models would support it"
            elif self.needed == 0:
                why += f"; even {N_MAX} models resampled from these would not"
            parts.append(why)
        return "; ".join(parts) or "no value to cut"

    def to_dict(self) -> dict[str, Any]:
        """The evidence for the lineage block."""
        return {"proposed": self.proposed.to_yaml(), "proposed_support": self.proposed_support,
                "kept_by": self.kept_by, "removed_by": self.removed_by, "level": self.level,
                "halves": self.halves, "models_needed": self.needed}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _bounds(dist: Dist) -> tuple[float, float]:
    if isinstance(dist, ChoiceDist):
        vals = [float(o) for o in dist.options]
        return min(vals), max(vals)
    return float(dist.lo), float(dist.hi)  # type: ignore[union-attr]


def is_ordered(dist: Dist) -> bool:
    """Numeric distributions are cut to an interval; other choices option by option."""
    if not isinstance(dist, ChoiceDist):
        return True
    return all(isinstance(o, int | float) and not isinstance(o, bool) for o in dist.options)


def _side(x: np.ndarray, hs: HalfSamples, edge: float, parent: float, below: bool
          ) -> tuple[float, float | None]:
    """The supported bound on one side: the widest tail inside the proposal's (beyond ``edge``)
    that at least ``level`` of the half-samples remove; (parent bound, its support) when none."""
    seen = np.unique(x[np.isfinite(x)])
    inner = seen[(seen > parent) & (seen < edge)] if below else seen[(seen < parent) & (seen > edge)]
    cands = np.unique(np.append(inner, edge))
    cands = cands[::-1] if below else cands  # widest tail first
    if (below and edge <= parent) or (not below and edge >= parent):
        return parent, None
    masks = np.array([(x < t) if below else (x > t) for t in cands])
    rates = hs.rates(masks)
    for t, r in zip(cands, rates, strict=True):
        if r >= hs.level:
            return float(t), float(rates[0])
    return parent, float(rates[0])


def _tail_rate(x: np.ndarray, hs: HalfSamples, bound: float, parent: float, below: bool
               ) -> tuple[float | None, float | None]:
    """(share keeping the removed tail beyond ``bound``, share removing the kept edge value)."""
    kept = None
    if (bound > parent) if below else (bound < parent):
        kept = 1.0 - float(hs.rates((x < bound) if below else (x > bound))[0])
    inside = x[np.isfinite(x) & ((x >= bound) if below else (x <= bound))]
    removed = None
    if inside.size and np.unique(inside).size > 1:
        e = inside.min() if below else inside.max()
        removed = float(hs.rates((x <= e) if below else (x >= e))[0])
    return kept, removed


def _max(*xs: float | None) -> float | None:
    vals = [x for x in xs if x is not None]
    return max(vals) if vals else None


def _ordered(dist: Dist, x: np.ndarray, proposed: Dist, winners: Sequence[Any], hs: HalfSamples
             ) -> Support:
    p_lo, p_hi = _bounds(dist)
    e_lo, e_hi = _bounds(proposed)
    lo, s_lo = _side(x, hs, e_lo, p_lo, below=True)
    hi, s_hi = _side(x, hs, e_hi, p_hi, below=False)
    new = cut(dist, lo, hi, winners)
    n_lo, n_hi = _bounds(new)
    k_lo, r_lo = _tail_rate(x, hs, n_lo, p_lo, below=True)
    k_hi, r_hi = _tail_rate(x, hs, n_hi, p_hi, below=False)
    sides = [s for s in (s_lo, s_hi) if s is not None]
    return Support(new=new, proposed=proposed, proposed_support=min(sides) if sides else None,
                   kept_by=_max(k_lo, k_hi), removed_by=_max(r_lo, r_hi), level=hs.level,
                   halves=hs.count)


def _options(dist: ChoiceDist, column: Sequence[Any], proposed: ChoiceDist, hs: HalfSamples
             ) -> Support:
    options = list(dist.options)
    masks = np.array([[v == o for v in column] for o in options], dtype=float)
    rates = hs.rates(masks, share=MIN_SHARE)
    out = [repr(o) for o in proposed.options]
    keep = [o for o, r in zip(options, rates, strict=True) if repr(o) in out or r < hs.level]
    new = ChoiceDist.parse({"choice": keep})
    gone = [float(r) for o, r in zip(options, rates, strict=True) if o not in keep]
    stay = [float(r) for o, r in zip(options, rates, strict=True) if o in keep]
    cut_rates = [float(r) for o, r in zip(options, rates, strict=True) if repr(o) not in out]
    return Support(new=new, proposed=proposed,
                   proposed_support=min(cut_rates) if cut_rates else None,
                   kept_by=1.0 - min(gone) if gone else None,
                   removed_by=max(stay) if len(stay) > 1 else None, level=hs.level,
                   halves=hs.count)


def supported_cut(dist: Dist, column: Sequence[Any], lo: float, hi: float,
                  winners: Sequence[Any], hs: HalfSamples) -> Support:
    """The cut of ``dist`` to the good range [lo, hi] (``cut``), kept only where at least
    ``hs.level`` of the half-samples remove the values it removes (module docstring).

    ``column``: each model's value, in the order of the errors ``hs`` was drawn from.
    """
    proposed = cut(dist, lo, hi, winners)
    if is_ordered(dist):
        x = np.array([float(v) if v is not None else math.nan for v in column], dtype=float)
        return _ordered(dist, x, proposed, winners, hs)
    assert isinstance(dist, ChoiceDist) and isinstance(proposed, ChoiceDist)
    return _options(dist, list(column), proposed, hs)


@functools.lru_cache(maxsize=16)
def min_models(level: float = LEVEL, count: int = HALVES, frac: float = 0.25) -> int:
    """The fewest models with which the rule can remove anything at all: the population where the
    removed values hold exactly the worst models, whatever their number (seeded, seed 0)."""
    rng = np.random.default_rng(0)
    for n in range(4, N_MAX + 1, 2):
        hs = half_samples(np.arange(n, dtype=float), rng, count, frac, level)
        worst = np.arange(n)[None, :] >= n - np.arange(1, n // 2 + 1)[:, None]
        if hs.rates(worst).max() >= level:
            return n
    return N_MAX


def models_needed(errors: np.ndarray, masks: np.ndarray, rng: np.random.Generator,
                  level: float = LEVEL, count: int = 100, frac: float = 0.25
                  ) -> list[int | None]:
    """For each set of models (rows of ``masks``: the values a proposed cut removes), the
    population size from which ``POWER`` of populations resampled from this one (with
    replacement) support removing it; doubling from twice the size at hand up to ``N_MAX``
    (0: not even then; None: not estimated, the run already holds more than ``N_MAX / 2``).
    Like the verdicts' power estimate, it assumes the models at hand are typical of the space."""
    e = np.asarray(errors, dtype=float)
    m = np.atleast_2d(np.asarray(masks, dtype=bool))
    if 2 * e.size > N_MAX:
        return [None] * m.shape[0]
    out: list[int | None] = [0] * m.shape[0]
    todo = set(range(m.shape[0]))
    size = max(8, 2 * e.size)
    while todo and size <= N_MAX:
        idx = rng.integers(0, e.size, size=(POPULATIONS, size))
        hs = half_samples(e[idx], rng, count, frac, level)
        for k in sorted(todo):
            sub = np.repeat(m[k][idx], count, axis=0).astype(float)  # (POPULATIONS * count, size)
            removed = _removes(np.sum(hs.weights * sub, axis=1), np.sum(hs.present * sub, axis=1),
                               np.sum(hs.ranks * sub, axis=1), hs.size, TAIL)
            rate = np.mean(removed.reshape(POPULATIONS, count), axis=1)
            if np.mean(rate >= level) >= POWER:
                out[k] = size
                todo.discard(k)
        size *= 2
    return out


def removed_mask(proposed: Dist, column: Sequence[Any]) -> np.ndarray:
    """Which models hold a value that ``proposed`` does not draw."""
    if is_ordered(proposed):
        lo, hi = _bounds(proposed)
        x = np.array([float(v) if v is not None else math.nan for v in column], dtype=float)
        return np.isfinite(x) & ((x < lo) | (x > hi))
    assert isinstance(proposed, ChoiceDist)
    kept = {repr(o) for o in proposed.options}
    return np.array([repr(v) not in kept for v in column], dtype=bool)
