"""Calibration of the comparison itself, on simulated error populations (no training).

Errors are shaped like real ones: right-skewed percentages (log-normal, shifted gamma) rounded to
multiples of 100/n_val, the steps of a finite validation set (6000 images: Fashion-MNIST's 10%
split; 500; 180: digits' 10% split), so ties are as common as in nasx runs. Checked: two samples
of one distribution are called different at about the nominal rate by the tests that state the
verdicts (plain: :func:`ks_test`; normalised: :func:`stratified_ks_test`), and a planted shift is
detected at the power that :func:`models_needed` claims for the size it names. Every simulation
is seeded and vectorised.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy import stats

from nasx.analysis.compare import compare, ks_test, stratified_ks_test
from nasx.analysis.edf import complexity_bins
from nasx.analysis.normalized import normalized_comparison
from nasx.analysis.power import EXACT_N, models_needed

ALPHA = 0.05
PAIRS = 2000


def _round(e: np.ndarray, n_val: int) -> np.ndarray:
    """Errors (%) as a validation set of n_val images can report them."""
    step = 100.0 / n_val
    return np.clip(np.round(e / step) * step, 0.0, 100.0)


def _errors(rng: np.random.Generator, shape: tuple[int, ...], n_val: int, kind: str,
            shift: float = 0.0) -> np.ndarray:
    """Errors of sampled models: log-normal around 10% or 8% + gamma(2, 2), then rounded."""
    if kind == "lognormal":
        e = np.exp(rng.normal(np.log(10.0), 0.35, shape))
    else:
        e = 8.0 + rng.gamma(2.0, 2.0, shape)
    return _round(e + shift, n_val)


def _pmf(n_val: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """The exact distribution of the rounded log-normal errors (+ shift): grid values, masses."""
    step = 100.0 / n_val
    grid = np.arange(int(60.0 / step) + 1) * step
    cdf = stats.lognorm(0.35, scale=10.0).cdf(grid + step / 2 - shift)
    mass = np.diff(np.concatenate([[0.0], cdf]))
    mass[-1] += 1.0 - cdf[-1]
    keep = mass > 1e-12
    return grid[keep], mass[keep] / mass[keep].sum()


def _enumerated_tails(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """D, P(D >= d) and P(D > d) over every relabelling of the pooled sample (brute force)."""
    x = np.concatenate([a, b])

    def d_of(ia: tuple[int, ...]) -> float:
        mask = np.zeros(x.size, dtype=bool)
        mask[list(ia)] = True
        return float(stats.ks_2samp(x[mask], x[~mask], method="asymp").statistic)

    d = d_of(tuple(range(a.size)))
    null = np.array([d_of(c) for c in combinations(range(x.size), a.size)])
    return d, float(np.mean(null >= d - 1e-12)), float(np.mean(null > d + 1e-12))


@pytest.mark.parametrize("n_a, n_b, step", [(6, 5, 1.0), (7, 4, 0.5), (5, 5, 0.0)])
def test_ks_test_is_the_exact_mid_p_value_with_ties(n_a, n_b, step):
    rng = np.random.default_rng(n_a * 10 + n_b)
    a, b = rng.normal(0, 1.5, n_a), rng.normal(0.8, 1.5, n_b)
    if step:
        a, b = np.round(a / step) * step, np.round(b / step) * step
    d, p_ge, p_gt = _enumerated_tails(a, b)
    got_d, got_p = ks_test(a, b)
    assert got_d == pytest.approx(d) and got_p == pytest.approx(0.5 * (p_ge + p_gt))
    assert ks_test(b, a)[1] == pytest.approx(got_p)


def test_ks_test_rows_match_scipy_without_ties_and_compare_uses_it():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, (50, 30)), rng.normal(0.5, 1, (50, 40))
    d, p = ks_test(a, b)
    ref = stats.ks_2samp(a, b, axis=1, method="exact")
    np.testing.assert_allclose(d, ref.statistic)
    # Without ties P(D >= d) is scipy's exact p-value; the mid-p lies between P(D > d) and it.
    assert np.all(p <= ref.pvalue + 1e-12) and np.all(p >= 0.5 * ref.pvalue)
    for i in range(5):
        c = compare(a[i], b[i])
        assert c.ks_pvalue == pytest.approx(p[i]) and c.significant == bool(p[i] < ALPHA)
    assert ks_test(np.full(8, 3.0), np.full(9, 3.0)) == (0.0, 1.0)


# (n per space, n_val, shape): the sizes nasx users have, with and without heavy ties.
NULL_CASES = [(20, 6000, "lognormal"), (20, 180, "gamma"), (50, 500, "lognormal"),
              (50, 180, "gamma"), (100, 6000, "lognormal"), (100, 180, "gamma")]


@pytest.mark.parametrize("n, n_val, kind", NULL_CASES)
def test_same_distribution_is_called_different_at_the_nominal_rate(n, n_val, kind):
    rng = np.random.default_rng(n + n_val)
    a = _errors(rng, (PAIRS, n), n_val, kind)
    b = _errors(rng, (PAIRS, n), n_val, kind)
    rate = float(np.mean(ks_test(a, b)[1] < ALPHA))
    # scipy's ks_2samp (continuous law) gives 0.010-0.020 on the n_val = 180 cases.
    assert 0.03 <= rate <= 0.07, rate


def test_unequal_sizes_are_called_different_at_the_nominal_rate():
    rng = np.random.default_rng(7)
    a, b = _errors(rng, (PAIRS, 20), 180, "gamma"), _errors(rng, (PAIRS, 50), 180, "gamma")
    rate = float(np.mean(ks_test(a, b)[1] < ALPHA))
    assert 0.03 <= rate <= 0.07, rate


def _normalised_null_rate(n: int, n_val: int, slope: float, sims: int) -> float:
    """Rate of p < alpha of the normalised comparison when the spaces only differ in complexity.

    a samples flops log-uniformly in [1e5, 3e6], b in [3e5, 1e7]; the error depends on flops in
    the same way in both (``slope`` % per decade), so the null of the normalised comparison holds.
    """
    rng = np.random.default_rng(int(100 * slope) + n + n_val)
    hits = 0
    for _ in range(sims):
        ca = np.exp(rng.uniform(np.log(1e5), np.log(3e6), n))
        cb = np.exp(rng.uniform(np.log(3e5), np.log(1e7), n))
        ea = _round(np.exp(rng.normal(np.log(10.0), 0.3, n)) - slope * np.log10(ca / 1e6), n_val)
        eb = _round(np.exp(rng.normal(np.log(10.0), 0.3, n)) - slope * np.log10(cb / 1e6), n_val)
        lo, hi = min(ca.min(), cb.min()), max(ca.max(), cb.max())
        ba, bb = complexity_bins(ca, 10, "flops", lo, hi), complexity_bins(cb, 10, "flops", lo, hi)
        common = (ba.counts > 0) & (bb.counts > 0)
        ma, mb = common[ba.index], common[bb.index]
        # Fewer relabellings than the default keep this fast; the p-value stays valid, only
        # coarser. The default path is checked against it below.
        p = stratified_ks_test(ea[ma], ba.index[ma], eb[mb], bb.index[mb], seed=rng.integers(2**31),
                               perms=200)[1]
        hits += p < ALPHA
    return hits / sims


@pytest.mark.parametrize("n, n_val, slope", [(20, 180, 0.0), (50, 6000, 2.0), (50, 180, 2.0)])
def test_normalised_comparison_is_called_different_at_the_nominal_rate(n, n_val, slope):
    # The asymptotic Kish-n_eff p-value it replaces gave 0.011-0.036 on these cases.
    rate = _normalised_null_rate(n, n_val, slope, sims=1000)
    assert 0.03 <= rate <= 0.07, rate


def test_the_verdict_uses_the_stratified_permutation_test():
    rng = np.random.default_rng(4)
    ca, cb = np.exp(rng.uniform(11, 15, 40)), np.exp(rng.uniform(12, 16, 40))
    ea, eb = _round(rng.normal(10, 2, 40), 180), _round(rng.normal(10, 2, 40), 180)
    lo, hi = min(ca.min(), cb.min()), max(ca.max(), cb.max())
    got = normalized_comparison(ea, ca, eb, cb, "flops", 6, ALPHA, seed=9)
    ba, bb = complexity_bins(ca, 6, "flops", lo, hi), complexity_bins(cb, 6, "flops", lo, hi)
    common = (ba.counts > 0) & (bb.counts > 0)
    ma, mb = common[ba.index], common[bb.index]
    d, p = stratified_ks_test(ea[ma], ba.index[ma], eb[mb], bb.index[mb], seed=9)
    assert got.ks_statistic == pytest.approx(d) and got.ks_pvalue_permutation == p
    assert got == normalized_comparison(ea, ca, eb, cb, "flops", 6, ALPHA, seed=9)


# (n_val, shift in % points): planted differences whose claimed size is in the exact-test range.
SHIFT_CASES = [(6000, -2.0), (500, -3.0), (180, -2.0)]


@pytest.mark.parametrize("n_val, shift", SHIFT_CASES)
def test_a_planted_shift_is_detected_at_the_claimed_power(n_val, shift):
    ga, wa = _pmf(n_val, 0.0)
    gb, wb = _pmf(n_val, shift)
    # The true distributions as weighted samples: the estimate sees the planted shift exactly.
    claim = models_needed(ga, gb, wa, wb, seed=0)
    assert claim.n is not None and 16 <= claim.n <= EXACT_N
    rng = np.random.default_rng(n_val)

    def rate(n: int) -> float:
        a = _errors(rng, (PAIRS, n), n_val, "lognormal")
        b = _errors(rng, (PAIRS, n), n_val, "lognormal", shift)
        return float(np.mean(ks_test(a, b)[1] < ALPHA))

    at_claim = rate(claim.n)
    assert abs(at_claim - claim.power) <= 0.07, (claim.n, at_claim)
    # And the claim is not padded: half as many models fall clearly short.
    assert rate(claim.n // 2) < claim.power - 0.15


def test_above_the_exact_range_the_claim_errs_towards_more_models():
    ga, wa = _pmf(180, 0.0)
    gb, wb = _pmf(180, -1.0)
    claim = models_needed(ga, gb, wa, wb, seed=0)
    assert claim.n is not None and claim.n > EXACT_N
    rng = np.random.default_rng(1)
    a = _errors(rng, (600, claim.n), 180, "lognormal")
    b = _errors(rng, (600, claim.n), 180, "lognormal", -1.0)
    assert float(np.mean(ks_test(a, b)[1] < ALPHA)) >= claim.power - 0.03
