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
from functools import partial
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
        num_classes=c["num_classes"].astype(np.int64), keys=wanted,
    )
    for key in wanted:
        out = idx[_outside(got[key], constraints[key])]
        out = out[codes[out] == 0]
        codes[out] = _CODE[key]


def screen_regnet(cols: Columns, defaults: Mapping[str, Any], size: int,
                  constraints: Bounds, scratch: Scratch | None = None) -> Screen | None:
    """Screen a batch of RegNet candidates; None when some column cannot be screened.
    ``scratch``: buffers a sampling pass keeps from one batch to the next (fresh ones if none)."""
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
        _regnet(idx, {k: v[idx] for k, v in c.items()}, stem_stride[idx], constraints, codes,
                scratch if scratch is not None else Scratch())
    return Screen(codes=codes)


class Scratch:
    """Buffers for the screen's (blocks, n) arrays, kept by one sampling pass between batches.

    Fresh arrays of this size cost ~100 page faults each (~0.2 ms here): the allocator returns
    the previous batch's memory to the system and takes it back. Buffers up to MAX_SCRATCH
    elements are kept; larger ones (very deep spaces) are allocated per batch.
    """

    MAX_SCRATCH = 1 << 18  # 2 MiB a buffer: 2048 candidates of depth 128

    def __init__(self) -> None:
        self.kept: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, int], dtype: type) -> np.ndarray:
        """An uninitialised array of ``shape``, a view of the kept buffer ``name`` if it fits."""
        size = shape[0] * shape[1]
        if size > self.MAX_SCRATCH:
            return np.empty(shape, dtype)
        buf = self.kept.get(name)
        if buf is None or buf.size < size:
            buf = self.kept[name] = np.empty(size, dtype)
        return buf[:size].reshape(shape)


def _stage_index(d: np.ndarray, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray,
                 scratch: Scratch) -> np.ndarray:
    """s_j = round(log(u_j / w0) / log(wm)) as (block j, candidate): the decoder's operations.

    Blocks past a candidate's depth repeat its last block (j clamped to depth - 1), so they give
    the same bits again: maxima and runs need no mask. Blocks run down the rows so that the
    per-candidate reductions work along whole rows (~10x faster than along short rows).
    """
    s = scratch.get("s", (int(d.max()), len(d)), np.float64)
    np.minimum(np.arange(s.shape[0], dtype=float)[:, None], d - 1, out=s)
    np.multiply(s, wa, out=s)
    np.add(s, w0, out=s)
    np.divide(s, w0, out=s)
    np.log(s, out=s)
    np.divide(s, np.log(wm), out=s)
    return np.round(s, out=s)


def _quantised_widths(s: np.ndarray, max_s: np.ndarray, hope: np.ndarray, w0: np.ndarray,
                      wm: np.ndarray, scratch: Scratch) -> np.ndarray:
    """w_j = round(w0 * wm**s_j / q) * q per (block, candidate), from a table over the s values.

    np.power(wm, k) on the same (wm, k) as the decoder's np.power(wm, s) gives the same bits,
    so the table (n, max s + 1) replaces the power chain over every block. Rows without
    ``hope`` (max s not in 0..depth-1) are invalid whatever their widths: they read entries
    clipped into range. Overwrites ``s``.
    """
    n_k = int(max_s[hope].max()) + 1 if hope.any() else 1
    k = np.arange(n_k, dtype=float)
    table = np.round(np.divide(w0[:, None] * np.power(wm[:, None], k[None, :]), QUANT)
                     ).astype(np.int64)
    table *= QUANT
    # s is integral, +inf or nan (only where max s is nan: no hope); the index of (j, i) in the
    # flat table is s + i * n_k, in range after the clip but for nan, whose int 'clip' mode
    # brings into range ('raise' would also copy out first)
    np.clip(s, 0, n_k - 1, out=s)
    at = scratch.get("at", s.shape, np.intp)
    np.add(s, np.arange(0, s.shape[1] * n_k, n_k, dtype=float), out=at, casting="unsafe")
    return np.take(table.ravel(), at, out=scratch.get("w", s.shape, np.int64), mode="clip")


def _regnet(idx: np.ndarray, c: dict[str, np.ndarray], stem_stride: np.ndarray,
            constraints: Bounds, codes: np.ndarray, scratch: Scratch) -> None:
    """Judge screenable RegNet candidates: validity, stage count, then complexity."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = _stage_index(c["depth"], c["w0"], c["wa"], c["wm"], scratch)
        max_s = s.max(axis=0)
        # valid needs max s + 1 == the number of runs, which is in 1..depth
        hope = (max_s >= 0) & (max_s < c["depth"])
        w = _quantised_widths(s, max_s, hope, c["w0"], c["wm"], scratch)
    change = scratch.get("change", w.shape, np.bool_)
    np.not_equal(w[1:], w[:-1], out=change[1:])
    change[0] = True
    # int16 holds any count (depth <= 1000) and sums ~4x faster than the default int64
    n_stages = np.add.reduce(change, axis=0, dtype=np.int16).astype(np.intp)
    ok = (n_stages == max_s + 1) & (w[0] > 0) & hope
    codes[idx[~ok]] = _CODE[INVALID]
    if "num_stages" in constraints:
        bad = ok & _outside(n_stages, constraints["num_stages"])
        codes[idx[bad]] = _CODE["num_stages"]
        ok &= ~bad
    if not ok.any() or not any(k in constraints for k in COMPLEXITY_KEYS):
        return
    at = np.flatnonzero(ok)
    depths, widths = _runs(change, w, at, n_stages[at], c["depth"][at].astype(np.int64))
    c = {k: c[k][at] for k in ("bot_mul", "group_w", "se_ratio", *INPUT_KEYS)}
    _complexity_verdicts(idx[at], c, stem_stride[at], depths, widths, c["bot_mul"][:, None],
                         c["group_w"][:, None], constraints, codes)


def _runs(change: np.ndarray, w: np.ndarray, at: np.ndarray, n_stages: np.ndarray,
          d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(depths, widths) per stage of the candidates ``at``: the runs of equal widths.

    ``change`` marks (block, candidate) where a run starts; stages a candidate does not have get
    depth 0 and width 0.
    """
    n, n_max = len(at), int(n_stages.max())
    # (candidate, block) order: each candidate's run starts come out together, in stage order,
    # which is the order a boolean mask over (candidate, stage) assigns in
    rows, cols = np.nonzero(change.T[at])
    has = np.arange(n_max) < n_stages[:, None]
    starts = np.repeat(d[:, None], n_max + 1, axis=1)
    starts[:, :-1][has] = cols
    widths = np.zeros((n, n_max), dtype=np.int64)
    widths[has] = w[cols, at[rows]]
    return np.diff(starts, axis=1), widths


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


def _regnet_pass() -> Screener:
    return partial(screen_regnet, scratch=Scratch())


def _anynet_pass() -> Screener:
    return screen_anynet


# family -> a new screen for one sampling pass (which may keep buffers between its batches)
SCREENS: dict[str, Callable[[], Screener]] = {"regnet": _regnet_pass, "anynet": _anynet_pass}
