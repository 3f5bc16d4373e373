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
  ``w_i = 1/(K_c n_b(i))`` over the K_c common bins, KS distance of the weighted EDFs with an
  asymptotic p-value from the Kish effective sizes (indicative), and a weighted Cliff's delta for
  the direction.

When the carrying comparison is not significant, the verdict says how many models per space would
resolve the observed difference (:func:`nasx.analysis.power.models_needed`, seeded).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nasx.analysis.compare import fmt_p
from nasx.analysis.edf import Bins, complexity_bins, edf, edf_distance
from nasx.analysis.load import RunData, reference_recipe
from nasx.analysis.power import models_needed

BARELY = 0.5  # ranges "barely overlap" when less than this share of a run lies in the shared one
MIN_MODELS = 5  # fewer models on a side support neither a conclusion nor a power estimate


def _input_values(run: RunData, key: str) -> list[Any]:
    pop = run.comparable
    vals = set()
    for s in pop["spec"]:
        s = s or {}
        vals.add(s.get("head", {}).get("num_classes") if key == "num_classes" else s.get(key))
    return sorted(vals, key=repr)


def _join(vals: list[Any]) -> str:
    return "/".join(str(v) for v in vals)


def input_caveats(a: RunData, b: RunData) -> list[dict[str, str]]:
    """Differences in the inputs of two runs that no comparison of their errors removes."""
    out = []
    for key, what, unit in (("resolution", "input resolution", " px"),
                            ("in_channels", "input channels", "")):
        va, vb = _input_values(a, key), _input_values(b, key)
        if va != vb:
            out.append({"kind": key, "text": f"{what} differs ({_join(va)}{unit} vs {_join(vb)}"
                        f"{unit}): errors and complexity both depend on it, and neither"
                        " comparison removes it"})
    da, db = reference_recipe(a).get("data_dir"), reference_recipe(b).get("data_dir")
    if da != db and (da or db):
        out.append({"kind": "data", "text": f"data folders differ ({da} vs {db}): the errors are"
                    " comparable only if both hold the same data set"})
    return out


def _ks(x: pd.Series, y: pd.Series) -> dict[str, float]:
    r = stats.ks_2samp(x.to_numpy(dtype=float), y.to_numpy(dtype=float))
    return {"statistic": float(r.statistic), "pvalue": float(r.pvalue)}


def complexity_check(pa: pd.DataFrame, pb: pd.DataFrame, key: str) -> dict[str, Any]:
    """KS tests on flops and params, and the overlap of the ``key`` ranges of two populations."""
    va, vb = pa[key].to_numpy(dtype=float), pb[key].to_numpy(dtype=float)
    lo, hi = max(va.min(), vb.min()), min(va.max(), vb.max())
    frac_a = float(np.mean((va >= lo) & (va <= hi))) if lo <= hi else 0.0
    frac_b = float(np.mean((vb >= lo) & (vb <= hi))) if lo <= hi else 0.0
    return {"flops_ks": _ks(pa["flops"], pb["flops"]), "params_ks": _ks(pa["params"], pb["params"]),
            "key": key, "shared_range": [float(lo), float(hi)] if lo <= hi else None,
            "frac_a_in_shared": frac_a, "frac_b_in_shared": frac_b}


def _weighted_delta(ea: np.ndarray, wa: np.ndarray, eb: np.ndarray, wb: np.ndarray) -> float:
    """Weighted Cliff's delta: P(e_b < e_a) - P(e_b > e_a) under the two weightings."""
    order = np.argsort(eb)
    sb, cw = eb[order], np.concatenate([[0.0], np.cumsum(wb[order])])
    below = cw[np.searchsorted(sb, ea, side="left")]
    above = cw[-1] - cw[np.searchsorted(sb, ea, side="right")]
    return float(np.sum(wa * (below - above)) / (wa.sum() * wb.sum()))


