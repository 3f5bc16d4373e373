"""Best-of-k errors and bootstrap good ranges of sampled parameters (DDS).

best_of_k is exact: drawing k models uniformly WITH replacement from the n finished ones, the
best error is the i-th smallest e_(i) with probability ((n-i+1)/n)^k - ((n-i)/n)^k.

good_ranges follows DDS: B times draw m = max(1, round(frac * n)) models with replacement, keep
the best (lowest error; the first drawn among ties), and report the 2.5/50/97.5 percentiles of
each parameter over those B winners. The draw is exactly
``rng.integers(0, n, size=(B, m))`` on the rows in the given order, with
``rng = numpy.random.default_rng(seed)``, so it can be reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nasx.analysis.jsonable import OMIT_NONE, json_name

PERCENTILES = (2.5, 50.0, 97.5)
GOOD_RANGE_B = 1000  # bootstrap draws of good_ranges
GOOD_RANGE_FRAC = 0.25  # share of the models in each draw (DDS)


@dataclass(frozen=True)
class BestOfK:
    """Distribution of the best error among k random models."""

    k: int
    mean: float
    std: float
    p2_5: float = field(metadata=json_name("p2.5"))
    p50: float = field(metadata=json_name("p50"))
    p97_5: float = field(metadata=json_name("p97.5"))


@dataclass(frozen=True)
class GoodRange:
    """Percentiles of one parameter over the bootstrap winners, and its range in the run."""

    p2_5: float = field(metadata=json_name("p2.5"))
    p50: float = field(metadata=json_name("p50"))
    p97_5: float = field(metadata=json_name("p97.5"))
    min: float
    max: float


@dataclass(frozen=True)
class GoodRanges:
    """The DDS bootstrap of one population: its draw and the good range of each column."""

    B: int
    m: int
    seed: int
    frac: float
    ranges: dict[str, GoodRange]
    winner_rows: list[int] | None = field(default=None, metadata=OMIT_NONE)  # wins per row


def _min_distribution(errors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted errors and P(best of k == e_(i)) for each order statistic."""
    e = np.sort(np.asarray(errors, dtype=float))
    n = e.size
    i = np.arange(1, n + 1)
    prob = ((n - i + 1) / n) ** k - ((n - i) / n) ** k
    return e, prob


def _quantile(e: np.ndarray, prob: np.ndarray, q: float) -> float:
    """Smallest e_(i) whose cumulative probability reaches q."""
    cdf = np.cumsum(prob)
    return float(e[min(int(np.searchsorted(cdf, q - 1e-12, side="left")), e.size - 1)])


def best_of_k(errors: np.ndarray, ks: list[int] | None = None) -> list[BestOfK]:
    """Expected best error among k random models, with its std and 2.5/50/97.5 percentiles."""
    e = np.asarray(errors, dtype=float)
    if e.size == 0:
        return []
    if ks is None:
        ks = [2**j for j in range(0, 11) if 2**j <= max(1, e.size)]
    out = []
    for k in ks:
        es, prob = _min_distribution(e, k)
        mean = float(np.sum(prob * es))
        std = float(np.sqrt(max(0.0, np.sum(prob * (es - mean) ** 2))))
        lo, mid, hi = (_quantile(es, prob, p / 100.0) for p in PERCENTILES)
        out.append(BestOfK(k=int(k), mean=mean, std=std, p2_5=lo, p50=mid, p97_5=hi))
    return out


def good_ranges(frame: pd.DataFrame, columns: list[str], seed: int = 0, B: int = GOOD_RANGE_B,
                frac: float = GOOD_RANGE_FRAC) -> GoodRanges:
    """DDS bootstrap good range of each numeric column over the best of random 25% subsets."""
    err = frame["error"].to_numpy(dtype=float)
    n = err.size
    if n == 0:
        return GoodRanges(B=B, m=0, seed=seed, frac=frac, ranges={})
    m = max(1, int(round(frac * n)))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(B, m))
    winners = idx[np.arange(B), np.argmin(err[idx], axis=1)]
    ranges: dict[str, GoodRange] = {}
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        w = values[winners]
        w = w[np.isfinite(w)]
        if w.size == 0:
            continue
        lo, mid, hi = np.percentile(w, PERCENTILES)
        finite = values[np.isfinite(values)]
        ranges[col] = GoodRange(p2_5=float(lo), p50=float(mid), p97_5=float(hi),
                                min=float(finite.min()), max=float(finite.max()))
    return GoodRanges(B=B, m=m, seed=seed, frac=frac, ranges=ranges,
                      winner_rows=np.bincount(winners, minlength=n).tolist())
