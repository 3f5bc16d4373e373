"""Which comparison of two populations carries the conclusion: the plain one, or the one
normalised by the complexity measure(s) that differ between them.

A plain comparison of error EDFs mixes the space with model size when the populations' model
sizes differ. Each measure (flops, params) is checked with a two-sample KS test
(``scipy.stats.ks_2samp``) and by the overlap of its ranges (less than half of one population
inside the range both share: they "barely overlap"). Then, with ``normalize="auto"``:

- neither measure differs: the plain comparison carries the conclusion;
- one differs: the comparison normalised by that one carries it (flops matched and params not:
  by params, since normalising by flops cannot remove a difference in params);
- both differ: both normalised comparisons are made and a difference is stated only when both
  find it in the same direction (:func:`nasx.analysis.normalized.joint`).

``normalize="flops"`` or ``"params"`` forces that measure whenever a normalised comparison
carries; ``"none"`` lets the plain one carry (the difference in model size is then a caveat).
A normalised comparison with no bin both runs populate carries nothing ("none"): no conclusion.
This rule is calibrated on simulated populations whose errors depend only on params
(tests/analysis/test_analysis_confound.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from nasx.analysis.compare import fmt_p
from nasx.analysis.normalized import (
    MEASURES,
    Joint,
    NormalizedComparison,
    joint,
    normalized_comparison,
)
from nasx.fmt import si

NORMALIZE = ("auto", "flops", "params", "none")


def check_options(normalize: str, bins: int) -> None:
    """AnalysisError for a ``--normalize`` or ``--bins`` a comparison cannot use (the report's,
    the API's and the CLI's one rule)."""
    from nasx.errors import AnalysisError

    if normalize not in NORMALIZE:
        raise AnalysisError(rule=f"--normalize must be one of {', '.join(NORMALIZE)}",
                            value=normalize)
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise AnalysisError(rule="--bins must be >= 1", value=bins)
BARELY = 0.5  # ranges "barely overlap" when less than this share of a run lies in the shared one


@dataclass(frozen=True)
class KS:
    """A two-sample Kolmogorov-Smirnov test."""

    statistic: float
    pvalue: float


@dataclass(frozen=True)
class Overlap:
    """The range of a measure both populations share and the share of each inside it."""

    shared_range: tuple[float, float] | None  # None: the ranges do not overlap
    frac_a_in_shared: float
    frac_b_in_shared: float

    @property
    def barely(self) -> bool:
        """Less than half of one population lies in the shared range."""
        return min(self.frac_a_in_shared, self.frac_b_in_shared) < BARELY


@dataclass(frozen=True)
class ComplexityCheck:
    """KS tests on flops and params and the overlap of their ranges."""

    flops_ks: KS
    params_ks: KS
    flops_overlap: Overlap
    params_overlap: Overlap

    def ks(self, key: str) -> KS:
        """The KS test on ``key`` (flops | params)."""
        return self.flops_ks if key == "flops" else self.params_ks

    def overlap(self, key: str) -> Overlap:
        """The overlap of the ``key`` ranges."""
        return self.flops_overlap if key == "flops" else self.params_overlap

    def differs(self, key: str, alpha: float) -> bool:
        """The populations differ in ``key``: KS p < alpha, or ranges that barely overlap."""
        return self.ks(key).pvalue < alpha or self.overlap(key).barely


def _values(side: Mapping[str, object], key: str) -> np.ndarray:
    return np.asarray(side[key], dtype=float)


def _overlap(va: np.ndarray, vb: np.ndarray) -> Overlap:
    lo, hi = max(va.min(), vb.min()), min(va.max(), vb.max())
    if lo > hi:
        return Overlap(None, 0.0, 0.0)
    return Overlap((float(lo), float(hi)), float(np.mean((va >= lo) & (va <= hi))),
                   float(np.mean((vb >= lo) & (vb <= hi))))


def complexity_check(a: Mapping[str, object], b: Mapping[str, object]) -> ComplexityCheck:
    """KS tests and range overlaps of flops and params of two populations (columns of frames,
    or arrays by name)."""
    out: dict[str, object] = {}
    for key in MEASURES:
        va, vb = _values(a, key), _values(b, key)
        r = stats.ks_2samp(va, vb)
        out[f"{key}_ks"] = KS(statistic=float(r.statistic), pvalue=float(r.pvalue))
        out[f"{key}_overlap"] = _overlap(va, vb)
    return ComplexityCheck(**out)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Decision:
    """Which comparison carries the conclusion (plain | normalized | none), by which measures,
    why, and every normalised comparison made."""

    carried_by: str
    keys: list[str]  # the measures of the carrying normalised comparison ([] when plain)
    differ: list[str]  # the measures whose distributions differ
    reason: str  # why: the measure(s) and the test that triggered it
    complexity: ComplexityCheck
    normalized: dict[str, NormalizedComparison]  # flops and params, both always made
    joint: Joint  # the carrying normalised comparisons together (empty keys when plain)


def _ks_text(cx: ComplexityCheck, key: str) -> str:
    o = cx.overlap(key)
    if o.shared_range is None:
        return (f"their {key} ranges do not overlap (KS on {key} p ="
                f" {fmt_p(cx.ks(key).pvalue)})")
    if o.barely:
        lo, hi = o.shared_range or (0.0, 0.0)
        return (f"their {key} ranges barely overlap (only {100 * o.frac_a_in_shared:.0f}% and"
                f" {100 * o.frac_b_in_shared:.0f}% of the models lie in the shared range"
                f" {si(lo)}-{si(hi)}; KS on {key} p = {fmt_p(cx.ks(key).pvalue)})")
    return f"the {key} distributions differ (KS on {key} p = {fmt_p(cx.ks(key).pvalue)})"


def _reason(cx: ComplexityCheck, differ: list[str], alpha: float) -> str:
    same = [k for k in MEASURES if k not in differ]
    same_txt = "; ".join(f"on {k} p = {fmt_p(cx.ks(k).pvalue)}" for k in same)
    if not differ:
        return (f"the complexity distributions do not differ significantly (KS {same_txt},"
                f" alpha = {alpha:g})")
    why = " and ".join(_ks_text(cx, k) for k in differ)
    if same:
        why += f", while the {same[0]} distributions do not differ (KS {same_txt})"
    return why


def decide(a: Mapping[str, object], b: Mapping[str, object], normalize: str = "auto",
           bins: int = 10, alpha: float = 0.05, seed: int = 0,
           perms: int | None = None) -> Decision:
    """The carrying comparison of populations ``a`` and ``b`` (each with ``error``, ``flops``
    and ``params``), by the rule of the module docstring."""
    check_options(normalize, bins)
    cx = complexity_check(a, b)
    ea, eb = _values(a, "error"), _values(b, "error")
    norm = {k: normalized_comparison(ea, _values(a, k), eb, _values(b, k), k, bins, alpha,
                                     seed=seed, perms=perms) for k in MEASURES}
    differ = [k for k in MEASURES if cx.differs(k, alpha)]
    reason = _reason(cx, differ, alpha)
    if normalize == "none" or not differ:
        return Decision("plain", [], differ, reason, cx, norm, joint([]))
    keys = differ if normalize == "auto" else [normalize]
    carried = "none" if any(norm[k].K_common == 0 for k in keys) else "normalized"
    return Decision(carried, keys, differ, reason, cx, norm, joint([norm[k] for k in keys]))
