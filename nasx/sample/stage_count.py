"""Vectorised complexity of X/Y-block networks (RegNet, AnyNet) from per-stage arrays.

The counting of docs/internals.md (pycls multiply-adds) written over a batch of candidates at once, at the
level of stages: every stage's first block has stride 2 and a projection shortcut, and its other
blocks are identical, so a stage costs first + (depth - 1) * rest. Used only by the screens in
:mod:`nasx.sample.prefilter`; ``nasx.arch.complexity`` stays the reference, and tests pin that both
agree on every screened candidate.
"""

from __future__ import annotations

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


def count_stages(
    depths: np.ndarray, w_out: np.ndarray, w_b: np.ndarray, g: np.ndarray, se: np.ndarray,
    *, stem_width: np.ndarray, stem_stride: np.ndarray, in_channels: np.ndarray,
    resolution: np.ndarray, num_classes: np.ndarray,
) -> dict[str, np.ndarray]:
    """flops, params, acts of a batch: 3x3 stem, bottleneck stages (depth 0 = absent), FC head.

    ``depths``, ``w_out`` (stage width), ``w_b`` (bottleneck width) and ``g`` (group width) are
    (candidates, stages) int arrays; the others one value per candidate.
    """
    h = (resolution - 1) // stem_stride + 1
    w_in = stem_width
    conv = 9 * in_channels * w_in
    flops, params, acts = conv * h * h, conv + 2 * w_in, w_in * h * h
    for k in range(depths.shape[1]):
        live, rest = depths[:, k] > 0, np.maximum(depths[:, k] - 1, 0)
        wb, wo, gk = w_b[:, k], w_out[:, k], g[:, k]
        h_out = (h - 1) // 2 + 1
        hw_in, hw = h * h, h_out * h_out
        # grouped 3x3 (wb/g groups: 9*wb*g per position) and the 1x1 out conv, with their BNs
        core_f = (9 * wb * gk + wb * wo) * hw
        core_p = 9 * wb * gk + wb * wo + 4 * wb + 2 * wo
        se1 = np.where(se > 0, np.round(se * w_in), 0).astype(np.int64)  # of the block INPUT
        ser = np.where(se > 0, np.round(se * wo), 0).astype(np.int64)
        se1_cost = np.where(se1 > 0, 2 * wb * se1 + se1 + wb, 0)
        ser_cost = np.where(ser > 0, 2 * wb * ser + ser + wb, 0)
        # first block: 1x1 in at the input size, stride 2, projection shortcut
        f1 = w_in * wb * hw_in + core_f + se1_cost + w_in * wo * hw
        p1 = w_in * wb + core_p + se1_cost + w_in * wo + 2 * wo
        a1 = wb * hw_in + (wb + wo) * hw + np.where(se1 > 0, se1 + wb, 0) + wo * hw
        # other blocks: stride 1, identity shortcut
        fr = wo * wb * hw + core_f + ser_cost
        pr = wo * wb + core_p + ser_cost
        ar = wb * hw + (wb + wo) * hw + np.where(ser > 0, ser + wb, 0)
        flops = flops + live * (f1 + rest * fr)
        params = params + live * (p1 + rest * pr)
        acts = acts + live * (a1 + rest * ar)
        h = np.where(live, h_out, h)
        w_in = np.where(live, wo, w_in)
    fc = w_in * num_classes + num_classes
    return {"flops": flops + fc, "params": params + fc, "acts": acts + num_classes}
