"""How many models per space a two-sample KS test needs to resolve an observed difference.

Seeded bootstrap power estimate: for a candidate size n, draw ``B`` pairs of samples of n models
each, with replacement, from the two observed samples (with the given weights as drawing
probabilities, so a complexity-normalised comparison is resampled as normalised; drawn as
``rng.multinomial`` counts over the distinct errors of both samples), and count how
often the two-sample KS statistic exceeds its asymptotic critical value ``c(alpha) sqrt(2/n)``
(``c = scipy.stats.kstwobign.isf(alpha)``). Candidate sizes double from twice the size at hand
(at least 8) up to ``n_max``; the answer is the first size whose power reaches ``power``, refined
by bisection on that last doubling. The draw is ``numpy.random.default_rng(seed)``; the same inputs give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

N_MIN = 8
N_MAX = 8192  # beyond this a difference is too small to matter for a design-space verdict
BOOT = 400
POWER = 0.8


@dataclass(frozen=True)
class Power:
    """Models per space needed (``n``), or ``more_than`` n_max when even that does not resolve
    the difference; with the settings of the estimate."""

    n: int | None
    more_than: int | None
    power: float
    alpha: float
    seed: int
    boot: int
    weighted: bool
    method: str = "bootstrap, KS asymptotic critical value"


def _mass(values: np.ndarray, weights: np.ndarray | None, grid: np.ndarray) -> np.ndarray:
    """Probability of drawing each grid value from a (weighted) sample."""
    w = np.full(values.size, 1.0) if weights is None else np.asarray(weights, dtype=float)
    mass = np.bincount(np.searchsorted(grid, values), weights=w, minlength=grid.size)
    return mass / mass.sum()


def _power(rng: np.random.Generator, ma: np.ndarray, mb: np.ndarray, n: int, alpha: float,
           boot: int) -> float:
    """Share of ``boot`` resampled pairs of size n whose KS D exceeds the critical value.

    A sample of n draws from a finite set is a multinomial count per distinct value, and the KS
    statistic only needs the cumulative counts at the distinct values (ties handled exactly), so
    one draw costs O(distinct values), not O(n log n).
    """
    ca = np.cumsum(rng.multinomial(n, ma, size=boot), axis=1)
    cb = np.cumsum(rng.multinomial(n, mb, size=boot), axis=1)
    d = np.max(np.abs(ca - cb), axis=1) / n
    crit = float(stats.kstwobign.isf(alpha)) * np.sqrt(2.0 / n)
    return float(np.mean(d > crit))


def models_needed(errors_a: np.ndarray, errors_b: np.ndarray, weights_a: np.ndarray | None = None,
                  weights_b: np.ndarray | None = None, alpha: float = 0.05, power: float = POWER,
                  seed: int = 0, boot: int = BOOT, n_max: int = N_MAX, n_from: int = 0) -> Power:
    """Models per space for a KS test at ``alpha`` to detect the observed difference with
    probability ``power``; ``n`` is None when even ``n_max`` does not (``more_than`` n_max).

    ``n_from``: the size that did not resolve it (the models at hand); the answer is larger.
    """
    a, b = np.asarray(errors_a, dtype=float), np.asarray(errors_b, dtype=float)
    grid = np.union1d(a, b)
    ma, mb = _mass(a, weights_a, grid), _mass(b, weights_b, grid)
    rng = np.random.default_rng(seed)
    lo, n = n_from, max(N_MIN, 2 * n_from)
    while n <= n_max:
        if _power(rng, ma, mb, n, alpha, boot) >= power:
            break
        lo, n = n, 2 * n
    else:
        return Power(n=None, more_than=n_max, power=power, alpha=alpha, seed=seed, boot=boot,
                     weighted=weights_a is not None)
    hi = n
    while hi - lo > max(1, lo // 8):  # bisection to within about 12%
        mid = (lo + hi) // 2
        if _power(rng, ma, mb, mid, alpha, boot) >= power:
            hi = mid
        else:
            lo = mid
    return Power(n=int(hi), more_than=None, power=power, alpha=alpha, seed=seed, boot=boot,
                 weighted=weights_a is not None)
