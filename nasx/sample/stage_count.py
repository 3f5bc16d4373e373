"""Vectorised complexity of X/Y-block networks (RegNet, AnyNet) from per-stage arrays.

The counting of docs/internals.md (pycls multiply-adds) written over a batch of candidates at once, at the
level of stages: every stage's first block has stride 2 and a projection shortcut, and its other
blocks are identical, so a stage costs first + (depth - 1) * rest. Used only by the screens in
:mod:`nasx.sample.prefilter`; ``nasx.arch.complexity`` stays the reference, and tests pin that both
agree on every screened candidate.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

import numpy as np


def compatible(widths: np.ndarray, bot_mul: np.ndarray,
               group_w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(width, bottleneck width, group width) per stage after the g/b compatibility adjustment.

    v = int(max(1, w*b)); g = min(g, v); m = lcm(g, b) if b > 1 else g; v = max(m, round(v/m)*m);
    w = int(v/b), in float math like the family decoders. All arrays are (candidates, stages).
    """
    v = np.floor(np.maximum(1.0, widths * bot_mul))
    g = np.minimum(group_w, v)
    m = g
    if (bot_mul > 1).any():  # lcm is slow: only when some b > 1
        lcm = np.lcm(g.astype(np.int64), np.maximum(bot_mul, 1).astype(np.int64))
        m = np.where(bot_mul > 1, lcm, g)
    v = np.maximum(m, np.round(v / m) * m)
    return np.floor(v / bot_mul).astype(np.int64), v.astype(np.int64), g.astype(np.int64)


class _Stage(NamedTuple):
    """One stage of a batch: input width, bottleneck / output / group widths, input and output
    positions, and the SE terms (cost, activations) of its first and its other blocks."""

    w_in: np.ndarray
    wb: np.ndarray
    wo: np.ndarray
    g: np.ndarray
    hw_in: np.ndarray
    hw: np.ndarray
    se_cost: tuple[np.ndarray | int, np.ndarray | int]
    se_acts: tuple[np.ndarray | int, np.ndarray | int]


def _se_terms(se: np.ndarray, w_in: np.ndarray, wb: np.ndarray, wo: np.ndarray
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(cost, activations) of the SE of the first block (width of the block INPUT) and the rest."""
    se1 = np.where(se > 0, np.round(se * w_in), 0).astype(np.int64)
    ser = np.where(se > 0, np.round(se * wo), 0).astype(np.int64)
    cost = (np.where(se1 > 0, 2 * wb * se1 + se1 + wb, 0),
            np.where(ser > 0, 2 * wb * ser + ser + wb, 0))
    return cost, (np.where(se1 > 0, se1 + wb, 0), np.where(ser > 0, ser + wb, 0))


# (first block, other blocks) of a stage per quantity. The first block has its 1x1 in at the
# input size, stride 2 and a projection shortcut; the others stride 1 and an identity shortcut.
# Both have the grouped 3x3 (wb/g groups: 9*wb*g per position) and the 1x1 out conv with BNs.
def _flops(s: _Stage) -> tuple[np.ndarray, np.ndarray]:
    core = (9 * s.wb * s.g + s.wb * s.wo) * s.hw
    return (s.w_in * s.wb * s.hw_in + core + s.se_cost[0] + s.w_in * s.wo * s.hw,
            s.wo * s.wb * s.hw + core + s.se_cost[1])


def _params(s: _Stage) -> tuple[np.ndarray, np.ndarray]:
    core = 9 * s.wb * s.g + s.wb * s.wo + 4 * s.wb + 2 * s.wo
    return (s.w_in * s.wb + core + s.se_cost[0] + s.w_in * s.wo + 2 * s.wo,
            s.wo * s.wb + core + s.se_cost[1])


def _acts(s: _Stage) -> tuple[np.ndarray, np.ndarray]:
    return (s.wb * s.hw_in + (s.wb + s.wo) * s.hw + s.se_acts[0] + s.wo * s.hw,
            s.wb * s.hw + (s.wb + s.wo) * s.hw + s.se_acts[1])


_BLOCKS = {"flops": _flops, "params": _params, "acts": _acts}


def count_stages(
    depths: np.ndarray, w_out: np.ndarray, w_b: np.ndarray, g: np.ndarray, se: np.ndarray,
    *, stem_width: np.ndarray, stem_stride: np.ndarray, in_channels: np.ndarray,
    resolution: np.ndarray, num_classes: np.ndarray, keys: Collection[str] = tuple(_BLOCKS),
) -> dict[str, np.ndarray]:
    """flops, params, acts (those in ``keys``) of a batch: 3x3 stem, bottleneck stages
    (depth 0 = absent), FC head.

    ``depths``, ``w_out`` (stage width), ``w_b`` (bottleneck width) and ``g`` (group width) are
    (candidates, stages) int arrays; the others one value per candidate.
    """
    h = (resolution - 1) // stem_stride + 1
    w_in = stem_width
    conv = 9 * in_channels * w_in
    stem = {"flops": conv * h * h, "params": conv + 2 * w_in, "acts": w_in * h * h}
    total = {key: stem[key] for key in _BLOCKS if key in keys}
    with_se = bool((se > 0).any())  # without SE its terms are 0: skip their ~20 array ops
    for k in range(depths.shape[1]):
        live, rest = depths[:, k] > 0, np.maximum(depths[:, k] - 1, 0)
        wb, wo = w_b[:, k], w_out[:, k]
        h_out = (h - 1) // 2 + 1
        se_cost, se_acts = _se_terms(se, w_in, wb, wo) if with_se else ((0, 0), (0, 0))
        stage = _Stage(w_in, wb, wo, g[:, k], h * h, h_out * h_out, se_cost, se_acts)
        for key in total:
            first, other = _BLOCKS[key](stage)
            total[key] = total[key] + live * (first + rest * other)
        h = np.where(live, h_out, h)
        w_in = np.where(live, wo, w_in)
    fc = w_in * num_classes + num_classes
    heads = {"flops": fc, "params": fc, "acts": num_classes}
    return {key: value + heads[key] for key, value in total.items()}
