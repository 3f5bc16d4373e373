"""RegNet: stage widths and depths from a quantised linear parameterisation (Radosavovic 2020).

Keys: depth (d), w0, wa, wm, group_w (g), bot_mul (b, 1.0), se_ratio (0 = RegNetX, 0.25 =
RegNetY), stem_width (32), stem (``imagenet`` 3x3 stride 2 | ``cifar`` 3x3 stride 1), plus the
input keys. Every stage is a run of X blocks (residual bottleneck, grouped 3x3) whose first block
has stride 2.
"""

from __future__ import annotations

import math

import numpy as np

from nasx.arch.families.base import Family, make_family, num_stages, read_input
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.errors import InvalidSample

QUANT = 8  # widths are multiples of q = 8 (docs/internals.md, "Reference formulas")
STEMS = ("imagenet", "cifar")


def quantized_stages(
    depth: int, w0: float, wa: float, wm: float, q: int = QUANT
) -> tuple[list[int], list[int]]:
    """(widths, depths) of the stages of a RegNet; InvalidSample when the sample is degenerate.

    u_j = w0 + wa*j, s_j = round(log(u_j/w0)/log(wm)), w_j = round(w0*wm^s_j/q)*q with numpy's
    round-half-to-even; valid only if the number of distinct widths is max(s_j) + 1.
    """
    u = np.arange(depth) * wa + w0
    s = np.round(np.log(u / w0) / np.log(wm))
    w = np.round(np.divide(w0 * np.power(wm, s), q)).astype(int) * q
    widths, depths = np.unique(w, return_counts=True)  # w is non-decreasing: stage order
    n_expected = int(s.max()) + 1
    if len(widths) != n_expected:
        raise InvalidSample(
            f"regnet: quantisation gives {len(widths)} distinct widths but max(s_j)+1 = "
            f"{n_expected} (d={depth}, w0={w0:g}, wa={wa:g}, wm={wm:g})"
        )
    if widths[0] <= 0:
        raise InvalidSample(f"regnet: quantised width {int(widths[0])} <= 0", key="w0")
    return [int(x) for x in widths], [int(x) for x in depths]


def adjust_compat(width: int, bot_mul: float, group_w: int) -> tuple[int, int, int]:
    """Make a stage compatible with its group width and bottleneck multiplier.

    Returns (width, bottleneck width, group width) with the bottleneck a multiple of the group
    width (docs/internals.md: v = int(max(1, w*b)), g = min(g, v), m = lcm(g, b) if b > 1 else g,
    v = max(m, round(v/m)*m), w = int(v/b)).
    """
    if bot_mul > 1 and not float(bot_mul).is_integer():
        # lcm(g, b) is undefined for a fractional b > 1: no width makes both exact.
        raise InvalidSample(f"a bot_mul > 1 must be an integer, got {bot_mul:g}", key="bot_mul")
    v = int(max(1, width * bot_mul))
    g = int(min(group_w, v))
    m = math.lcm(g, int(bot_mul)) if bot_mul > 1 else g
    v = max(m, int(round(v / m) * m))
    return int(v / bot_mul), v, g


def bottleneck_stage(
    depth: int, width: int, bot_mul: float, group_w: int, se_ratio: float, stride: int = 2
) -> StageSpec:
    """An X/Y-block stage (compatibility-adjusted), its first block carrying ``stride``."""
    w, w_b, g = adjust_compat(width, bot_mul, group_w)
    return StageSpec(
        block="bottleneck", depth=depth, width=w, stride=stride, bottleneck=w_b,
        groups=w_b // g, kernel=3, se_ratio=se_ratio, act="relu",
    )


def stem_spec(kind: str, width: int) -> StemSpec:
    """The AnyNet stem: 3x3 conv, stride 2 (``imagenet``) or 1 (``cifar``), BN, ReLU."""
    return StemSpec(width=width, kernel=3, stride=2 if kind == "imagenet" else 1, act="relu")


def build(r: ValueReader) -> ArchSpec:
    """Decode RegNet values to an ArchSpec."""
    resolution, in_channels, num_classes = read_input(r)
    depth = r.integer("depth", lo=1)
    w0 = r.number("w0", gt=0)
    wa = r.number("wa", lo=0)
    wm = r.number("wm", gt=1)
    group_w = r.integer("group_w", lo=1)
    bot_mul = r.number("bot_mul", gt=0)
    se_ratio = r.number("se_ratio", lo=0)
    stem = r.choice("stem", STEMS)
    stem_width = r.integer("stem_width", lo=1)
    widths, depths = quantized_stages(depth, w0, wa, wm)
    stages = tuple(
        bottleneck_stage(d, w, bot_mul, group_w, se_ratio) for w, d in zip(widths, depths, strict=True)
    )
    return ArchSpec(
        family="regnet", stem=stem_spec(stem, stem_width), stages=stages,
        head=HeadSpec(num_classes=num_classes), resolution=resolution, in_channels=in_channels,
    )


FAMILY: Family = make_family(
    "regnet",
    keys={"depth", "w0", "wa", "wm", "group_w", "bot_mul", "se_ratio", "stem_width", "stem"},
    defaults={"bot_mul": 1.0, "se_ratio": 0.0, "stem_width": 32, "stem": "imagenet"},
    build=build,
    derived=num_stages,
    doc="RegNet X/Y: quantised linear widths (depth, w0, wa, wm, group_w, bot_mul, se_ratio).",
)
