"""The caveats of a comparison of two runs, which comparison carries the conclusion, and the
one-line verdict that says both.

A plain comparison of error EDFs is confounded when the runs differ in anything but the space:

- what their errors measure (recipe, data, classes, validation vs test error; refused unless the
  user asks, see :func:`nasx.analysis.load.check_comparable`), or their inputs (resolution,
  channels, data folder): neither comparison removes these, so they are named as caveats;
- their complexity distributions: two-sample KS tests on flops and on params
  (``scipy.stats.ks_2samp``) and the overlap of their complexity ranges. When the distributions
  differ (p < alpha) or the ranges barely overlap (less than half of one run's models inside the
  range both runs share), the COMPLEXITY-NORMALISED comparison carries the conclusion. It is
  computed on the complexity bins both runs populate (the shared log bins of the report; bins
  where one run has no model are dropped for both, so both EDFs weight the same complexities):
  ``w_i = 1/(K_c n_b(i))`` over the K_c common bins, KS distance of the weighted EDFs with a
  seeded permutation mid-p value, relabelling within bins
  (:func:`nasx.analysis.compare.stratified_ks_test`), and a weighted Cliff's delta for the
  direction.

When the carrying comparison is not significant, the verdict says how many models per space would
resolve the observed difference (:func:`nasx.analysis.power.models_needed`, seeded). When either
run holds ``nasx fidelity`` seed repeats, the verdict holds the difference in medians against the
seed-noise floor (the larger pooled seed SD, :mod:`nasx.analysis.fidelity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from nasx.analysis.compare import Comparison, fmt_p, stratified_ks_test
from nasx.analysis.edf import Bins, complexity_bins, edf, edf_distance
from nasx.analysis.fidelity import NoiseFloor, noise_sentence
from nasx.analysis.jsonable import OMIT_NONE, SKIP, json_name
from nasx.analysis.load import RunData, reference_recipe
from nasx.analysis.power import Power, models_needed
from nasx.fmt import si

BARELY = 0.5  # ranges "barely overlap" when less than this share of a run lies in the shared one
MIN_MODELS = 5  # fewer models on a side support neither a conclusion nor a power estimate


@dataclass(frozen=True)
class Caveat:
    """Something that no comparison of the two runs' errors removes (``kind`` names it)."""

    kind: str  # recipe | resolution | in_channels | data | bins | normalised | excluded | few
    text: str


@dataclass(frozen=True)
class KS:
    """A two-sample Kolmogorov-Smirnov test."""

    statistic: float
    pvalue: float


@dataclass(frozen=True)
class ComplexityCheck:
    """KS tests on flops and params, and the overlap of the ``key`` ranges of two populations."""

    flops_ks: KS
    params_ks: KS
    key: str
    shared_range: tuple[float, float] | None  # None: the ranges do not overlap
    frac_a_in_shared: float
    frac_b_in_shared: float

    def ks(self, col: str) -> KS:
        """The KS test on ``col`` (flops | params)."""
        return self.flops_ks if col == "flops" else self.params_ks


@dataclass(frozen=True)
class CommonBins:
    """The normalised comparison on the bins both runs populate (see the module docstring)."""

    key: str
    K: int
    K_common: int
    dropped_a: list[int]
    dropped_b: list[int]
    n_a: int = 0
    n_b: int = 0
    ks_statistic: float | None = None
    ks_pvalue_approx: float | None = None
    cliffs_delta: float | None = None
    better: str | None = None
    significant: bool = False
    n_eff_a: float | None = field(default=None, metadata=OMIT_NONE)
    n_eff_b: float | None = field(default=None, metadata=OMIT_NONE)
    # The weighted samples compared (errors and weights of a, then of b), for the power estimate.
    samples: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, repr=False, compare=False, metadata=SKIP)


@dataclass(frozen=True)
class PairVerdict:
    """Caveats, the carrying comparison (plain | normalized | none) and the one-line verdict."""

    plain_verdict: str
    text: str = field(metadata=json_name("verdict"))
    carried_by: str
    caveats: list[Caveat]
    complexity: ComplexityCheck
    normalized_common: CommonBins
    power: Power | None
    noise_floor: NoiseFloor | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True, eq=False)  # holds frames: compared by identity
