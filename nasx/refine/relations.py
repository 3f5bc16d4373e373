"""Test per-stage relations on a trained population (the AnyNet A -> E steps of the RegNet paper).

For a per-stage key without a relation, the candidate is ``shared`` for the bottleneck ratio and the
group width and ``non_decreasing`` for anything else (widths, depths). Every model gets a violation
count (distinct values - 1 for ``shared``; inverted stage pairs for the monotone relations); the
relation is *supported* when the top quarter of the models (lowest error) violates it less than the
rest, by a one-sided Mann-Whitney U test at ``alpha`` after Holm's adjustment over the relations
tested together (:func:`holm_adjust`: every per-stage key of the space is one test, so the chance
that any unsupported relation is added stays at most ``alpha``). The rate of models that satisfy the relation
exactly, in the top quarter and in the whole population, is reported beside it. A RegNet-like
linear width profile is reported as evidence only (a space file cannot encode it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from scipy import stats

from nasx.analysis.multiple import holm
from nasx.types import Scalar

SHARED_KEYS = ("bot_mul", "group_w")  # the paper shares these across stages (AnyNetX B, C)
ALPHA = 0.05
TOP_FRAC = 0.25


@dataclass(frozen=True)
class RelationTest:
    """The evidence for one relation on one per-stage key."""

    key: str
    relation: str
    n: int
    n_top: int
    rate_top: float  # share of the top quarter that satisfies the relation exactly
    rate_all: float  # share of the whole population that does
    violations_top: float  # mean violation count in the top quarter
    violations_rest: float
    u: float | None
    p: float | None  # one-sided Mann-Whitney U: top violates less than the rest
    supported: bool  # p_holm < alpha
    p_holm: float | None = None  # Holm-adjusted over the m_tests relations tested together
    m_tests: int = 1

    def to_dict(self) -> dict[str, Scalar]:
        """Plain dict for the lineage block."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "key"}
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}

    def sentence(self) -> str:
        """One line for the summary and the file's comments."""
        verdict = "added" if self.supported else "not supported"
        p = "n/a" if self.p is None else f"{self.p:.3g}"
        adj = "n/a" if self.p_holm is None else f"{self.p_holm:.3g}"
        return (f"{self.key}: {self.relation} {verdict} (top {self.n_top}/{self.n}: "
                f"{100 * self.rate_top:.0f}% satisfy it vs {100 * self.rate_all:.0f}% of all; "
                f"violations {self.violations_top:.2f} vs {self.violations_rest:.2f}, "
                f"Mann-Whitney p={p}, Holm-adjusted over {self.m_tests} relation"
                f"{'s' if self.m_tests != 1 else ''} tested p={adj})")


def candidate(key: str) -> str:
    """The relation tested for a per-stage key."""
    return "shared" if key in SHARED_KEYS else "non_decreasing"


def violations(matrix: np.ndarray, relation: str) -> np.ndarray:
    """Per-row violation count of ``relation`` over stage columns (0 = satisfied)."""
    if relation == "shared":
        return np.array([len(set(row.tolist())) - 1 for row in matrix], dtype=float)
    sign = 1.0 if relation == "non_decreasing" else -1.0
    s = matrix.shape[1]
    out = np.zeros(matrix.shape[0])
    for i in range(s):
        for j in range(i + 1, s):
            out += (sign * (matrix[:, j] - matrix[:, i]) < 0).astype(float)
    return out


def top_mask(errors: np.ndarray, frac: float = TOP_FRAC) -> np.ndarray:
    """Boolean mask of the best ``ceil(frac * n)`` models (ties broken by order)."""
    n_top = max(1, math.ceil(frac * errors.size))
    mask = np.zeros(errors.size, dtype=bool)
    mask[np.argsort(errors, kind="stable")[:n_top]] = True
    return mask


def _one_sided_less(a: np.ndarray, b: np.ndarray) -> tuple[float | None, float | None]:
    """Mann-Whitney U of ``a`` < ``b``; (None, None) when a side is empty or all values tie."""
    if a.size == 0 or b.size == 0 or np.unique(np.concatenate([a, b])).size < 2:
        return None, None
    res = stats.mannwhitneyu(a, b, alternative="less")
    return float(res.statistic), float(res.pvalue)


