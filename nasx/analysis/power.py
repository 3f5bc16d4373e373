"""How many models per space a two-sample KS test needs to resolve an observed difference.

Seeded bootstrap power estimate: for a candidate size n, draw ``B`` pairs of samples of n models
each, with replacement, from the two observed samples (with the given weights as drawing
probabilities, so a complexity-normalised comparison is resampled as normalised; drawn as
``rng.multinomial`` counts over the distinct errors of both samples), and count how often the
verdict's own test rejects at ``alpha``: the exact tie-aware KS mid-p value of
:func:`nasx.analysis.compare.ks_test` up to ``EXACT_N`` models per space, above that the KS
statistic against its asymptotic critical value ``c(alpha) sqrt(2/n)``
(``c = scipy.stats.kstwobign.isf(alpha)``), which ignores ties and so errs towards more models.
Why the exact test: resampled errors are tied (they are also multiples of 100/n_val), and with
ties the asymptotic criterion under-states the verdict's power (0.89-0.92 at the size it named
for 0.8 on a digits-sized validation set; tests/analysis/test_analysis_calibration.py).
Candidate sizes double from twice the size at hand (at least 8) up to ``n_max``; the answer is the
first size whose power reaches ``power``, refined by bisection on that last doubling to within
about 6%. The draw is ``numpy.random.default_rng(seed)``; the same inputs give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from nasx.analysis.compare import ks_test

N_MIN = 8
N_MAX = 8192  # beyond this a difference is too small to matter for a design-space verdict
BOOT = 400
POWER = 0.8
EXACT_N = 160  # the exact test costs O(n^2) per draw: above this, the asymptotic critical value


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
    method: str = ("bootstrap; the verdict's exact KS mid-p test up to 160 models per space,"
                   " the asymptotic critical value above")


def _mass(values: np.ndarray, weights: np.ndarray | None, grid: np.ndarray) -> np.ndarray:
    """Probability of drawing each grid value from a (weighted) sample."""
    w = np.full(values.size, 1.0) if weights is None else np.asarray(weights, dtype=float)
    mass = np.bincount(np.searchsorted(grid, values), weights=w, minlength=grid.size)
    return mass / mass.sum()


def _power(rng: np.random.Generator, grid: np.ndarray, ma: np.ndarray, mb: np.ndarray, n: int,
           alpha: float, boot: int) -> float:
    """Share of ``boot`` resampled pairs of size n that the KS test rejects at ``alpha``.

    A sample of n draws from a finite set is a multinomial count per distinct value. Up to
    ``EXACT_N`` the samples are expanded and given to the verdict's test; above, the KS statistic
    only needs the cumulative counts at the distinct values (ties handled exactly), so one draw
    costs O(distinct values), not O(n log n).
    """
    ka, kb = rng.multinomial(n, ma, size=boot), rng.multinomial(n, mb, size=boot)
    if n <= EXACT_N:
        cells = np.tile(np.arange(grid.size), boot)
        xa = grid[np.repeat(cells, ka.ravel())].reshape(boot, n)
        xb = grid[np.repeat(cells, kb.ravel())].reshape(boot, n)
        return float(np.mean(ks_test(xa, xb)[1] < alpha))
    d = np.max(np.abs(np.cumsum(ka, axis=1) - np.cumsum(kb, axis=1)), axis=1) / n
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
        if _power(rng, grid, ma, mb, n, alpha, boot) >= power:
            break
        lo, n = n, 2 * n
    else:
        return Power(n=None, more_than=n_max, power=power, alpha=alpha, seed=seed, boot=boot,
                     weighted=weights_a is not None)
    hi = n
    while hi - lo > max(1, lo // 16):  # bisection to within about 6%
        mid = (lo + hi) // 2
        if _power(rng, grid, ma, mb, mid, alpha, boot) >= power:
            hi = mid
        else:
            lo = mid
    return Power(n=int(hi), more_than=None, power=power, alpha=alpha, seed=seed, boot=boot,
                 weighted=weights_a is not None)
