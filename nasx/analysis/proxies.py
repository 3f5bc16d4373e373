"""How well each zero-cost proxy ranks a run's finished population (torch-free).

For every proxy (params and flops included as the baselines every proxy must beat): Kendall's
tau-b and Spearman's rho between the proxy and the validation error, over the trials that have
both, with percentile bootstrap intervals over models (seeded). Every proxy of nasx is "higher is
better", so the statistics are those of (proxy, -error): +1 means the proxy orders the models
exactly as training does, 0 means it knows nothing, and rows are ranked by rho.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from nasx.analysis.fidelity import BOOTSTRAP_B, LEVEL, RANK_METHOD, Interval, _ci, rank_stats

SIGN_NOTE = "correlations with -error (higher proxy = predicted lower error; +1 = perfect)"


@dataclass(frozen=True)
class ProxyCorrelation:
    """One proxy's rank agreement with the (negated) validation error."""

    name: str
    n: int
    spearman: float | None
    spearman_ci: Interval
    kendall: float | None
    kendall_ci: Interval


@dataclass(frozen=True)
class ProxyTable:
    """The correlations of every proxy, best Spearman first."""

    rows: list[ProxyCorrelation]
    level: float
    B: int
    seed: int
    method: str = RANK_METHOD

    def lines(self) -> list[str]:
        """One header line and one line per proxy."""
        pct = f"{round(100 * self.level)}%"
        out = [f"proxy ranking, {SIGN_NOTE}; {pct} bootstrap intervals (B={self.B},"
               f" seed {self.seed}):"]
        for r in self.rows:
            out.append(f"  {r.name:<10} n={r.n:<4} spearman {_fmt(r.spearman)}"
                       f" [{_fmt(r.spearman_ci.low)}, {_fmt(r.spearman_ci.high)}]"
                       f"  kendall {_fmt(r.kendall)}"
                       f" [{_fmt(r.kendall_ci.low)}, {_fmt(r.kendall_ci.high)}]")
        return out


def _fmt(v: float | None) -> str:
    return "  n/a" if v is None else f"{v:+.3f}"


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def correlation(name: str, proxy: np.ndarray, error: np.ndarray, *, B: int, seed: int,
                level: float) -> ProxyCorrelation:
    """Spearman's rho and Kendall's tau-b of (proxy, -error) with bootstrap intervals."""
    x, y = np.asarray(proxy, dtype=float), -np.asarray(error, dtype=float)
    n = int(x.size)
    rho = tau = None
    rho_ci = tau_ci = Interval(None, None)
    if n >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a constant proxy: NaN, shown as n/a
            tau = _finite(float(stats.kendalltau(x, y).statistic))
            rho = _finite(float(stats.spearmanr(x, y).statistic))
    if n >= 3:
        draws = np.random.default_rng(seed).integers(0, n, size=(B, n))
        boot = rank_stats(x, y, draws)
        tau_ci, rho_ci = _ci(boot[:, 0], level), _ci(boot[:, 1], level)
    return ProxyCorrelation(name=name, n=n, spearman=rho, spearman_ci=rho_ci, kendall=tau,
                            kendall_ci=tau_ci)


def proxy_table(errors: Mapping[int, float], proxies: Mapping[int, Mapping[str, float | None]],
                *, B: int = BOOTSTRAP_B, seed: int = 0, level: float = LEVEL) -> ProxyTable:
    """The correlation of every proxy found in ``proxies`` (trial id -> name -> value) with the
    ``errors`` (trial id -> validation error) of the finished population, ranked by Spearman.

    A proxy is judged on the trials where both it and the error are finite.
    """
    names = sorted({name for values in proxies.values() for name in values})
    rows = []
    for name in names:
        pairs = [(float(v), float(errors[tid])) for tid, values in proxies.items()
                 if tid in errors and math.isfinite(errors[tid])
                 and (v := values.get(name)) is not None and math.isfinite(v)]
        px = np.array([p for p, _ in pairs])
        er = np.array([e for _, e in pairs])
        rows.append(correlation(name, px, er, B=B, seed=seed, level=level))
    rows.sort(key=lambda r: (r.spearman is None, -(r.spearman or 0.0), r.name))
    return ProxyTable(rows=rows, level=level, B=B, seed=seed)