def common_bins_comparison(ea: np.ndarray, ca: np.ndarray, eb: np.ndarray, cb: np.ndarray,
                           key: str, bins: int, lo: float, hi: float,
                           alpha: float) -> dict[str, Any]:
    """Normalised comparison on the bins both runs populate (see the module docstring)."""
    ba = complexity_bins(ca, bins, key, lo, hi)
    bb = complexity_bins(cb, bins, key, lo, hi)
    common = (ba.counts > 0) & (bb.counts > 0)
    k_c = int(common.sum())
    out: dict[str, Any] = {"key": key, "K": int(ba.counts.size), "K_common": k_c,
                           "dropped_a": _dropped(ba), "dropped_b": _dropped(bb),
                           "n_a": 0, "n_b": 0, "ks_statistic": None, "ks_pvalue_approx": None,
                           "cliffs_delta": None, "better": None, "significant": False}
    if k_c == 0:
        return out
    ma, mb = common[ba.index], common[bb.index]
    wa = 1.0 / (k_c * ba.counts[ba.index[ma]].astype(float))
    wb = 1.0 / (k_c * bb.counts[bb.index[mb]].astype(float))
    fa, fb = edf(ea[ma], wa, alpha), edf(eb[mb], wb, alpha)
    dist = edf_distance(fa, fb)
    n_e = fa.n_eff * fb.n_eff / (fa.n_eff + fb.n_eff)
    p = float(stats.kstwobign.sf(dist * np.sqrt(n_e)))
    delta = _weighted_delta(ea[ma], wa, eb[mb], wb)
    out.update(n_a=int(ma.sum()), n_b=int(mb.sum()), n_eff_a=fa.n_eff, n_eff_b=fb.n_eff,
               ks_statistic=dist, ks_pvalue_approx=p, cliffs_delta=delta,
               significant=bool(p < alpha and delta != 0))
    out["_samples"] = (ea[ma], wa, eb[mb], wb)  # for the power estimate; dropped before JSON
    return out


def _dropped(b: Bins) -> list[int]:
    return [int(i) for i in np.flatnonzero(b.counts == 0)]


