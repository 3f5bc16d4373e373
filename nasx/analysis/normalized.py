"""The complexity-normalised comparison of two populations: one definition, used by the verdict,
the report's tables and figure, summary.json and the CLI.

Normalised by one complexity measure (flops or params): the measure's range over both
populations is split into ``bins`` log-spaced bins; the bins where either population has no model
are dropped for both (so both EDFs weigh the same complexities); both EDFs are re-weighted onto
one complexity distribution over the K_c common bins (:func:`nasx.analysis.compare.stratum_mass`);
D is the KS distance of the two weighted EDFs, its p-value a seeded permutation mid-p relabelling
models within bins (:func:`nasx.analysis.compare.stratified_ks_test`), and a weighted Cliff's
delta gives the direction.

Normalised by several measures at once (both flops and params differ): each is computed as
above and a difference is stated only when every one finds it, in the same direction. This is an
intersection-union test, so its p-value is the largest of theirs and it is no more liberal than
any of them; D is that comparison's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from nasx.analysis.compare import fmt_p, stratified_ks_test, stratum_mass
from nasx.analysis.edf import Bins, complexity_bins, edf, edf_distance
from nasx.analysis.jsonable import OMIT_NONE, SKIP

MEASURES = ("flops", "params")


@dataclass(frozen=True)
class NormalizedComparison:
    """The comparison normalised by one measure, on the bins both runs populate."""

    key: str  # flops | params
    K: int
    K_common: int
    dropped_a: list[int]
    dropped_b: list[int]
    n_a: int = 0
    n_b: int = 0
    ks_statistic: float | None = None
    ks_pvalue_permutation: float | None = None
    cliffs_delta: float | None = None  # weighted; > 0: b has lower errors
    significant: bool = False
    n_eff_a: float | None = field(default=None, metadata=OMIT_NONE)
    n_eff_b: float | None = field(default=None, metadata=OMIT_NONE)
    # The weighted samples compared (errors and weights of a, then of b): the figure and the
    # power estimate use them.
    samples: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, repr=False, compare=False, metadata=SKIP)

    def better(self, a: str, b: str) -> str | None:
        """The name of the better run when the comparison is significant, else None."""
        if not self.significant or not self.cliffs_delta:
            return None
        return b if self.cliffs_delta > 0 else a


def weighted_delta(ea: np.ndarray, wa: np.ndarray, eb: np.ndarray, wb: np.ndarray) -> float:
    """Weighted Cliff's delta: P(e_b < e_a) - P(e_b > e_a) under the two weightings."""
    order = np.argsort(eb)
    sb, cw = eb[order], np.concatenate([[0.0], np.cumsum(wb[order])])
    below = cw[np.searchsorted(sb, ea, side="left")]
    above = cw[-1] - cw[np.searchsorted(sb, ea, side="right")]
    return float(np.sum(wa * (below - above)) / (wa.sum() * wb.sum()))


def _dropped(b: Bins) -> list[int]:
    return [int(i) for i in np.flatnonzero(b.counts == 0)]


def normalized_comparison(ea: np.ndarray, ca: np.ndarray, eb: np.ndarray, cb: np.ndarray,
                          key: str, bins: int, alpha: float, seed: int = 0,
                          perms: int | None = None) -> NormalizedComparison:
    """Errors ``ea``/``eb`` of two populations compared normalised by their complexities
    ``ca``/``cb`` (measure ``key``), on ``bins`` log bins over the range of both."""
    lo = float(min(ca.min(), cb.min()))
    hi = float(max(ca.max(), cb.max()))
    ba = complexity_bins(ca, bins, key, lo, hi)
    bb = complexity_bins(cb, bins, key, lo, hi)
    common = (ba.counts > 0) & (bb.counts > 0)
    k_c = int(common.sum())
    out = NormalizedComparison(key=key, K=int(ba.counts.size), K_common=k_c,
                               dropped_a=_dropped(ba), dropped_b=_dropped(bb))
    if k_c == 0:
        return out
    ma, mb = common[ba.index], common[bb.index]
    mass = stratum_mass(ba.counts * common, bb.counts * common)
    wa = mass[ba.index[ma]] / ba.counts[ba.index[ma]]
    wb = mass[bb.index[mb]] / bb.counts[bb.index[mb]]
    fa, fb = edf(ea[ma], wa, alpha), edf(eb[mb], wb, alpha)
    kw = {} if perms is None else {"perms": perms}
    p = stratified_ks_test(ea[ma], ba.index[ma], eb[mb], bb.index[mb], seed=seed, **kw)[1]
    delta = weighted_delta(ea[ma], wa, eb[mb], wb)
    return replace(out, n_a=int(ma.sum()), n_b=int(mb.sum()), n_eff_a=fa.n_eff, n_eff_b=fb.n_eff,
                   ks_statistic=edf_distance(fa, fb), ks_pvalue_permutation=p,
                   cliffs_delta=delta, significant=bool(p < alpha and delta != 0),
                   samples=(ea[ma], wa, eb[mb], wb))


@dataclass(frozen=True)
class Joint:
    """The normalised comparisons that carry a conclusion, taken together (module docstring)."""

    keys: list[str]
    ks_statistic: float | None
    ks_pvalue_permutation: float | None
    significant: bool
    cliffs_delta: float | None  # of the binding (largest-p) comparison
    binding: str | None  # the key of the binding comparison
    opposite: bool = False  # each is significant, but they disagree on the better run


def joint(parts: list[NormalizedComparison]) -> Joint:
    """Several normalised comparisons as one: significant only when all are, the same way."""
    keys = [n.key for n in parts]
    if not parts or any(n.ks_pvalue_permutation is None for n in parts):
        return Joint(keys, None, None, False, None, None)
    bind = max(parts, key=lambda n: n.ks_pvalue_permutation or 0.0)
    signs = {np.sign(n.cliffs_delta or 0.0) for n in parts}
    every = all(n.significant for n in parts)
    return Joint(keys, bind.ks_statistic, bind.ks_pvalue_permutation, every and len(signs) == 1,
                 bind.cliffs_delta, bind.key, opposite=every and len(signs) > 1)


def normalized_sentence(n: NormalizedComparison, a: str, b: str, what: str) -> str:
    """What one normalised comparison found, with its numbers (as the table shows them)."""
    head = (f"normalised by {n.key} over the {n.K_common} of {n.K} bins both runs populate"
            f" ({n.n_a} vs {n.n_b} models, n_eff {n.n_eff_a:.0f} vs {n.n_eff_b:.0f})")
    stat = (f"normalised KS D = {n.ks_statistic:.2f}, permutation p ="
            f" {fmt_p(n.ks_pvalue_permutation or 1.0)}")
    better = n.better(a, b)
    if better is not None:
        worse = a if better == b else b
        return f"{head}: {better} is better than {worse} on {what} ({stat})"
    return f"{head}: no significant difference on {what} ({stat})"