class Pair:
    """Two runs, the populations compared, and the settings of their comparison."""

    a: RunData
    b: RunData
    pa: pd.DataFrame
    pb: pd.DataFrame
    key: str  # the complexity of the normalised comparison
    lohi: tuple[float, float]  # its bin range
    bins: int
    alpha: float
    seed: int
    what: str  # the error's name in sentences
    metric_diffs: list[str] = field(default_factory=list)  # how their errors differ
    noise_floor: NoiseFloor | None = None  # from `nasx fidelity` retrains of either run

    def values(self, side: str, col: str) -> np.ndarray:
        """Column ``col`` of population ``side`` (a | b) as floats."""
        return (self.pa if side == "a" else self.pb)[col].to_numpy(dtype=float)


def _input_values(run: RunData, key: str) -> list[object]:
    pop = run.comparable
    vals = set()
    for s in pop["spec"]:
        s = s or {}
        vals.add(s.get("head", {}).get("num_classes") if key == "num_classes" else s.get(key))
    return sorted(vals, key=repr)


def _join(vals: list[object]) -> str:
    return "/".join(str(v) for v in vals)


def input_caveats(a: RunData, b: RunData) -> list[Caveat]:
    """Differences in the inputs of two runs that no comparison of their errors removes."""
    out = []
    for key, what, unit in (("resolution", "input resolution", " px"),
                            ("in_channels", "input channels", "")):
        va, vb = _input_values(a, key), _input_values(b, key)
        if va != vb:
            out.append(Caveat(key, f"{what} differs ({_join(va)}{unit} vs {_join(vb)}{unit}):"
                              " errors and complexity both depend on it, and neither"
                              " comparison removes it"))
    da, db = reference_recipe(a).get("data_dir"), reference_recipe(b).get("data_dir")
    if da != db and (da or db):
        out.append(Caveat("data", f"data folders differ ({da} vs {db}): the errors are"
                          " comparable only if both hold the same data set"))
    return out


def _ks(x: pd.Series, y: pd.Series) -> KS:
    r = stats.ks_2samp(x.to_numpy(dtype=float), y.to_numpy(dtype=float))
    return KS(statistic=float(r.statistic), pvalue=float(r.pvalue))


def complexity_check(pa: pd.DataFrame, pb: pd.DataFrame, key: str) -> ComplexityCheck:
    """KS tests on flops and params, and the overlap of the ``key`` ranges of two populations."""
    va, vb = pa[key].to_numpy(dtype=float), pb[key].to_numpy(dtype=float)
    lo, hi = max(va.min(), vb.min()), min(va.max(), vb.max())
    frac_a = float(np.mean((va >= lo) & (va <= hi))) if lo <= hi else 0.0
    frac_b = float(np.mean((vb >= lo) & (vb <= hi))) if lo <= hi else 0.0
    return ComplexityCheck(flops_ks=_ks(pa["flops"], pb["flops"]),
                           params_ks=_ks(pa["params"], pb["params"]), key=key,
                           shared_range=(float(lo), float(hi)) if lo <= hi else None,
                           frac_a_in_shared=frac_a, frac_b_in_shared=frac_b)


def _weighted_delta(ea: np.ndarray, wa: np.ndarray, eb: np.ndarray, wb: np.ndarray) -> float:
    """Weighted Cliff's delta: P(e_b < e_a) - P(e_b > e_a) under the two weightings."""
    order = np.argsort(eb)
    sb, cw = eb[order], np.concatenate([[0.0], np.cumsum(wb[order])])
    below = cw[np.searchsorted(sb, ea, side="left")]
    above = cw[-1] - cw[np.searchsorted(sb, ea, side="right")]
    return float(np.sum(wa * (below - above)) / (wa.sum() * wb.sum()))


