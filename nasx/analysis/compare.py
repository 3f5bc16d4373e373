"""Two-sample comparison of the error distributions of two design spaces.

Tests: two-sample Kolmogorov-Smirnov (two-sided; :func:`ks_test`, which states the verdict),
k-sample Anderson-Darling (``scipy.stats.anderson_ksamp``, midrank variant; scipy interpolates its
p-value from tables and caps it to [0.001, 0.25]) and Mann-Whitney U (``scipy.stats.mannwhitneyu``,
two-sided). Effect sizes: the KS statistic D (largest vertical gap between the EDFs), the
common-language effect size ``P(e_b < e_a) + P(tie)/2`` and Cliff's delta
``P(e_b < e_a) - P(e_b > e_a)``; positive values mean ``b`` has lower errors.

The KS p-value is exact and conditional on the pooled errors, ties included, and it is a mid-p
value, ``P(D > d) + P(D = d)/2`` under random relabelling. Why: errors are multiples of 100/n_val
(a finite validation set), so ties are common, and ``scipy.stats.ks_2samp`` assumes continuous
data: on simulated populations with digits-sized validation sets its p < 0.05 rate between two
samples of one distribution is 0.01-0.02 instead of 0.05; the tie-aware exact ``P(D >= d)`` still
falls to 0.025-0.03 at 20 models per space because D takes few values. The mid-p rate is
0.034-0.055 at n = 20-100 (tests/analysis/test_analysis_calibration.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Comparison:
    """Result of comparing the errors of run ``a`` with those of run ``b``."""

    a: str
    b: str
    n_a: int
    n_b: int
    ks_statistic: float
    ks_pvalue: float  # exact mid-p given the pooled errors (ties included), see ks_test
    ad_statistic: float | None
    ad_pvalue: float | None
    mw_statistic: float  # U of a: pairs with e_a > e_b, ties counted 1/2
    mw_pvalue: float
    cles_b_better: float  # P(e_b < e_a) + P(tie)/2
    cliffs_delta: float  # P(e_b < e_a) - P(e_b > e_a)
    median_a: float
    median_b: float
    alpha: float
    better: str | None  # name of the better run, None when the data do not say
    significant: bool
    verdict: str


def ks_test(errors_a: np.ndarray, errors_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided two-sample KS test: (D, exact mid-p value given the pooled errors, ties included).

    Rows of 2-D inputs are independent pairs of samples (sizes shared by all rows); 1-D inputs
    give 0-d arrays. The p-value counts, under random relabelling of the pooled errors, the
    lattice paths of the two EDFs (cost O((n_a + n_b) min(n_a, n_b)) per row): the jumps are only
    checked at the ends of runs of tied errors, which is what makes it exact with ties.
    """
    a, b = np.asarray(errors_a, dtype=float), np.asarray(errors_b, dtype=float)
    one = a.ndim == 1
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    if a.shape[1] > b.shape[1]:  # the lattice walk keeps a state per count of the smaller side
        a, b = b, a
    rows, n = a.shape
    m, size = b.shape[1], a.shape[1] + b.shape[1]
    x = np.concatenate([a, b], axis=1)
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    ends = np.ones((rows, size), dtype=bool)  # last element of a run of equal errors
    ends[:, :-1] = xs[:, 1:] != xs[:, :-1]
    ca = np.cumsum(order < n, axis=1)
    # The EDF gap times n m, in integers: |i m - j n| with i of a and j of b at or below x.
    gap = np.abs(ca * m - (np.arange(1, size + 1) - ca) * n)
    d = np.max(np.where(ends, gap, 0), axis=1)
    # Two walks at once: paths reaching a gap >= d (rows of the first half) and > d (second).
    thr = np.concatenate([d, d + 1])[:, None]
    check = np.concatenate([ends, ends])
    i = np.arange(n + 1)
    prob = np.zeros((2 * rows, n + 1))
    prob[:, 0] = 1.0
    hit = np.zeros(2 * rows)  # probability of the paths that crossed; summed, not 1 - rest,
    for k in range(size):  # so that tiny p-values keep their digits
        to_a = (n - i) / (size - k)
        to_b = np.clip(m - (k - i), 0, None) / (size - k)
        nxt = prob * to_b
        nxt[:, 1:] += prob[:, :-1] * to_a[:-1]
        cross = (np.abs(i * m - (k + 1 - i) * n)[None, :] >= thr) & check[:, k:k + 1]
        hit += np.where(cross, nxt, 0.0).sum(axis=1)
        nxt[cross] = 0.0
        prob = nxt
    p_ge, p_gt = np.minimum(hit[:rows], 1.0), np.minimum(hit[rows:], 1.0)
    # d the smallest D any relabelling gives (D = 0 among others): no evidence at all, so 1, not
    # the mid-p's 1 - P(D = d)/2; no decision at alpha < 1/2 changes.
    p = np.where(p_ge >= 1.0 - 1e-12, 1.0, 0.5 * (p_ge + p_gt))
    stat = d / (n * m)
    return (stat[0], p[0]) if one else (stat, p)


