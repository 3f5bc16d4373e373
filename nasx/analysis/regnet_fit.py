"""Fit the RegNet quantised linear parameterisation to a model's per-block widths (DDS 3.3).

For a model of d blocks with widths w_j, find w_0, w_a, w_m whose quantised linear widths
u_j = w_0 + w_a * j, s_j = round(log(u_j / w_0) / log(w_m)), q_j = round(w_0 * w_m^s_j / 8) * 8
(half to even, as numpy and :func:`nasx.arch.families.regnet.quantized_stages`) are closest to
w_j by the fitting error

    e_fit = mean_j |log(q_j / w_j)|       (the mean ABSOLUTE log-ratio; one rule everywhere)

d is the model's depth. The search is a vectorised grid over (w_a, w_m) for each w_0 among the
multiples of 8 around the first block's width, refined by zooming into finer grids around the
best points; torch-free, milliseconds per model. e_fit is piecewise constant in (w_a, w_m), so a
grid is the right tool; a perfect fit (e_fit = 0) stops the search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nasx.arch.spec import ArchSpec
from nasx.constants import WIDTH_QUANTUM

WM_RANGE = (1.05, 5.0)
GRID = (64, 64)  # (w_a, w_m) points of the coarse grid
ZOOM = (20, 20)  # points of each refinement grid
ROUNDS = 5  # refinement rounds
KEEP = 24  # best points refined per round
CHUNK = 4_000_000  # widths computed at once (bounds memory)


@dataclass(frozen=True)
class RegNetFit:
    """The best quantised linear fit of one model's per-block widths."""

    w0: float
    wa: float
    wm: float
    d: int
    e_fit: float
    widths: tuple[int, ...]  # the fitted per-block widths

    def to_dict(self) -> dict[str, object]:
        """JSON-able."""
        return {"w0": self.w0, "wa": self.wa, "wm": self.wm, "d": self.d,
                "e_fit": self.e_fit, "widths": list(self.widths)}


def block_widths(spec: ArchSpec) -> list[int]:
    """The per-block output widths of a model: each stage's width repeated depth times."""
    return [st.width for st in spec.stages for _ in range(st.depth)]


