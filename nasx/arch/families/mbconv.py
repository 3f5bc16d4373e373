"""Rounding rules shared by the MBConv families (EfficientNet, MobileNetV2)."""

from __future__ import annotations

import math


def round_width(width: float, mult: float, divisor: int = 8) -> int:
    """Width ``width * mult`` rounded to a multiple of 8, never more than 10% below it.

    n = max(8, int(f*m + 4) // 8 * 8), plus 8 if n < 0.9*f*m (docs/internals.md, "Reference formulas").
    """
    scaled = width * mult
    n = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return n + divisor if n < 0.9 * scaled else n


def round_depth(depth: int, mult: float) -> int:
    """Depth ``depth * mult`` rounded up."""
    return int(math.ceil(depth * mult))
