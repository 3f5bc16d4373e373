"""AnyNet: the free per-stage space of the RegNet paper (AnyNetX; AnyNetY with SE).

Per stage i (1-based, ``KEY_i``; unsuffixed = every stage): depth, width, group_w, bot_mul.
Scalars: se_ratio (0), stem_width (32), stem (``imagenet`` | ``cifar``), input keys. The number of
stages is the highest stage index given. Every stage starts with stride 2 (stage 1 too) and is made
compatible with its group width and bottleneck multiplier exactly as RegNet stages are.
"""

from __future__ import annotations

from nasx.arch.families.base import Family, make_family, num_stages, read_input
from nasx.arch.families.regnet import STEMS, bottleneck_stage, stem_spec
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec, HeadSpec
from nasx.errors import SpaceError

PER_STAGE = ("depth", "width", "group_w", "bot_mul")


def build(r: ValueReader) -> ArchSpec:
    """Decode AnyNet values to an ArchSpec."""
    resolution, in_channels, num_classes = read_input(r)
    indices = FAMILY.stage_indices(r.values)
    if not indices:
        raise SpaceError("family 'anynet': give per-stage values depth_1, width_1, ...",
                         key="depth_1")
    n = indices[-1]
    se_ratio = r.number("se_ratio", lo=0)
    stages = []
    for i in range(1, n + 1):
        for key in PER_STAGE:
            if not r.has(r.stage_key(key, i)):
                raise SpaceError(
                    f"family 'anynet': stage {i} of {n} has no value (nor '{key}' for all stages)",
                    key=f"{key}_{i}",
                )
        stages.append(bottleneck_stage(
            depth=r.integer(r.stage_key("depth", i), lo=1),
            width=r.integer(r.stage_key("width", i), lo=1),
            bot_mul=r.number(r.stage_key("bot_mul", i), gt=0),
            group_w=r.integer(r.stage_key("group_w", i), lo=1),
            se_ratio=se_ratio,
        ))
    return ArchSpec(
        family="anynet", stem=stem_spec(r.choice("stem", STEMS), r.integer("stem_width", lo=1)),
        stages=tuple(stages), head=HeadSpec(num_classes=num_classes), resolution=resolution,
        in_channels=in_channels,
    )


FAMILY: Family = make_family(
    "anynet",
    keys={"se_ratio", "stem_width", "stem"},
    per_stage_keys=PER_STAGE,
    defaults={"se_ratio": 0.0, "stem_width": 32, "stem": "imagenet", "bot_mul": 1.0},
    build=build,
    derived=num_stages,
    doc="AnyNet X/Y: free depth, width, group_w, bot_mul per stage (X blocks, stride 2 each).",
)