def common_bins_comparison(ea: np.ndarray, ca: np.ndarray, eb: np.ndarray, cb: np.ndarray,
                           key: str, bins: int, lo: float, hi: float,
                           alpha: float, seed: int = 0) -> CommonBins:
    """Normalised comparison on the bins both runs populate (see the module docstring)."""
    ba = complexity_bins(ca, bins, key, lo, hi)
    bb = complexity_bins(cb, bins, key, lo, hi)
    common = (ba.counts > 0) & (bb.counts > 0)
    k_c = int(common.sum())
    out = CommonBins(key=key, K=int(ba.counts.size), K_common=k_c, dropped_a=_dropped(ba),
                     dropped_b=_dropped(bb))
    if k_c == 0:
        return out
    ma, mb = common[ba.index], common[bb.index]
    wa = 1.0 / (k_c * ba.counts[ba.index[ma]].astype(float))
    wb = 1.0 / (k_c * bb.counts[bb.index[mb]].astype(float))
    fa, fb = edf(ea[ma], wa, alpha), edf(eb[mb], wb, alpha)
    dist = edf_distance(fa, fb)
    p = stratified_ks_test(ea[ma], ba.index[ma], eb[mb], bb.index[mb], seed=seed)[1]
    delta = _weighted_delta(ea[ma], wa, eb[mb], wb)
    return replace(out, n_a=int(ma.sum()), n_b=int(mb.sum()), n_eff_a=fa.n_eff, n_eff_b=fb.n_eff,
                   ks_statistic=dist, ks_pvalue_approx=p, cliffs_delta=delta,
                   significant=bool(p < alpha and delta != 0),
                   samples=(ea[ma], wa, eb[mb], wb))


def _dropped(b: Bins) -> list[int]:
    return [int(i) for i in np.flatnonzero(b.counts == 0)]


def _norm_sentence(n: CommonBins, a: str, b: str, what: str) -> str:
    head = (f"complexity-normalised by {n.key} over the {n.K_common} of {n.K} bins both"
            f" runs populate ({n.n_a} vs {n.n_b} models, n_eff {n.n_eff_a:.0f} vs"
            f" {n.n_eff_b:.0f})")
    stat = f"normalised KS D = {n.ks_statistic:.2f}, approx. p = {fmt_p(n.ks_pvalue_approx)}"
    if n.significant:
        better, worse = (b, a) if n.cliffs_delta > 0 else (a, b)
        return f"{head}: {better} is better than {worse} on {what} ({stat})"
    return f"{head}: no significant difference on {what} ({stat})"


def _carried_by(cx: ComplexityCheck, norm: CommonBins, alpha: float) -> str:
    """Which comparison carries the conclusion: none (no common bin), normalized or plain."""
    if norm.K_common == 0:
        return "none"
    differ = any(cx.ks(k).pvalue < alpha for k in ("flops", "params"))
    barely = min(cx.frac_a_in_shared, cx.frac_b_in_shared) < BARELY
    return "normalized" if barely or differ else "plain"


def _lead(p: Pair, carried: str, cx: ComplexityCheck, norm: CommonBins, plain: Comparison) -> str:
    """The verdict's first sentences: what carries the conclusion, and why."""
    a, b, key = p.a.name, p.b.name, p.key
    ks_txt = ", ".join(f"on {k} p = {fmt_p(cx.ks(k).pvalue)}" for k in ("flops", "params"))
    if carried == "none":
        return (f"No conclusion: the {key} ranges of {a} and {b} do not overlap, so no"
                " complexity-normalised comparison is possible, and the plain comparison"
                f" cannot tell the space from model size (plain: {plain.verdict})")
    if carried == "plain":
        return (f"{plain.verdict} The plain comparison carries the conclusion: the complexity"
                f" distributions do not differ significantly (KS {ks_txt}).")
    if min(cx.frac_a_in_shared, cx.frac_b_in_shared) < BARELY:
        lo, hi = cx.shared_range or (0.0, 0.0)
        why = (f"the {key} ranges barely overlap: only {100 * cx.frac_a_in_shared:.0f}% of"
               f" {a}'s and {100 * cx.frac_b_in_shared:.0f}% of {b}'s models lie"
               f" in the shared range {si(lo)}-{si(hi)}, so the plain comparison mostly"
               " compares model sizes")
    else:
        why = (f"the complexity distributions differ (KS {ks_txt}), so the plain comparison"
               " mixes the space with model size")
    sentence = _norm_sentence(norm, a, b, p.what)
    return (f"The complexity-normalised comparison carries the conclusion, because {why}."
            f" {sentence[0].upper()}{sentence[1:]}. Plain comparison, for reference:"
            f" {plain.verdict}")


