"""Helpers of the bottleneck (X) block families (RegNet, AnyNet): compatible widths, X stages, stem.

An X block is a residual bottleneck: 1x1 (w -> w_b), grouped 3x3 (w_b / g groups) with the stride,
optional SE (Y), 1x1 (w_b -> w). ``bot_mul`` is a multiplier: w_b = w * bot_mul (docs/spaces.md).
"""

from __future__ import annotations

import math

from nasx.arch.spec import StageSpec, StemSpec
from nasx.errors import InvalidSample

STEMS = ("imagenet", "cifar")


def adjust_compat(width: int, bot_mul: float, group_w: int) -> tuple[int, int, int]:
    """Make a stage compatible with its group width and bottleneck multiplier.

    Returns (width, bottleneck width, group width) with the bottleneck a multiple of the group
    width (docs/internals.md: v = int(max(1, w*b)), g = min(g, v), m = lcm(g, b) if b > 1 else g,
    v = max(m, round(v/m)*m), w = int(v/b)).
    """
    if bot_mul > 1 and not float(bot_mul).is_integer():
        # lcm(g, b) is undefined for a fractional b > 1: no width makes both exact.
        raise InvalidSample(rule="a bot_mul > 1 must be an integer", value=bot_mul,
                            shown=f"{bot_mul:g}", key="bot_mul")
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
