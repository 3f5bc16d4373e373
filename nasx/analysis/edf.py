"""Error EDFs, complexity-normalised EDFs (NDS) and their uncertainty bands.

Conventions (docs/internals.md):

- ``F(e) = sum_i w_i 1[e_i < e]`` with ``w_i = 1/n`` for the plain EDF. The step function is
  reported at every distinct error ``x_j`` twice: ``F`` (the value AT x_j, strict ``<``, as the
  formula says) and ``F_after`` (the value just after the jump, i.e. ``sum w_i 1[e_i <= x_j]``).
- Normalised EDF: the complexity range is split into K bins, log-spaced (complexities span
  orders of magnitude; the edges are ``numpy.geomspace(min, max, K + 1)``, the last bin closed on
  the right). ``w_i = 1 / (K' * n_b(i))`` where K' is the number of NON-EMPTY bins, so that the
  weights sum to 1 even when some bins are empty; empty bins are listed as dropped.
- Bands: DKW, ``eps = sqrt(ln(2/alpha) / (2 n))``; for weighted EDFs n is the Kish effective
  sample size ``n_eff = 1 / sum(w_i^2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nasx.types import JSONValue

SPACING = "log"  # of the complexity bins: complexities span orders of magnitude


@dataclass(frozen=True)
class EDF:
    """A (possibly weighted) error EDF with its DKW band."""

    x: np.ndarray  # distinct errors, ascending
    F: np.ndarray  # F(x_j) = sum w_i 1[e_i < x_j]
    F_after: np.ndarray  # sum w_i 1[e_i <= x_j]
    n: int
    n_eff: float
    alpha: float
    eps: float
    band_method: str

    @property
    def lower(self) -> np.ndarray:
        """Lower DKW band of F_after, clipped to [0, 1]."""
        return np.clip(self.F_after - self.eps, 0.0, 1.0)

    @property
    def upper(self) -> np.ndarray:
        """Upper DKW band of F_after, clipped to [0, 1]."""
        return np.clip(self.F_after + self.eps, 0.0, 1.0)

    def __call__(self, e: np.ndarray | float) -> np.ndarray:
        """Evaluate F at any errors (strict ``<``, as the formula)."""
        idx = np.searchsorted(self.x, np.asarray(e, dtype=float), side="left")
        cum = np.concatenate([[0.0], self.F_after])
        return cum[idx]

    def to_dict(self) -> dict[str, JSONValue]:
        """JSON-able values of the EDF and its band."""
        return {
            "x": self.x.tolist(), "F": self.F.tolist(), "F_after": self.F_after.tolist(),
            "lower": self.lower.tolist(), "upper": self.upper.tolist(), "n": self.n,
            "n_eff": self.n_eff, "alpha": self.alpha, "eps": self.eps,
            "band_method": self.band_method,
        }


def edf_distance(a: EDF, b: EDF) -> float:
    """Largest vertical gap sup_e |F_a(e) - F_b(e)| between two (weighted) EDFs (a KS D)."""
    x = np.union1d(a.x, b.x)
    # Both step functions are constant between jumps, so checking just after every jump suffices.
    fa = np.concatenate([[0.0], a.F_after])[np.searchsorted(a.x, x, side="right")]
    fb = np.concatenate([[0.0], b.F_after])[np.searchsorted(b.x, x, side="right")]
    return float(np.max(np.abs(fa - fb)))


def dkw_band(n: float, alpha: float = 0.05) -> float:
    """Half-width of the DKW confidence band of an EDF of n samples: sqrt(ln(2/alpha)/(2n))."""
    if n <= 0:
        return 1.0
    return math.sqrt(math.log(2.0 / alpha) / (2.0 * n))


def edf(errors: np.ndarray, weights: np.ndarray | None = None, alpha: float = 0.05) -> EDF:
    """The EDF of ``errors`` (weights default to 1/n) with a DKW band (Kish n_eff if weighted)."""
    e = np.asarray(errors, dtype=float)
    if e.size == 0:
        raise ValueError("edf() needs at least one error")
    if weights is None:
        w = np.full(e.size, 1.0 / e.size)
        n_eff, method = float(e.size), "DKW, n = number of models"
    else:
        w = np.asarray(weights, dtype=float)
        n_eff = float(1.0 / np.sum(w**2))
        method = "DKW with the Kish effective sample size n_eff = 1/sum(w^2)"
    x, inv = np.unique(e, return_inverse=True)
    mass = np.bincount(inv, weights=w, minlength=x.size)
    after = np.cumsum(mass)
    before = after - mass
    return EDF(x=x, F=before, F_after=after, n=int(e.size), n_eff=n_eff, alpha=alpha,
               eps=dkw_band(n_eff, alpha), band_method=method)


@dataclass(frozen=True)
class Bins:
    """Complexity bins of a normalised EDF."""

    key: str  # flops | params
    edges: np.ndarray  # K + 1 edges
    counts: np.ndarray  # models per bin (K)
    index: np.ndarray  # bin of each model

    @property
    def empty(self) -> list[int]:
        """Indices of the empty (dropped) bins."""
        return [int(i) for i in np.flatnonzero(self.counts == 0)]

    def to_dict(self) -> dict[str, JSONValue]:
        """JSON-able bins, naming the dropped ones."""
        return {
            "key": self.key, "spacing": SPACING, "edges": self.edges.tolist(),
            "counts": self.counts.tolist(), "K": int(self.counts.size),
            "K_nonempty": int((self.counts > 0).sum()), "empty_bins_dropped": self.empty,
            "empty_bin_ranges": [[float(self.edges[i]), float(self.edges[i + 1])]
                                 for i in self.empty],
            "index_base": 0,
        }


def complexity_bins(values: np.ndarray, bins: int, key: str = "flops",
                    lo: float | None = None, hi: float | None = None) -> Bins:
    """Assign each model to one of ``bins`` log-spaced bins over [lo, hi] (default: data range)."""
    v = np.asarray(values, dtype=float)
    if bins < 1:
        raise ValueError("bins must be >= 1")
    lo = float(v.min()) if lo is None else lo
    hi = float(v.max()) if hi is None else hi
    if lo <= 0 or hi <= lo:
        # One point (or a non-positive range): a single bin holds everything.
        edges = np.array([lo, hi if hi > lo else lo])
        return Bins(key, edges, np.array([v.size]), np.zeros(v.size, dtype=int))
    edges = np.geomspace(lo, hi, bins + 1)
    # Bin b holds edges[b] <= v < edges[b+1]; the maximum goes to the last bin.
    idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, bins - 1)
    return Bins(key, edges, np.bincount(idx, minlength=bins), idx)


def normalized_weights(b: Bins) -> np.ndarray:
    """NDS weights w_i = 1 / (K' * n_b(i)), K' = non-empty bins; they sum to 1."""
    k_nonempty = int((b.counts > 0).sum())
    return 1.0 / (k_nonempty * b.counts[b.index].astype(float))


def normalized_edf(errors: np.ndarray, complexity: np.ndarray, bins: int = 10,
                   key: str = "flops", alpha: float = 0.05,
                   lo: float | None = None, hi: float | None = None) -> tuple[EDF, Bins, np.ndarray]:
    """Complexity-normalised EDF: (EDF, its bins, the per-model weights)."""
    b = complexity_bins(complexity, bins, key, lo, hi)
    w = normalized_weights(b)
    return edf(errors, w, alpha), b, w
