"""Exact, vectorised screening of RegNet candidates before the per-candidate decode.

A 400MF RegNet space accepts about 1 candidate in 250, so ``nasx sample spaces/regnet.yaml --n 500``
looks at ~120k candidates; decoding each through ``nasx.arch`` costs ~200 us. This module applies
the DESIGN.md RegNet formulas (quantised widths, compatibility adjustment, pycls counting) to a
whole batch with numpy and rejects what is certainly invalid or outside a constraint. Survivors are
still decoded and counted by ``nasx.arch``, so a screen that is too lenient cannot admit a wrong
architecture; tests pin that the screen agrees exactly with ``nasx.arch`` (it must never reject what
``nasx.arch`` would accept).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

QUANT = 8


Bounds = Mapping[str, tuple[float | None, float | None]]


@dataclass(frozen=True)
class Screen:
    """Per-candidate verdicts of a batch: a rejection reason, or None to pass to the decoder."""

    reasons: np.ndarray  # object array: "invalid", the violated constraint key, or None


def _outside(x: np.ndarray, bounds: tuple[float | None, float | None]) -> np.ndarray:
    lo, hi = bounds
    out = np.zeros(x.shape, dtype=bool)
    if lo is not None:
        out |= x < lo
    if hi is not None:
        out |= x > hi
    return out


def _column(cols: Mapping[str, np.ndarray], defaults: Mapping[str, Any], key: str,
            size: int) -> np.ndarray | None:
    """A key's column as float64 (the family default when the space does not set it)."""
    if key in cols:
        try:
            return np.asarray(cols[key], dtype=float)
        except (TypeError, ValueError):
            return None  # a non-numeric value: leave it to the family decoder's error
    value = defaults.get(key)
    if value is None or isinstance(value, (str, bool)):
        return None
    return np.full(size, float(value))


def screen_regnet(cols: Mapping[str, np.ndarray], defaults: Mapping[str, Any], size: int,
                  constraints: Bounds) -> Screen | None:
    """Screen a batch of RegNet candidates; None when some column cannot be screened."""
    keys = ("depth", "w0", "wa", "wm", "group_w", "bot_mul", "se_ratio", "stem_width",
            "resolution", "in_channels", "num_classes")
    c = {k: _column(cols, defaults, k, size) for k in keys}
    if any(v is None for v in c.values()):
        return None
    stem = cols["stem"] if "stem" in cols else np.full(size, defaults.get("stem"), dtype=object)
    stem_stride = np.where(stem == "imagenet", 2, np.where(stem == "cifar", 1, 0))
    d, w0, wa, wm = c["depth"], c["w0"], c["wa"], c["wm"]
    b, se = c["bot_mul"], c["se_ratio"]
    ints = [c[k] for k in ("depth", "group_w", "stem_width", "resolution", "in_channels",
                           "num_classes")]
    known = (
        np.logical_and.reduce([(x >= 1) & (x == np.floor(x)) & (x < 2**31) for x in ints])
        & (w0 > 0) & (wa >= 0) & (wm > 1) & (b > 0) & ((b <= 1) | (b == np.floor(b)))
        & (se >= 0) & (stem_stride > 0) & np.isfinite(wa) & np.isfinite(wm) & (d <= 4096)
    )
    reasons = np.full(size, None, dtype=object)
    idx = np.flatnonzero(known)
    if idx.size:
        _screen(idx, {k: v[idx] for k, v in c.items()}, stem_stride[idx], constraints, reasons)
    return Screen(reasons=reasons)


