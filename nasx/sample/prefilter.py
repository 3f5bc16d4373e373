"""Exact, vectorised screening of RegNet and AnyNet candidates before the per-candidate decode.

A 400MF space accepts about 1 candidate in 100 (AnyNet) to 250 (RegNet), so sampling 500 trials
looks at 50k-125k candidates; decoding each through ``nasx.arch`` costs ~200 us. A screen applies
the formulas of docs/internals.md (quantised widths, compatibility adjustment, pycls counting) to a whole
batch with numpy and rejects what is certainly invalid or outside a constraint. Survivors are still
decoded and counted by ``nasx.arch``, so a screen that is too lenient cannot admit a wrong
architecture; tests pin that each screen agrees exactly with ``nasx.arch`` (it must never reject
what ``nasx.arch`` would accept). Candidates a screen cannot read pass through to the decoder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasx.arch.families.anynet import MODEL as ANYNET
from nasx.arch.families.model import ValueModel
from nasx.arch.families.regnet import MODEL as REGNET
from nasx.constants import WIDTH_QUANTUM as QUANT
from nasx.sample.accept import COMPLEXITY_KEYS, INVALID
from nasx.sample.stage_count import compatible, count_stages

Bounds = Mapping[str, tuple[float | None, float | None]]
Columns = Mapping[str, np.ndarray]
INPUT_KEYS = ("stem_width", "resolution", "in_channels", "num_classes")


# The reasons a screen can give, coded 1.. in this order (0: passed to the decoder): small ints
# keep the per-batch bookkeeping in numpy (an object array of names cost ~10% of `nasx sample`).
LABELS: tuple[str, ...] = (INVALID, "num_stages", *COMPLEXITY_KEYS)
_CODE = {label: code for code, label in enumerate(LABELS, start=1)}


@dataclass(frozen=True)
class Screen:
    """Per-candidate verdicts of a batch: a rejection reason, or none to pass to the decoder."""

    codes: np.ndarray  # int8: 0 passed, else 1 + the index of the reason in LABELS

    @property
    def reasons(self) -> np.ndarray:
        """Object array: INVALID, the violated constraint key, or None (passed)."""
        names = np.array([None, *LABELS], dtype=object)
        return names[self.codes]

    def passed(self) -> np.ndarray:
        """Indices of the candidates the decoder must judge."""
        return np.flatnonzero(self.codes == 0)

    def rejected(self, upto: int) -> dict[str, int]:
        """Rejections by reason among the first ``upto`` candidates."""
        counts = np.bincount(self.codes[:upto], minlength=len(LABELS) + 1)
        return {LABELS[i - 1]: int(n) for i, n in enumerate(counts.tolist()) if i and n}


def _outside(x: np.ndarray, bounds: tuple[float | None, float | None]) -> np.ndarray:
    lo, hi = bounds
    out = np.zeros(x.shape, dtype=bool)
    if lo is not None:
        out |= x < lo
    if hi is not None:
        out |= x > hi
    return out


def _column(cols: Columns, defaults: Mapping[str, Any], keys: tuple[str, ...],
            size: int) -> np.ndarray | None:
    """The first of ``keys`` set in the batch (else in the family defaults) as float64."""
    for key in keys:
        if key in cols:
            try:
                return np.asarray(cols[key], dtype=float)
            except (TypeError, ValueError):
                return None  # a non-numeric value: leave it to the family decoder's error
    for key in keys:
        value = defaults.get(key)
        if value is not None:
            if isinstance(value, (str, bool)):
                return None
            return np.full(size, float(value))
    return None


def _stem_stride(cols: Columns, defaults: Mapping[str, Any], size: int) -> np.ndarray:
    """2 for the imagenet stem, 1 for cifar, 0 for anything the decoder must judge."""
    if "stem" not in cols:  # one value for the whole batch
        stem = defaults.get("stem")
        return np.full(size, 2 if stem == "imagenet" else 1 if stem == "cifar" else 0)
    stem = cols["stem"]
    return np.where(stem == "imagenet", 2, np.where(stem == "cifar", 1, 0))


def _common(model: ValueModel, c: dict[str, np.ndarray], stem_stride: np.ndarray) -> np.ndarray:
    """Whether the stem, input and SE values are ones the screen can count (in their ranges)."""
    return model.admits({k: c[k] for k in (*INPUT_KEYS, "se_ratio")}) & (stem_stride > 0)


def _bot_mul_ok(b: np.ndarray) -> np.ndarray:
    """A bottleneck multiplier the width rounding can use: a fraction, or a whole number."""
    return (b <= 1) | (b == np.floor(b))


def _complexity_verdicts(idx: np.ndarray, c: dict[str, np.ndarray], stem_stride: np.ndarray,
                         depths: np.ndarray, widths: np.ndarray, bot_mul: np.ndarray,
                         group_w: np.ndarray, constraints: Bounds, codes: np.ndarray) -> None:
    """Count the candidates ``idx`` and name the first complexity constraint each violates."""
    wanted = [k for k in COMPLEXITY_KEYS if k in constraints]
    if not wanted or not idx.size:
        return
    w_out, w_b, g = compatible(widths, bot_mul, group_w)
    got = count_stages(
        depths, w_out, w_b, g, c["se_ratio"], stem_width=c["stem_width"].astype(np.int64),
        stem_stride=stem_stride, in_channels=c["in_channels"].astype(np.int64),
        resolution=c["resolution"].astype(np.int64),
        num_classes=c["num_classes"].astype(np.int64),
    )
    for key in wanted:
        out = idx[_outside(got[key], constraints[key])]
        out = out[codes[out] == 0]
        codes[out] = _CODE[key]


def screen_regnet(cols: Columns, defaults: Mapping[str, Any], size: int,
                  constraints: Bounds) -> Screen | None:
    """Screen a batch of RegNet candidates; None when some column cannot be screened."""
    keys = ("depth", "w0", "wa", "wm", "group_w", "bot_mul", "se_ratio", *INPUT_KEYS)
    col = {k: _column(cols, defaults, (k,), size) for k in keys}
    if any(v is None for v in col.values()):
        return None
    c: dict[str, np.ndarray] = {k: v for k, v in col.items() if v is not None}
    stem_stride = _stem_stride(cols, defaults, size)
    # Ranges from the family's value model: the screen counts what the decoder would accept.
    known = (_common(REGNET, c, stem_stride) & _bot_mul_ok(c["bot_mul"])
             & REGNET.admits({k: c[k] for k in ("depth", "w0", "wa", "wm", "group_w",
                                                  "bot_mul")}))
    codes = np.zeros(size, dtype=np.int8)
    idx = np.flatnonzero(known)
    if idx.size:
        _regnet(idx, {k: v[idx] for k, v in c.items()}, stem_stride[idx], constraints, codes)
    return Screen(codes=codes)


def _regnet(idx: np.ndarray, c: dict[str, np.ndarray], stem_stride: np.ndarray,
            constraints: Bounds, codes: np.ndarray) -> None:
    """Judge screenable RegNet candidates: validity, stage count, then complexity."""
    d = c["depth"].astype(np.int64)
    w0, wa, wm = c["w0"], c["wa"], c["wm"]
    j = np.arange(int(d.max()))
    u = j[None, :] * wa[:, None] + w0[:, None]  # the decoder's exact float expression order
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
    codes[idx[~ok]] = _CODE[INVALID]
    if "num_stages" in constraints:
        bad = ok & _outside(n_stages, constraints["num_stages"])
        codes[idx[bad]] = _CODE["num_stages"]
        ok &= ~bad
    if not ok.any():
        return
    idx, w, d, change = idx[ok], w[ok], d[ok], change[ok]
    c = {k: v[ok] for k, v in c.items()}
    # Stages are the runs of equal widths; their depths follow from where each run starts.
    n, n_max = len(idx), int(n_stages[ok].max())
    rows, cols = np.nonzero(change)
    stage = np.cumsum(change, axis=1)[rows, cols] - 1
    starts = np.repeat(d[:, None], n_max + 1, axis=1)
    starts[rows, stage] = cols
    widths = np.zeros((n, n_max), dtype=np.int64)
    widths[rows, stage] = w[rows, cols]
    depths = np.diff(starts, axis=1)  # 0 for stages a candidate does not have
    _complexity_verdicts(idx, c, stem_stride[ok], depths, widths, c["bot_mul"][:, None],
                         c["group_w"][:, None], constraints, codes)


def _anynet_stages(cols: Columns) -> int:
    """The number of stages: the highest per-stage index in the batch (as the decoder counts)."""
    found = [int(k.rsplit("_", 1)[1]) for k in cols
             if k.rsplit("_", 1)[0] in ("depth", "width", "bot_mul", "group_w")
             and k.rsplit("_", 1)[-1].isdigit()]
    return max(found, default=0)


def screen_anynet(cols: Columns, defaults: Mapping[str, Any], size: int,
                  constraints: Bounds) -> Screen | None:
    """Screen a batch of AnyNet candidates; None when some column cannot be screened."""
    n_stages = _anynet_stages(cols)
    if n_stages == 0:
        return None
    per: dict[str, list[np.ndarray]] = {}
    for key in ("depth", "width", "bot_mul", "group_w"):
        stage_cols = [_column(cols, defaults, (f"{key}_{i}", key), size)
                      for i in range(1, n_stages + 1)]
        if any(x is None for x in stage_cols):
            return None
        per[key] = [x for x in stage_cols if x is not None]
    col = {k: _column(cols, defaults, (k,), size) for k in ("se_ratio", *INPUT_KEYS)}
    if any(v is None for v in col.values()):
        return None
    c: dict[str, np.ndarray] = {k: v for k, v in col.items() if v is not None}
    depths, widths, b, g = (np.stack(per[k], axis=1)
                            for k in ("depth", "width", "bot_mul", "group_w"))
    stem_stride = _stem_stride(cols, defaults, size)
    key = ANYNET.by_name
    known = _common(ANYNET, c, stem_stride) & (
        key["depth"].admits(depths) & key["width"].admits(widths) & key["group_w"].admits(g)
        & key["bot_mul"].admits(b) & _bot_mul_ok(b)).all(axis=1)
    codes = np.zeros(size, dtype=np.int8)
    if "num_stages" in constraints and _outside(np.array([n_stages]),
                                                constraints["num_stages"])[0]:
        codes[known] = _CODE["num_stages"]
        return Screen(codes=codes)
    idx = np.flatnonzero(known)
    _complexity_verdicts(idx, {k: v[idx] for k, v in c.items()}, stem_stride[idx],
                         depths[idx].astype(np.int64), widths[idx], b[idx], g[idx], constraints,
                         codes)
    return Screen(codes=codes)


Screener = Callable[[Columns, Mapping[str, Any], int, Bounds], Screen | None]
SCREENS: dict[str, Screener] = {"regnet": screen_regnet, "anynet": screen_anynet}
