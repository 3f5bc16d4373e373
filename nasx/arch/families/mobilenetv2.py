"""MobileNetV2: inverted residual (MBConv) stages, ReLU6, no SE (Sandler et al. 2018).

Stem 3x3 stride 2 to 32, stages (expansion t, width c, depth n, stride s) of the paper's table,
head 1x1 conv to 1280, dropout, FC. ``width_mult`` scales stem and stage widths (rounded to
multiples of 8 as in :mod:`.mbconv`) and the head only when > 1.
"""

from __future__ import annotations

from nasx.arch.families.base import Family, make_family, num_stages, read_input
from nasx.arch.families.mbconv import round_width
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec

# (expansion t, width c, depth n, stride s)
STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)


def build(r: ValueReader) -> ArchSpec:
    """Decode MobileNetV2 values to an ArchSpec."""
    resolution, in_channels, num_classes = read_input(r)
    wm = r.number("width_mult", gt=0)
    stages = tuple(
        StageSpec(block="mbconv", depth=n, width=round_width(c, wm), stride=s,
                  expansion=float(t), kernel=3, act="relu6")
        for t, c, n, s in STAGES
    )
    return ArchSpec(
        family="mobilenetv2",
        stem=StemSpec(width=round_width(r.integer("stem_width", lo=1), wm), kernel=3, stride=2,
                      act="relu6"),
        stages=stages,
        head=HeadSpec(num_classes=num_classes,
                      width=round_width(r.integer("head_width", lo=1), max(1.0, wm)),
                      dropout=r.number("dropout", lo=0), act="relu6"),
        resolution=resolution,
        in_channels=in_channels,
    )


FAMILY: Family = make_family(
    "mobilenetv2",
    keys={"width_mult", "stem_width", "head_width", "dropout"},
    defaults={"width_mult": 1.0, "stem_width": 32, "head_width": 1280, "dropout": 0.2},
    build=build,
    derived=num_stages,
    doc="MobileNetV2: inverted residual stages, ReLU6, width multiplier.",
)