def _screen(idx: np.ndarray, c: dict[str, np.ndarray], stem_stride: np.ndarray,
            constraints: Bounds, reasons: np.ndarray) -> None:
    """Judge the screenable candidates ``idx``: validity, stage count, then complexity."""
    d = c["depth"].astype(np.int64)
    w0, wa, wm = c["w0"], c["wa"], c["wm"]
    j = np.arange(int(d.max()))
    u = j[None, :] * wa[:, None] + w0[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.round(np.log(u / w0[:, None]) / np.log(wm)[:, None])
        w = np.round(np.divide(w0[:, None] * np.power(wm[:, None], s), QUANT)).astype(np.int64)
    w *= QUANT
    inside = j[None, :] < d[:, None]
    change = np.zeros_like(inside)
    change[:, 1:] = (w[:, 1:] != w[:, :-1]) & inside[:, 1:]
    change[:, 0] = True
    n_stages = change.sum(axis=1)
    max_s = np.where(inside, s, -np.inf).max(axis=1)
    ok = (n_stages == max_s + 1) & (w[:, 0] > 0)
    reasons[idx[~ok]] = "invalid"
    if "num_stages" in constraints:
        bad = ok & _outside(n_stages, constraints["num_stages"])
        reasons[idx[bad]] = "num_stages"
        ok &= ~bad
    wanted = [k for k in ("flops", "params", "acts") if k in constraints]
    if not wanted or not ok.any():
        return
    # count only the candidates still in the running
    idx, w, d, change, stem_stride = idx[ok], w[ok], d[ok], change[ok], stem_stride[ok]
    c = {k: v[ok] for k, v in c.items()}

    # Stages: the runs of equal widths. Block counts follow from where each run starts.
    n, n_max = len(idx), int(n_stages[ok].max())
    rows, cols = np.nonzero(change)
    stage = np.cumsum(change, axis=1)[rows, cols] - 1
    starts = np.repeat(d[:, None], n_max + 1, axis=1)
    starts[rows, stage] = cols
    widths = np.zeros((n, n_max), dtype=np.int64)
    widths[rows, stage] = w[rows, cols]
    depths = np.diff(starts, axis=1)  # 0 for stages a candidate does not have

    # Compatibility of each stage width with g and b (DESIGN.md), as float math like the decoder.
    b = c["bot_mul"][:, None]
    v = np.floor(np.maximum(1.0, widths * b))
    g_eff = np.minimum(c["group_w"][:, None], v)
    m = g_eff
    if (b > 1).any():  # lcm is slow: only when some b > 1
        m = np.where(b > 1, np.lcm(g_eff.astype(np.int64), np.maximum(b, 1).astype(np.int64)), m)
    v = np.maximum(m, np.round(v / m) * m)
    w_out_all = np.floor(v / b).astype(np.int64)
    w_b_all = v.astype(np.int64)
    g_all = g_eff.astype(np.int64)

    h = (c["resolution"].astype(np.int64) - 1) // stem_stride + 1
    w_in = c["stem_width"].astype(np.int64)
    conv = 9 * c["in_channels"].astype(np.int64) * w_in
    flops = conv * h * h
    params = conv + 2 * w_in
    acts = w_in * h * h
    se = c["se_ratio"]
    for k in range(n_max):
        # the first block: stride 2 on the 3x3 conv, a projection shortcut
        live, rest = depths[:, k] > 0, np.maximum(depths[:, k] - 1, 0)
        wb, wo, gk = w_b_all[:, k], w_out_all[:, k], g_all[:, k]
        h_out = (h - 1) // 2 + 1
        hw_in, hw = h * h, h_out * h_out
        core_f = (9 * wb * gk + wb * wo) * hw
        core_p = 9 * wb * gk + wb * wo + 4 * wb + 2 * wo
        se1 = np.where(se > 0, np.round(se * w_in), 0).astype(np.int64)
        ser = np.where(se > 0, np.round(se * wo), 0).astype(np.int64)
        se1_cost = np.where(se1 > 0, 2 * wb * se1 + se1 + wb, 0)
        ser_cost = np.where(ser > 0, 2 * wb * ser + ser + wb, 0)
        f1 = w_in * wb * hw_in + core_f + se1_cost + w_in * wo * hw
        p1 = w_in * wb + core_p + se1_cost + w_in * wo + 2 * wo
        a1 = wb * hw_in + (wb + wo) * hw + np.where(se1 > 0, se1 + wb, 0) + wo * hw
        # the other blocks: stride 1, identity shortcut, all alike
        fr = wo * wb * hw + core_f + ser_cost
        pr = wo * wb + core_p + ser_cost
        ar = wb * hw + (wb + wo) * hw + np.where(ser > 0, ser + wb, 0)
        flops = flops + live * (f1 + rest * fr)
        params = params + live * (p1 + rest * pr)
        acts = acts + live * (a1 + rest * ar)
        h = np.where(live, h_out, h)
        w_in = np.where(live, wo, w_in)
    classes = c["num_classes"].astype(np.int64)
    fc = w_in * classes + classes
    got = {"flops": flops + fc, "params": params + fc, "acts": acts + classes}
    for key in wanted:  # the first violated constraint names the rejection
        out = idx[_outside(got[key], constraints[key])]
        out = out[reasons[out] == None]  # noqa: E711 (elementwise on an object array)
        reasons[out] = key


Screener = Callable[[Mapping[str, np.ndarray], Mapping[str, Any], int, Bounds], Screen | None]
SCREENS: dict[str, Screener] = {
    "regnet": screen_regnet,
}
