"""ResNet / ResNeXt: bottleneck stages with G groups of width d (He 2016, Xie 2017).

Stem 7x7 stride 2 (``stem_width``, 64), BN, ReLU, 3x3 stride-2 max pool; stage i has width
256 * 2^(i-1), stride 1 then 2, and bottleneck width G*d*2^(i-1) in G groups (ResNet: G 1, d 64).
Per-stage key: depth (default 3, 4, 6, 3 = ResNet-50; giving any depth key replaces all four, the
number of stages being the highest index). Scalars: groups (G), width_per_group (d).
Instead of d, ``flops_target`` (multiply-adds) or ``match`` (``resnet50`` | ``resnet101`` |
``resnet152``: that ResNet's flops at the same input) fixes G and solves the quadratic
flops(d) = target for d, rounded to the integer d whose flops are nearest the target, as the
ResNeXt paper keeps complexity fixed while trading groups for width.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from nasx.arch.complexity import complexity
from nasx.arch.families.base import Family, make_family, read_input
from nasx.arch.families.model import Key, ValueModel
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.errors import InvalidSample, SpaceError

RESNET_DEPTHS: Mapping[str, tuple[int, ...]] = {
    "resnet50": (3, 4, 6, 3),
    "resnet101": (3, 4, 23, 3),
    "resnet152": (3, 8, 36, 3),
}

MODEL = ValueModel(
    Key("depth", "int", "blocks of stage i (ResNet-50's by default)", lo=1, hi=1000,
        per_stage=True,
        stage_defaults=RESNET_DEPTHS["resnet50"]),
    Key("groups", "int", "G: groups of the 3x3 conv", 1, lo=1),
    Key("width_per_group", "int", "d: width per group (64 when no target is given)", lo=1),
    Key("flops_target", "float", "multiply-adds that d is solved for", gt=0),
    Key("match", "choice", "solve d for the flops of this ResNet", options=tuple(sorted(RESNET_DEPTHS))),
    Key("stem_width", "int", "stem width", 64, lo=1),
)


def resnext_spec(
    depths: tuple[int, ...],
    groups: int,
    width_per_group: int,
    *,
    stem_width: int = 64,
    resolution: int = 224,
    in_channels: int = 3,
    num_classes: int = 1000,
) -> ArchSpec:
    """A ResNet/ResNeXt ArchSpec from its per-stage depths, G and d."""
    stages = tuple(
        StageSpec(
            block="bottleneck", depth=d, width=256 * 2**i, stride=1 if i == 0 else 2,
            bottleneck=groups * width_per_group * 2**i, groups=groups, kernel=3, act="relu",
        )
        for i, d in enumerate(depths)
    )
    return ArchSpec(
        family="resnext", stem=StemSpec(width=stem_width, kernel=7, stride=2, pool=True),
        stages=stages, head=HeadSpec(num_classes=num_classes), resolution=resolution,
        in_channels=in_channels,
    )


def solve_width_per_group(target: float, depths: tuple[int, ...], groups: int,
                          **input_kw: int) -> int:
    """The integer d >= 1 whose flops(d) is nearest ``target`` for fixed depths and groups.

    flops is exactly quadratic in d (grouped 3x3: d^2; 1x1 convs: d), so three evaluations of
    :func:`complexity` give its coefficients; the positive root is then rounded to the best integer.
    """
    f1, f2, f3 = (complexity(resnext_spec(depths, groups, d, **input_kw)).flops for d in (1, 2, 3))
    a = (f3 - 2 * f2 + f1) / 2
    b = f2 - f1 - 3 * a
    c = f1 - a - b - target
    root = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a) if b * b - 4 * a * c >= 0 else 1.0
    candidates = {max(1, math.floor(root)), max(1, math.ceil(root))}
    best = min(sorted(candidates), key=lambda d: abs(a * d * d + b * d + c))
    return int(best)


def build(r: ValueReader) -> ArchSpec:
    """Decode ResNet/ResNeXt values to an ArchSpec."""
    resolution, in_channels, num_classes = read_input(r)
    n = max(FAMILY.stage_indices(r.values), default=4)
    depths = tuple(r.stage_int("depth", i) for i in range(1, n + 1))
    groups = r.get_int("groups")
    input_kw = {"stem_width": r.get_int("stem_width"), "resolution": resolution,
                "in_channels": in_channels, "num_classes": num_classes}
    if r.has("flops_target") and r.has("match"):
        raise SpaceError("family 'resnext': give flops_target or match, not both", key="match")
    target = None
    if r.has("flops_target"):
        target = r.get_float("flops_target")
    elif r.has("match"):
        ref = RESNET_DEPTHS[r.get_choice("match")]
        target = complexity(resnext_spec(ref, 1, 64, **input_kw)).flops
    if target is None:
        d = r.get_int("width_per_group") if r.has("width_per_group") else 64
    elif r.has("width_per_group"):
        raise SpaceError("family 'resnext': width_per_group is solved from the flops target; "
                         "do not give both", key="width_per_group")
    else:
        d = solve_width_per_group(target, depths, groups, **input_kw)
    if groups * d < 1:
        raise InvalidSample(f"family 'resnext': bottleneck width G*d = {groups * d}", key="groups")
    return resnext_spec(depths, groups, d, **input_kw)


def _derived(values: Mapping[str, Any], spec: ArchSpec) -> dict[str, float]:
    first = spec.stages[0]
    return {"num_stages": float(len(spec.stages)),
            "width_per_group": float(first.bottleneck // first.groups)}


FAMILY: Family = make_family(
    "resnext",
    MODEL,
    build=build,
    derived=_derived,
    doc="ResNet/ResNeXt: depth_i, groups G, width_per_group d (or flops_target/match solves d).",
)
