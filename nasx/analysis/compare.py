"""Two-sample comparison of the error distributions of two design spaces.

Tests (scipy.stats): Kolmogorov-Smirnov (``ks_2samp``, two-sided), k-sample Anderson-Darling
(``anderson_ksamp``, midrank variant; scipy interpolates its p-value from tables and caps it to
[0.001, 0.25]) and Mann-Whitney U (two-sided). Effect sizes: the KS statistic D (largest vertical
gap between the EDFs), the common-language effect size ``P(e_b < e_a) + P(tie)/2`` and Cliff's
delta ``P(e_b < e_a) - P(e_b > e_a)``; positive values mean ``b`` has lower errors.
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
    ks_pvalue: float
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


def fmt_p(p: float) -> str:
    """A p-value in two significant digits (scientific below 0.001)."""
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


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
    ks = stats.ks_2samp(ea, eb)
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
    significant = bool(ks.pvalue < alpha)
    if delta > 0:
        better, worse = b, a
    elif delta < 0:
        better, worse = a, b
    else:
        better = worse = None
    stat = f"KS D = {ks.statistic:.2f}, p = {fmt_p(float(ks.pvalue))} (n = {ea.size} vs {eb.size})"
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
        a=a, b=b, n_a=int(ea.size), n_b=int(eb.size), ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue), ad_statistic=ad_stat, ad_pvalue=ad_p,
        mw_statistic=float(mw.statistic), mw_pvalue=float(mw.pvalue), cles_b_better=cles,
        cliffs_delta=delta, median_a=float(np.median(ea)), median_b=float(np.median(eb)),
        alpha=alpha, better=better, significant=significant, verdict=verdict,
    )
