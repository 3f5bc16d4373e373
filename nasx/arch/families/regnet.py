"""RegNet: stage widths and depths from a quantised linear parameterisation (Radosavovic 2020).

Keys, defaults and ranges: :data:`MODEL`. Every stage is a run of X blocks (residual bottleneck,
grouped 3x3; :mod:`.bottleneck`) whose first block has stride 2.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from nasx.arch.families.base import Family, make_family, num_stages, read_input
from nasx.arch.families.bottleneck import STEMS, bottleneck_stage, stem_spec
from nasx.arch.families.model import Key, ValueModel
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec, HeadSpec
from nasx.constants import WIDTH_QUANTUM
from nasx.errors import InvalidSample

# Re-exported: the X-block helpers live in .bottleneck (shared with AnyNet).
__all__ = ["FAMILY", "MODEL", "STEMS", "bottleneck_stage", "build", "quantized_stages",
           "stem_spec"]

MODEL = ValueModel(
    Key("depth", "int", "d: blocks in all", required=True, lo=1, hi=1000),
    Key("w0", "float", "initial width", required=True, gt=0),
    Key("wa", "float", "slope of the linear widths", required=True, lo=0),
    Key("wm", "float", "width multiplier between stages", required=True, gt=1),
    Key("group_w", "int", "g: group width of the 3x3 conv", required=True, lo=1),
    Key("bot_mul", "float", "bottleneck multiplier (1 / b)", 1.0, gt=0),
    Key("se_ratio", "float", "SE ratio (0 = RegNetX, 0.25 = RegNetY)", 0.0, lo=0),
    Key("stem_width", "int", "stem width", 32, lo=1),
    Key("stem", "choice", "stem stride 2 (imagenet) or 1 (cifar)", "imagenet", options=STEMS),
)


def quantized_stages(
    depth: int, w0: float, wa: float, wm: float, q: int = WIDTH_QUANTUM
) -> tuple[list[int], list[int]]:
    """(widths, depths) of the stages of a RegNet; InvalidSample when the sample is degenerate.

    u_j = w0 + wa*j, s_j = round(log(u_j/w0)/log(wm)), w_j = round(w0*wm^s_j/q)*q with numpy's
    round-half-to-even; valid only if the number of distinct widths is max(s_j) + 1.
    """
    u = np.arange(depth) * wa + w0
    s = np.round(np.log(u / w0) / np.log(wm))
    w = np.round(np.divide(w0 * np.power(wm, s), q)).astype(int) * q
    # np.unique's (sorted values, counts), in Python: w has at most a few dozen entries
    runs = sorted(Counter(w.tolist()).items())
    widths, depths = [x for x, _ in runs], [n for _, n in runs]
    n_expected = int(s.max()) + 1
    if len(widths) != n_expected:
        raise InvalidSample(
            f"regnet: quantisation gives {len(widths)} distinct widths but max(s_j)+1 = "
            f"{n_expected} (d={depth}, w0={w0:g}, wa={wa:g}, wm={wm:g})"
        )
    if widths[0] <= 0:
        raise InvalidSample(f"regnet: quantised width {int(widths[0])} <= 0", key="w0")
    return widths, depths


def build(r: ValueReader) -> ArchSpec:
    """Decode RegNet values to an ArchSpec."""
    resolution, in_channels, num_classes = read_input(r)
    depth = r.get_int("depth")
    w0 = r.get_float("w0")
    wa = r.get_float("wa")
    wm = r.get_float("wm")
    group_w = r.get_int("group_w")
    bot_mul = r.get_float("bot_mul")
    se_ratio = r.get_float("se_ratio")
    stem = r.get_choice("stem")
    stem_width = r.get_int("stem_width")
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
    MODEL,
    build=build,
    derived=num_stages,
    doc="RegNet X/Y: quantised linear widths (depth, w0, wa, wm, group_w, bot_mul, se_ratio).",
)