def holm(pvalues: list[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (family-wise error rate over the tests given).

    ``None`` (a test that could not be made) stays ``None`` and does not count among the m
    tests. The i-th smallest of m p-values becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``;
    a hypothesis is rejected at alpha when its adjusted p-value is below alpha.
    """
    made = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    m = len(made)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(made):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def fmt_p(p: float) -> str:
    """A p-value in two significant digits (scientific below 0.001)."""
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


PERMS = 2000  # relabellings of the stratified permutation test


def stratum_mass(count_a: np.ndarray, count_b: np.ndarray) -> np.ndarray:
    """The share of each complexity stratum in a normalised comparison, the same for both sides:
    ``n_a n_b / (n_a + n_b)``, normalised to sum 1 (0 where a side has no model).

    Why not the NDS weights' equal share per bin: a bin where one side has 2 models and the other
    40 then counts as much as a bin with 40 on each side, and the comparison loses most of its
    power where the complexity distributions differ (simulated, 64-128 models per space, params
    shifted by 1-1.7 SD: power 0.58-0.69 with equal shares, 0.83-0.92 with these, against
    0.94-0.97 for the plain test without the confound; the false-positive rate 0.04-0.07 with
    both). These are the efficient stratum weights of a stratified two-sample rank comparison
    (van Elteren 1960).
    """
    a, b = np.asarray(count_a, dtype=float), np.asarray(count_b, dtype=float)
    h = np.divide(a * b, a + b, out=np.zeros_like(a), where=(a + b) > 0)
    return h / h.sum()


def stratified_ks_test(errors_a: np.ndarray, strata_a: np.ndarray, errors_b: np.ndarray,
                       strata_b: np.ndarray, seed: int = 0,
                       perms: int = PERMS) -> tuple[float, float]:
    """KS distance of two complexity-normalised EDFs and its stratified permutation mid-p value.

    Both sides are re-weighted onto one complexity distribution: stratum h (a complexity bin both
    sides populate) gets the mass of :func:`stratum_mass`, shared by the two sides, and a model of
    side s in it weighs ``mass[h] / n_s(h)``. Under the null the errors of a stratum are
    exchangeable between the sides, so ``perms`` seeded relabellings within each stratum (weights
    stay with the side) give the null law of D, ties included:
    p = (#{D* > d} + (#{D* = d} + 1) / 2) / (perms + 1), and 1 when no relabelling gives a smaller D.
    Why not the asymptotic Kolmogorov law with Kish effective sizes: on simulated populations
    its p < 0.05 rate under the null is 0.004-0.04, and 0.01-0.02 with digits-sized ties.
    """
    x = np.concatenate([np.asarray(errors_a, dtype=float), np.asarray(errors_b, dtype=float)])
    n_a = len(errors_a)
    strata, h = np.unique(np.concatenate([strata_a, strata_b]), return_inverse=True)
    side_a = np.arange(x.size) < n_a
    cnt_a = np.bincount(h[side_a], minlength=strata.size)
    cnt_b = np.bincount(h[~side_a], minlength=strata.size)
    if np.any(cnt_a == 0) or np.any(cnt_b == 0):
        raise ValueError("stratified_ks_test() needs both sides in every stratum")
    order = np.argsort(x, kind="stable")
    xs, hs = x[order], h[order]
    ends = np.append(xs[1:] != xs[:-1], True)  # last element of a run of equal errors
    mass = stratum_mass(cnt_a, cnt_b)
    w_a, w_b = mass[hs] / cnt_a[hs], -mass[hs] / cnt_b[hs]

    def dist(is_a: np.ndarray) -> np.ndarray:  # is_a in error order, one row per labelling
        return np.max(np.abs(np.cumsum(np.where(is_a, w_a, w_b), axis=-1)[..., ends]), axis=-1)

    d = float(dist(side_a[order]))
    rng = np.random.default_rng(seed)
    # Random order within each stratum: sort by stratum + U(0, 1); the first cnt_a of each block
    # are a.
    within = np.argsort(h[None, :] + rng.random((perms, x.size)), axis=1)
    start = np.concatenate([[0], np.cumsum(cnt_a + cnt_b)[:-1]])
    block = np.repeat(np.arange(strata.size), cnt_a + cnt_b)
    pattern = np.arange(x.size) - start[block] < cnt_a[block]
    lab = np.empty((perms, x.size), dtype=bool)
    np.put_along_axis(lab, within, np.broadcast_to(pattern, lab.shape), axis=1)
    null = dist(lab[:, order])
    tol = 1e-9  # the same D summed in another order
    if not np.any(null < d - tol):  # d is the null's smallest D: no evidence (see ks_test)
        return d, 1.0
    gt, eq = np.sum(null > d + tol), np.sum(np.abs(null - d) <= tol)
    return d, float((gt + 0.5 * (eq + 1)) / (perms + 1))


def compare(errors_a: np.ndarray, errors_b: np.ndarray, a: str = "a", b: str = "b",
            alpha: float = 0.05, what: str = "") -> Comparison:
    """Compare two samples of errors; the verdict says which is better and how sure that is.

    ``what`` names the error (e.g. ``validation top-1 error``) in the verdict.
    """
    on = f" on {what}" if what else ""
    ea = np.asarray(errors_a, dtype=float)
    eb = np.asarray(errors_b, dtype=float)
    if ea.size == 0 or eb.size == 0:
        raise ValueError("compare() needs at least one error on each side")
    ks_d, ks_p = (float(v) for v in ks_test(ea, eb))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the p-value cap warning; the cap is documented
            ad = stats.anderson_ksamp([ea, eb], variant="midrank")
        ad_stat, ad_p = float(ad.statistic), float(ad.pvalue)
    except ValueError:  # e.g. a single distinct value overall
        ad_stat, ad_p = None, None
    mw = stats.mannwhitneyu(ea, eb, alternative="two-sided")
    cles = float(mw.statistic) / (ea.size * eb.size)
    delta = 2.0 * cles - 1.0
    significant = bool(ks_p < alpha)
    if delta > 0:
        better, worse = b, a
    elif delta < 0:
        better, worse = a, b
    else:
        better = worse = None
    stat = f"KS D = {ks_d:.2f}, p = {fmt_p(ks_p)} (n = {ea.size} vs {eb.size})"
    if better is None:
        verdict = f"{a} and {b} cannot be told apart{on}: {stat}."
    elif significant:
        verdict = (f"{better} is better than {worse}{on}: its EDF lies to the left; {stat};"
                   f" a random {better} model beats a random {worse} model with probability"
                   f" {max(cles, 1 - cles):.2f}.")
    else:
        verdict = (f"No significant difference between {a} and {b}{on} at alpha = {alpha:g}:"
                   f" {stat};"
                   f" {better} looks slightly better (Cliff's delta {abs(delta):.2f}) but more"
                   " models are needed to be sure.")
        better = None
    return Comparison(
        a=a, b=b, n_a=int(ea.size), n_b=int(eb.size), ks_statistic=ks_d,
        ks_pvalue=ks_p, ad_statistic=ad_stat, ad_pvalue=ad_p,
        mw_statistic=float(mw.statistic), mw_pvalue=float(mw.pvalue), cles_b_better=cles,
        cliffs_delta=delta, median_a=float(np.median(ea)), median_b=float(np.median(eb)),
        alpha=alpha, better=better, significant=significant, verdict=verdict,
    )