def block_compat(spec: ArchSpec) -> tuple[list[float], list[int]]:
    """Per-block (bottleneck multiplier, group width) of a bottleneck model (1, 1 otherwise)."""
    bots, groups = [], []
    for st in spec.stages:
        b, g = ((st.bottleneck / st.width, st.bottleneck // st.groups)
                if st.block == "bottleneck" else (1.0, 1))
        bots += [b] * st.depth
        groups += [g] * st.depth
    return bots, groups


def compatible(w: np.ndarray, bot: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Widths made compatible with each block's group width and bottleneck multiplier.

    Vectorised :func:`nasx.arch.families.bottleneck.adjust_compat` (the RegNet decoder's rule):
    v = int(max(1, w*b)), g = min(g, v), m = lcm(g, b) if b > 1 else g, v = max(m, round(v/m)*m),
    w = int(v/b).
    """
    v = np.floor(np.maximum(1.0, w * bot))
    g = np.minimum(group, v)
    m = np.where(bot > 1, np.lcm(g.astype(np.int64), np.maximum(bot, 1).astype(np.int64)), g)
    v = np.maximum(m, np.round(v / m) * m)
    return np.floor(v / bot)


def quantized(w0: np.ndarray, wa: np.ndarray, wm: np.ndarray, d: int,
              q: int = WIDTH_QUANTUM) -> np.ndarray:
    """Quantised linear widths for broadcastable parameter arrays: shape (..., d)."""
    j = np.arange(d)
    u = w0[..., None] + wa[..., None] * j
    s = np.round(np.log(u / w0[..., None]) / np.log(wm[..., None]))
    return np.round(w0[..., None] * np.power(wm[..., None], s) / q) * q


@dataclass(frozen=True)
class _Target:
    """What a fit compares with: log widths, and each block's bottleneck and group width."""

    log: np.ndarray
    bot: np.ndarray
    group: np.ndarray


def _widths(t: _Target, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray) -> np.ndarray:
    """Quantised linear widths made compatible with the target's blocks."""
    return compatible(quantized(w0, wa, wm, t.log.size), t.bot, t.group)


def _errors(t: _Target, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray) -> np.ndarray:
    """e_fit of every (w0, wa, wm) point (arrays of one shape), in chunks of bounded memory."""
    out = np.empty(w0.shape)
    step = max(1, CHUNK // t.log.size)
    for i in range(0, w0.size, step):
        w = _widths(t, w0[i:i + step], wa[i:i + step], wm[i:i + step])
        with np.errstate(divide="ignore"):
            out[i:i + step] = np.abs(np.log(np.maximum(w, 1e-9)) - t.log).mean(axis=-1)
    return out


def _coarse(t: _Target, w0s: np.ndarray, wa_hi: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """(w0, wa, log wm, e_fit) of the coarse grid, and its steps along wa and log wm."""
    wa_axis = np.linspace(0.0, wa_hi, GRID[0])
    lm_axis = np.linspace(np.log(WM_RANGE[0]), np.log(WM_RANGE[1]), GRID[1])
    w0, wa, lm = (a.ravel() for a in np.meshgrid(w0s, wa_axis, lm_axis, indexing="ij"))
    err = _errors(t, w0, wa, np.exp(lm))
    return w0, wa, lm, err, wa_axis[1] - wa_axis[0], lm_axis[1] - lm_axis[0]


def _search(t: _Target, w0s: np.ndarray, wa_hi: float) -> tuple[float, float, float, float]:
    """(e_fit, w0, wa, wm) of the best grid point, refined ROUNDS times around the best."""
    lo_m, hi_m = np.log(WM_RANGE[0]), np.log(WM_RANGE[1])
    w0, wa, lm, err, step_a, step_m = _coarse(t, w0s, wa_hi)
    for _ in range(ROUNDS):
        if err.min() == 0.0:
            break
        best = np.argsort(err, kind="stable")[:KEEP]
        da = np.linspace(-step_a, step_a, ZOOM[0])
        dm = np.linspace(-step_m, step_m, ZOOM[1])
        g0, ga, gm = np.broadcast_arrays(
            w0[best, None, None], (wa[best, None, None] + da[None, :, None]).clip(0.0, None),
            (lm[best, None, None] + dm[None, None, :]).clip(lo_m, hi_m))
        new = (g0.ravel(), ga.ravel(), gm.ravel())
        new_err = _errors(t, new[0], new[1], np.exp(new[2]))
        w0, wa, lm = (np.concatenate([a, b]) for a, b in zip((w0, wa, lm), new, strict=True))
        err = np.concatenate([err, new_err])
        step_a, step_m = 2 * step_a / (ZOOM[0] - 1), 2 * step_m / (ZOOM[1] - 1)
    i = int(np.argmin(err))
    return float(err[i]), float(w0[i]), float(wa[i]), float(np.exp(lm[i]))


def _w0_candidates(first: float, group: float) -> np.ndarray:
    """Multiples of 8 within a group width (at least 16) of the first block's width, nearest
    first: block compatibility may have moved the first width that far from w0."""
    q = WIDTH_QUANTUM
    centre = max(q, int(round(first / q)) * q)
    reach = max(2, int(math.ceil(max(group, 2 * q) / q)))
    steps = sorted(range(-reach, reach + 1), key=lambda k: (abs(k), k))
    return np.array([centre + k * q for k in steps if centre + k * q > 0], dtype=float)


def fit_spec(spec: ArchSpec) -> RegNetFit:
    """:func:`fit_widths` of a model's per-block widths, with its blocks' compatibility."""
    bots, groups = block_compat(spec)
    return fit_widths(block_widths(spec), bots, groups)


def fit_widths(widths: Sequence[int], bots: Sequence[float] | None = None,
               groups: Sequence[int] | None = None) -> RegNetFit:
    """The (w0, wa, wm) minimising e_fit for these per-block widths (d = their count).

    ``bots`` and ``groups`` (per block; default 1) make the fitted widths compatible with each
    block's bottleneck multiplier and group width, as the RegNet decoder makes its stages.
    """
    obs = np.asarray(widths, dtype=float)
    if obs.ndim != 1 or obs.size == 0 or (obs <= 0).any():
        raise ValueError("widths must be a non-empty sequence of positive widths")
    t = _Target(np.log(obs), np.asarray(bots or [1.0] * obs.size, dtype=float),
                      np.asarray(groups or [1] * obs.size, dtype=float))
    e, w0, wa, wm = _search(t, _w0_candidates(obs[0], t.group[0]),
                            2.0 * obs.max() / max(obs.size - 1, 1))
    fitted = _widths(t, np.array(w0), np.array(wa), np.array(wm))
    return RegNetFit(w0=w0, wa=wa, wm=wm, d=int(obs.size), e_fit=e,
                     widths=tuple(int(x) for x in fitted))