def _sizes(p: Pair, carried: str, norm: CommonBins) -> tuple[int, int]:
    """Models on each side of the carrying comparison."""
    return (norm.n_a, norm.n_b) if carried == "normalized" else (len(p.pa), len(p.pb))


def _caveats(p: Pair, carried: str, norm: CommonBins, plain: Comparison) -> list[Caveat]:
    """Every caveat of the pair, in the verdict's order."""
    out = [Caveat("recipe", "the runs differ in what their errors measure"
                  f" ({'; '.join(p.metric_diffs)}): neither comparison removes this")
           ] if p.metric_diffs else []
    out += input_caveats(p.a, p.b)
    if norm.dropped_a or norm.dropped_b:
        out.append(Caveat("bins", f"the normalised EDF dropped {len(norm.dropped_a)} of"
                          f" {norm.K} {p.key} bins for {p.a.name} and {len(norm.dropped_b)} for"
                          f" {p.b.name} (no models there)"))
    if carried == "plain" and norm.significant != plain.significant:
        out.append(Caveat("normalised", "the complexity-normalised comparison disagrees"
                          f" ({_norm_sentence(norm, p.a.name, p.b.name, p.what)})"))
    out += [Caveat("excluded", note) for note in (p.a.exclusion_note(), p.b.exclusion_note())
            if note]
    n_a, n_b = _sizes(p, carried, norm)
    if carried != "none" and min(n_a, n_b) < MIN_MODELS:
        where = " in the shared complexity range" if carried == "normalized" else ""
        out.append(Caveat("few", f"only {n_a} vs {n_b} models{where}: too few for a conclusion"
                          " or an estimate of how many would be needed"))
    return out


def _power(p: Pair, carried: str, norm: CommonBins, plain: Comparison) -> Power | None:
    """Models per space that would resolve a non-significant carrying comparison."""
    n_from = max(_sizes(p, carried, norm))
    if carried == "none" or min(_sizes(p, carried, norm)) < MIN_MODELS:
        return None
    if carried == "plain" and not plain.significant:
        return models_needed(p.values("a", "error"), p.values("b", "error"), alpha=p.alpha,
                             seed=p.seed, n_from=n_from)
    if carried == "normalized" and not norm.significant and norm.samples is not None:
        ea, wa, eb, wb = norm.samples
        return models_needed(ea, eb, wa, wb, alpha=p.alpha, seed=p.seed, n_from=n_from)
    return None


def _power_sentence(power: Power, carried: str, alpha: float, seed: int) -> str:
    which = "normalised" if carried == "normalized" else "plain"
    if power.n is None:
        return (f" Even {power.more_than} models per space would not resolve the observed"
                f" {which} difference reliably: it is negligible.")
    where = " in the shared complexity range" if carried == "normalized" else ""
    return (f" About {power.n} models per space{where} would be needed to resolve the observed"
            f" {which} difference ({100 * power.power:.0f}% power at alpha = {alpha:g}; seeded"
            f" bootstrap, seed {seed}).")


def pair_verdict(p: Pair, plain: Comparison) -> PairVerdict:
    """Caveats, the carrying comparison and the one-line verdict of runs ``p.a`` and ``p.b``."""
    cx = complexity_check(p.pa, p.pb, p.key)
    norm = common_bins_comparison(p.values("a", "error"), p.values("a", p.key),
                                  p.values("b", "error"), p.values("b", p.key), p.key, p.bins,
                                  p.lohi[0], p.lohi[1], p.alpha, seed=p.seed)
    carried = _carried_by(cx, norm, p.alpha)
    caveats = _caveats(p, carried, norm, plain)
    power = _power(p, carried, norm, plain)
    text = _lead(p, carried, cx, norm, plain).rstrip(".") + "."
    if caveats:
        text += " Caveats: " + "; ".join(c.text for c in caveats) + "."
    if power is not None:
        text += _power_sentence(power, carried, p.alpha, p.seed)
    if p.noise_floor is not None:
        text += " " + noise_sentence(p.noise_floor)
    return PairVerdict(plain_verdict=plain.verdict, text=text, carried_by=carried,
                       caveats=caveats, complexity=cx, normalized_common=norm, power=power,
                       noise_floor=p.noise_floor)