def check_relation(frame: pd.DataFrame, key: str, stages: int, relation: str,
                  alpha: float = ALPHA) -> RelationTest | None:
    """Evidence for ``relation`` on ``KEY_1..KEY_S`` of finished models (None: no such columns)."""
    cols = [f"v.{key}_{i}" for i in range(1, stages + 1)]
    if not set(cols) <= set(frame.columns):
        return None
    sub = frame[cols + ["error"]].apply(pd.to_numeric, errors="coerce").dropna()
    if len(sub) < 4:
        return None
    err = sub["error"].to_numpy(dtype=float)
    viol = violations(sub[cols].to_numpy(dtype=float), relation)
    top = top_mask(err)
    u, p = _one_sided_less(viol[top], viol[~top])
    return RelationTest(
        key=key, relation=relation, n=int(err.size), n_top=int(top.sum()),
        rate_top=float(np.mean(viol[top] == 0)), rate_all=float(np.mean(viol == 0)),
        violations_top=float(viol[top].mean()),
        violations_rest=float(viol[~top].mean()) if (~top).any() else 0.0,
        u=u, p=p, supported=p is not None and p < alpha, p_holm=p, m_tests=1,
    )


def holm_adjust(tests: list[RelationTest], alpha: float = ALPHA) -> list[RelationTest]:
    """The tests with Holm-adjusted p-values over all of them that could be made; a relation is
    supported when its adjusted p-value is below ``alpha`` (family-wise error rate alpha)."""
    adjusted = [None if a != a else float(a) for a in holm([t.p for t in tests])]  # NaN: none
    m = sum(p is not None for p in adjusted)
    return [replace(t, p_holm=a, m_tests=m, supported=a is not None and a < alpha)
            for t, a in zip(tests, adjusted, strict=True)]


class WidthEvidence(TypedDict):
    """How a linear width profile fits: written to a narrowed space's lineage, never encoded."""

    n: int
    spearman_rho: float | None  # e_fit vs error
    spearman_p: float | None
    e_fit_top: float | None  # mean e_fit of the top quarter
    e_fit_rest: float | None
    mannwhitney_p: float | None  # one-sided: the top quarter fits better than the rest
    encoded: bool


def linear_width_evidence(frame: pd.DataFrame, stages: int) -> WidthEvidence | None:
    """How well a linear per-block width profile u_j = w0 + wa*j fits the better models.

    e_fit is the mean |log w_j - log u_j| over blocks (least-squares line through the block
    widths), as in the RegNet paper; reported: its Spearman correlation with error and its mean
    in the top quarter against the rest.
    """
    wc = [f"v.width_{i}" for i in range(1, stages + 1)]
    dc = [f"v.depth_{i}" for i in range(1, stages + 1)]
    if not set(wc + dc) <= set(frame.columns):
        return None
    sub = frame[wc + dc + ["error"]].apply(pd.to_numeric, errors="coerce").dropna()
    if len(sub) < 4:
        return None
    fits = []
    for _, row in sub.iterrows():
        w = np.repeat(row[wc].to_numpy(dtype=float), row[dc].to_numpy(dtype=int))
        j = np.arange(w.size, dtype=float)
        if w.size < 2:
            fits.append(0.0)
            continue
        wa, w0 = np.polyfit(j, w, 1)
        u = np.maximum(w0 + wa * j, 1e-6)
        fits.append(float(np.mean(np.abs(np.log(w) - np.log(u)))))
    e_fit = np.asarray(fits)
    err = sub["error"].to_numpy(dtype=float)
    top = top_mask(err)
    rho, p_rho = stats.spearmanr(e_fit, err)
    _, p = _one_sided_less(e_fit[top], e_fit[~top])
    return {
        "n": int(err.size), "spearman_rho": _num(rho), "spearman_p": _num(p_rho),
        "e_fit_top": _num(e_fit[top].mean()),
        "e_fit_rest": _num(e_fit[~top].mean()) if (~top).any() else None,
        "mannwhitney_p": _num(p), "encoded": False,
    }


def _num(x: Any) -> float | None:
    x = float(x) if x is not None else math.nan
    return round(x, 6) if math.isfinite(x) else None
