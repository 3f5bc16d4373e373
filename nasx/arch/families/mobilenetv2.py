"""MobileNetV2: inverted residual (MBConv) stages, ReLU6, no SE (Sandler et al. 2018).

Stem 3x3 stride 2 to 32, stages (expansion t, width c, depth n, stride s) of the paper's table,
head 1x1 conv to 1280, dropout, FC. ``width_mult`` scales stem and stage widths (rounded to
multiples of 8 as in :mod:`.mbconv`) and the head only when > 1.
"""

from __future__ import annotations

from nasx.arch.families.base import Family, make_family, num_stages, read_input
from nasx.arch.families.mbconv import round_width
from nasx.arch.families.model import Key, ValueModel
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec

# (expansion t, width c, depth n, stride s)
STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)

MODEL = ValueModel(
    Key("width_mult", "float", "width multiplier (stem, stages; head only when > 1)", 1.0, gt=0),
    Key("stem_width", "int", "stem width before scaling", 32, lo=1),
    Key("head_width", "int", "head 1x1 conv width before scaling", 1280, lo=1),
    Key("dropout", "float", "dropout before the classifier", 0.2, lo=0),
)


def build(r: ValueReader) -> ArchSpec:
    """Decode MobileNetV2 values to an ArchSpec."""
    resolution, in_channels, num_classes = read_input(r)
    wm = r.get_float("width_mult")
    stages = tuple(
        StageSpec(block="mbconv", depth=n, width=round_width(c, wm), stride=s,
                  expansion=float(t), kernel=3, act="relu6")
        for t, c, n, s in STAGES
    )
    return ArchSpec(
        family="mobilenetv2",
        stem=StemSpec(width=round_width(r.get_int("stem_width"), wm), kernel=3, stride=2,
                      act="relu6"),
        stages=stages,
        head=HeadSpec(num_classes=num_classes,
                      width=round_width(r.get_int("head_width"), max(1.0, wm)),
                      dropout=r.get_float("dropout"), act="relu6"),
        resolution=resolution,
        in_channels=in_channels,
    )


FAMILY: Family = make_family(
    "mobilenetv2",
    MODEL,
    build=build,
    derived=num_stages,
    doc="MobileNetV2: inverted residual stages, ReLU6, width multiplier.",
)
