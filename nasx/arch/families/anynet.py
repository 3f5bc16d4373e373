"""AnyNet: the free per-stage space of the RegNet paper (AnyNetX; AnyNetY with SE).

Keys (per stage i: ``KEY_i``, 1-based; unsuffixed = every stage): :data:`MODEL`. The number of
stages is the highest stage index given. Every stage starts with stride 2 (stage 1 too) and is made
compatible with its group width and bottleneck multiplier exactly as RegNet stages are.
"""

from __future__ import annotations

from nasx.arch.families.base import Family, make_family, num_stages, read_input
from nasx.arch.families.bottleneck import STEMS, bottleneck_stage, stem_spec
from nasx.arch.families.model import Key, ValueModel
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec, HeadSpec
from nasx.errors import SpaceError

MODEL = ValueModel(
    Key("se_ratio", "float", "SE ratio (0 = AnyNetX, 0.25 = AnyNetY)", 0.0, lo=0),
    Key("stem_width", "int", "stem width", 32, lo=1),
    Key("stem", "choice", "stem stride 2 (imagenet) or 1 (cifar)", "imagenet", options=STEMS),
    Key("depth", "int", "d_i: blocks of stage i", required=True, lo=1, hi=1000,
        per_stage=True),
    Key("width", "int", "w_i: width of stage i", required=True, lo=1, per_stage=True),
    Key("group_w", "int", "g_i: group width of stage i", required=True, lo=1, per_stage=True),
    Key("bot_mul", "float", "bottleneck multiplier of stage i (1 / b_i)", 1.0, gt=0,
        per_stage=True),
)
PER_STAGE = MODEL.per_stage_keys


def build(r: ValueReader) -> ArchSpec:
    """Decode AnyNet values to an ArchSpec."""
    resolution, in_channels, num_classes = read_input(r)
    indices = FAMILY.stage_indices(r.values)
    if not indices:
        raise SpaceError("family 'anynet': give per-stage values depth_1, width_1, ...",
                         key="depth_1")
    n = indices[-1]
    se_ratio = r.get_float("se_ratio")
    stages = []
    for i in range(1, n + 1):
        for key in PER_STAGE:
            if not r.has(r.stage_key(key, i)):
                raise SpaceError(
                    f"family 'anynet': stage {i} of {n} has no value (nor '{key}' for all stages)",
                    key=f"{key}_{i}",
                )
        stages.append(bottleneck_stage(
            depth=r.stage_int("depth", i),
            width=r.stage_int("width", i),
            bot_mul=r.stage_float("bot_mul", i),
            group_w=r.stage_int("group_w", i),
            se_ratio=se_ratio,
        ))
    return ArchSpec(
        family="anynet", stem=stem_spec(r.get_choice("stem"), r.get_int("stem_width")),
        stages=tuple(stages), head=HeadSpec(num_classes=num_classes), resolution=resolution,
        in_channels=in_channels,
    )


FAMILY: Family = make_family(
    "anynet",
    MODEL,
    build=build,
    derived=num_stages,
    doc="AnyNet X/Y: free depth, width, group_w, bot_mul per stage (X blocks, stride 2 each).",
)
