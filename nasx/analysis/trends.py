"""Error against parameters and complexity, stage profiles of the best models, Pareto fronts.

Trend of error against x: ``scipy.stats.linregress`` of error on x, or on log10(x) when x is a
complexity (flops, params, acts) or positive and spanning at least a factor of 10; Spearman's rank
correlation (``scipy.stats.spearmanr``); and the median error in up to 8 quantile bins of x (a
robust, smoother-free trend line).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

COMPLEXITY = ("flops", "params", "acts")


def varying_columns(frame: pd.DataFrame) -> list[str]:
    """Sampled ``v.*`` / ``h.*`` columns that are numeric and take more than one value."""
    out = []
    for col in frame.columns:
        if not (col.startswith("v.") or col.startswith("h.")):
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.notna().all() and values.nunique() > 1:
            out.append(col)
    return out


def _use_log(col: str, x: np.ndarray) -> bool:
    if col in COMPLEXITY:
        return bool(np.all(x > 0))
    return bool(np.all(x > 0) and x.max() / x.min() >= 10)


def trend(frame: pd.DataFrame, col: str, nbins: int = 8) -> dict[str, Any]:
    """Linear fit, Spearman correlation and binned medians of error against one column."""
    x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    y = frame["error"].to_numpy(dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    log = _use_log(col, x) if x.size else False
    out: dict[str, Any] = {"column": col, "n": int(x.size), "x_scale": "log10" if log else "linear",
                           "slope": None, "intercept": None, "r": None, "fit_pvalue": None,
                           "spearman_rho": None, "spearman_pvalue": None, "binned": []}
    if x.size < 3 or np.unique(x).size < 2:
        return out  # too few distinct points for a fit or a rank correlation
    xt = np.log10(x) if log else x
    fit = stats.linregress(xt, y)
    out.update(slope=float(fit.slope), intercept=float(fit.intercept), r=float(fit.rvalue),
               fit_pvalue=float(fit.pvalue))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant errors give nan; reported as null below
        rho = stats.spearmanr(x, y)
    if np.isfinite(rho.statistic):
        out.update(spearman_rho=float(rho.statistic), spearman_pvalue=float(rho.pvalue))
    edges = np.unique(np.quantile(x, np.linspace(0, 1, min(nbins, np.unique(x).size) + 1)))
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(edges.size - 2, 0))
    for b in np.unique(idx):
        sel = idx == b
        out["binned"].append({"x": float(np.median(x[sel])), "median_error": float(np.median(
            y[sel])), "n": int(sel.sum())})
    return out


def stage_profiles(frame: pd.DataFrame, top_frac: float = 0.15) -> dict[str, Any]:
    """Per-stage width and depth quartiles of the best ``top_frac`` models and of all models."""
    ranked = frame.sort_values(["error", "id"])
    n_top = max(1, int(round(top_frac * len(ranked))))
    groups = {"top": ranked.head(n_top), "all": ranked}
    out: dict[str, Any] = {"top_frac": top_frac, "n_top": n_top, "n_all": len(ranked),
                           "top_ids": [int(i) for i in ranked.head(n_top)["id"]], "stages": []}
    n_stages = max((len((s or {}).get("stages", [])) for s in ranked["spec"]), default=0)
    for j in range(n_stages):
        row: dict[str, Any] = {"stage": j + 1}
        for gname, g in groups.items():
            for key in ("width", "depth"):
                vals = np.array([s["stages"][j][key] for s in g["spec"]
                                 if s and len(s.get("stages", [])) > j], dtype=float)
                if vals.size == 0:
                    row[f"{gname}_{key}"] = None
                    continue
                q1, med, q3 = np.percentile(vals, [25, 50, 75])
                row[f"{gname}_{key}"] = {"q25": float(q1), "median": float(med), "q75": float(q3),
                                         "n": int(vals.size)}
        out["stages"].append(row)
    return out


def pareto_front(frame: pd.DataFrame, key: str = "flops") -> list[dict[str, Any]]:
    """Trials not beaten in both error and ``key`` (lower is better), by increasing ``key``."""
    ranked = frame.sort_values([key, "error", "id"])
    front, best = [], np.inf
    for _, row in ranked.iterrows():
        if row["error"] < best:
            best = row["error"]
            front.append({"id": int(row["id"]), key: float(row[key]), "error": float(row["error"]),
                          "origin": str(row["origin"])})
    return front