def _k(v: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"


def _norm_sentence(n: dict[str, Any], a: str, b: str, what: str) -> str:
    head = (f"complexity-normalised by {n['key']} over the {n['K_common']} of {n['K']} bins both"
            f" runs populate ({n['n_a']} vs {n['n_b']} models, n_eff {n['n_eff_a']:.0f} vs"
            f" {n['n_eff_b']:.0f})")
    stat = f"normalised KS D = {n['ks_statistic']:.2f}, approx. p = {fmt_p(n['ks_pvalue_approx'])}"
    if n["significant"]:
        better, worse = (b, a) if n["cliffs_delta"] > 0 else (a, b)
        return f"{head}: {better} is better than {worse} on {what} ({stat})"
    return f"{head}: no significant difference on {what} ({stat})"


def pair_verdict(a: RunData, b: RunData, pa: pd.DataFrame, pb: pd.DataFrame,
                 plain: dict[str, Any], key: str, bins: int, lohi: tuple[float, float],
                 alpha: float, seed: int, metric_diffs: list[str],
                 what: str) -> dict[str, Any]:
    """Caveats, the carrying comparison and the one-line verdict of runs ``a`` and ``b``."""
    cx = complexity_check(pa, pb, key)
    norm = common_bins_comparison(pa["error"].to_numpy(dtype=float),
                                  pa[key].to_numpy(dtype=float),
                                  pb["error"].to_numpy(dtype=float),
                                  pb[key].to_numpy(dtype=float), key, bins, lohi[0], lohi[1],
                                  alpha)
    samples = norm.pop("_samples", None)
    differ = [k for k in ("flops", "params") if cx[f"{k}_ks"]["pvalue"] < alpha]
    barely = min(cx["frac_a_in_shared"], cx["frac_b_in_shared"]) < BARELY
    ks_txt = ", ".join(f"on {k} p = {fmt_p(cx[f'{k}_ks']['pvalue'])}" for k in ("flops", "params"))
    if norm["K_common"] == 0:
        carried = "none"
        lead = (f"No conclusion: the {key} ranges of {a.name} and {b.name} do not overlap, so no"
                " complexity-normalised comparison is possible, and the plain comparison"
                f" cannot tell the space from model size (plain: {plain['verdict']})")
    elif barely or differ:
        carried = "normalized"
        if barely:
            sr = cx["shared_range"]
            why = (f"the {key} ranges barely overlap: only {100 * cx['frac_a_in_shared']:.0f}% of"
                   f" {a.name}'s and {100 * cx['frac_b_in_shared']:.0f}% of {b.name}'s models lie"
                   f" in the shared range {_k(sr[0])}-{_k(sr[1])}, so the plain comparison mostly"
                   " compares model sizes")
        else:
            why = (f"the complexity distributions differ (KS {ks_txt}), so the plain comparison"
                   " mixes the space with model size")
        sentence = _norm_sentence(norm, a.name, b.name, what)
        lead = (f"The complexity-normalised comparison carries the conclusion, because {why}."
                f" {sentence[0].upper()}{sentence[1:]}. Plain comparison, for reference:"
                f" {plain['verdict']}")
    else:
        carried = "plain"
        lead = (f"{plain['verdict']} The plain comparison carries the conclusion: the complexity"
                f" distributions do not differ significantly (KS {ks_txt}).")
    caveats: list[dict[str, str]] = [
        {"kind": "recipe", "text": f"the runs differ in what their errors measure"
         f" ({'; '.join(metric_diffs)}): neither comparison removes this"}
    ] if metric_diffs else []
    caveats += input_caveats(a, b)
    if norm["dropped_a"] or norm["dropped_b"]:
        caveats.append({"kind": "bins", "text": f"the normalised EDF dropped"
                        f" {len(norm['dropped_a'])} of {norm['K']} {key} bins for {a.name} and"
                        f" {len(norm['dropped_b'])} for {b.name} (no models there)"})
    if carried == "plain" and norm["significant"] != plain["significant"]:
        caveats.append({"kind": "normalised", "text": "the complexity-normalised comparison"
                        f" disagrees ({_norm_sentence(norm, a.name, b.name, what)})"})
    for r in (a, b):
        note = r.exclusion_note()
        if note:
            caveats.append({"kind": "excluded", "text": note})
    power = None
    n_a, n_b = (norm["n_a"], norm["n_b"]) if carried == "normalized" else (len(pa), len(pb))
    if carried != "none" and min(n_a, n_b) < MIN_MODELS:
        where = " in the shared complexity range" if carried == "normalized" else ""
        caveats.append({"kind": "few", "text": f"only {n_a} vs {n_b} models{where}: too few for"
                        " a conclusion or an estimate of how many would be needed"})
    elif carried == "plain" and not plain["significant"]:
        power = models_needed(pa["error"].to_numpy(dtype=float),
                              pb["error"].to_numpy(dtype=float), alpha=alpha, seed=seed,
                              n_from=max(n_a, n_b))
    elif carried == "normalized" and not norm["significant"] and samples is not None:
        power = models_needed(samples[0], samples[2], samples[1], samples[3], alpha=alpha,
                              seed=seed, n_from=max(n_a, n_b))
    text = lead.rstrip(".") + "."
    if caveats:
        text += " Caveats: " + "; ".join(c["text"] for c in caveats) + "."
    if power is not None:
        which = "normalised" if carried == "normalized" else "plain"
        if power["n"] is not None:
            where = " in the shared complexity range" if carried == "normalized" else ""
            text += (f" About {power['n']} models per space{where} would be needed to resolve the"
                     f" observed {which} difference ({100 * power['power']:.0f}% power at alpha ="
                     f" {alpha:g}; seeded bootstrap, seed {seed}).")
        else:
            text += (f" Even {power['more_than']} models per space would not resolve the observed"
                     f" {which} difference reliably: it is negligible.")
    return {"verdict": text, "carried_by": carried, "caveats": caveats, "complexity": cx,
            "normalized_common": norm, "power": power}
