"""Error against parameters and complexity, stage profiles of the best models, Pareto fronts.

Trend of error against x: ``scipy.stats.linregress`` of error on x, or on log10(x) when x is a
complexity (flops, params, acts) or positive and spanning at least a factor of 10; Spearman's rank
correlation (``scipy.stats.spearmanr``); and the median error in up to 8 quantile bins of x (a
robust, smoother-free trend line).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from nasx.pareto import pareto_front as pareto

COMPLEXITY = ("flops", "params", "acts")


@dataclass(frozen=True)
class TrendBin:
    """Median error of the models in one quantile bin of x."""

    x: float  # median x of the bin
    median_error: float
    n: int


@dataclass(frozen=True)
class Trend:
    """Error against one column: linear fit, Spearman correlation, binned medians (None: too
    few distinct points)."""

    column: str
    n: int
    x_scale: str  # log10 | linear
    slope: float | None = None
    intercept: float | None = None
    r: float | None = None
    fit_pvalue: float | None = None
    spearman_rho: float | None = None
    spearman_pvalue: float | None = None
    binned: list[TrendBin] = field(default_factory=list)


@dataclass(frozen=True)
class Quartiles:
    """Quartiles of a stage width or depth over a group of models."""

    q25: float
    median: float
    q75: float
    n: int


@dataclass(frozen=True)
class StageRow:
    """Width and depth quartiles of stage ``stage`` (1-based) over the top and all models."""

    stage: int
    top_width: Quartiles | None
    top_depth: Quartiles | None
    all_width: Quartiles | None
    all_depth: Quartiles | None

    def get(self, group: str, key: str) -> Quartiles | None:
        """The quartiles of ``key`` (width | depth) over ``group`` (top | all)."""
        return getattr(self, f"{group}_{key}")


@dataclass(frozen=True)
class StageProfiles:
    """Per-stage profiles of the best ``top_frac`` models (``top_ids``) and of all models."""

    top_frac: float
    n_top: int
    n_all: int
    top_ids: list[int]
    stages: list[StageRow]


@dataclass(frozen=True)
class ParetoPoint:
    """A trial on the Pareto front of error and ``key``."""

    id: int
    key: str
    value: float
    error: float
    origin: str

    def to_dict(self) -> dict[str, int | float | str]:
        """``{"id", <key>, "error", "origin"}``, as summary.json has it."""
        return {"id": self.id, self.key: self.value, "error": self.error, "origin": self.origin}


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


def trend(frame: pd.DataFrame, col: str, nbins: int = 8) -> Trend:
    """Linear fit, Spearman correlation and binned medians of error against one column."""
    x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    y = frame["error"].to_numpy(dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    log = _use_log(col, x) if x.size else False
    out = Trend(column=col, n=int(x.size), x_scale="log10" if log else "linear")
    if x.size < 3 or np.unique(x).size < 2:
        return out  # too few distinct points for a fit or a rank correlation
    fit = stats.linregress(np.log10(x) if log else x, y)
    out = replace(out, slope=float(fit.slope), intercept=float(fit.intercept),
                  r=float(fit.rvalue), fit_pvalue=float(fit.pvalue), binned=_binned(x, y, nbins))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant errors give nan; reported as null below
        rho = stats.spearmanr(x, y)
    if np.isfinite(rho.statistic):
        out = replace(out, spearman_rho=float(rho.statistic), spearman_pvalue=float(rho.pvalue))
    return out


def _binned(x: np.ndarray, y: np.ndarray, nbins: int) -> list[TrendBin]:
    """Median error in up to ``nbins`` quantile bins of x."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, min(nbins, np.unique(x).size) + 1)))
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(edges.size - 2, 0))
    return [TrendBin(x=float(np.median(x[idx == b])), median_error=float(np.median(y[idx == b])),
                     n=int((idx == b).sum())) for b in np.unique(idx)]


def _stage_sizes(spec: object) -> list[dict[str, float]]:
    """Width and depth of each stage of a stored spec (none for a missing spec)."""
    return [{"width": st["width"], "depth": st["depth"]}
            for st in (spec or {}).get("stages", [])]  # type: ignore[attr-defined]


def _quartiles(sizes: list[list[dict[str, float]]], j: int, key: str) -> Quartiles | None:
    vals = np.array([s[j][key] for s in sizes if len(s) > j], dtype=float)
    if vals.size == 0:
        return None
    q1, med, q3 = np.percentile(vals, [25, 50, 75])
    return Quartiles(q25=float(q1), median=float(med), q75=float(q3), n=int(vals.size))


def stage_profiles(frame: pd.DataFrame, top_frac: float = 0.15) -> StageProfiles:
    """Per-stage width and depth quartiles of the best ``top_frac`` models and of all models."""
    ranked = frame.sort_values(["error", "id"])
    n_top = max(1, int(round(top_frac * len(ranked))))
    every = [_stage_sizes(s) for s in ranked["spec"]]
    top = every[:n_top]
    rows = [StageRow(stage=j + 1, top_width=_quartiles(top, j, "width"),
                     top_depth=_quartiles(top, j, "depth"),
                     all_width=_quartiles(every, j, "width"),
                     all_depth=_quartiles(every, j, "depth"))
            for j in range(max((len(s) for s in every), default=0))]
    return StageProfiles(top_frac=top_frac, n_top=n_top, n_all=len(ranked),
                         top_ids=[int(i) for i in ranked.head(n_top)["id"]], stages=rows)


def pareto_front(frame: pd.DataFrame, key: str = "flops") -> list[ParetoPoint]:
    """Trials not beaten in both error and ``key`` (lower is better), by increasing ``key``."""
    points = [ParetoPoint(id=int(i), key=key, value=float(v), error=float(e), origin=str(o))
              for i, v, e, o in zip(frame["id"], frame[key], frame["error"], frame["origin"],
                                    strict=True)]
    return pareto(points, lambda p: (p.value, p.error, p.id))
