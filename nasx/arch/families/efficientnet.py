"""EfficientNet: MBConv stages of the B0 table, compound-scaled by phi (Tan & Le 2019).

depth x alpha^phi, width x beta^phi, resolution x gamma^phi; ``width_mult`` / ``depth_mult``
given directly override beta^phi / alpha^phi. Resolution: round(base_resolution * gamma^phi)
(half to even) when ``base_resolution`` is given (it then wins over ``resolution``: use it for
compound-scaling spaces, e.g. 224); otherwise the input key ``resolution`` as given (the zoo's
B1..B7 use their published resolutions, which are not exactly 224 * 1.15^phi). Widths (stem,
stages, head) and depths use the original rounding (:mod:`.mbconv`). SiLU, SE 0.25 of the block
input width, head 1x1 conv to 1280 (scaled), dropout. ``derived``: num_stages and
``compound`` = alpha*beta^2*gamma^2, so the paper's phi = 1 grid search is a space with the
constraint compound: [1.9, 2.1].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasx.arch.families.base import Family, make_family
from nasx.arch.families.mbconv import round_depth, round_width
from nasx.arch.families.model import Key, ValueModel
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec

# B0 stages: (depth, width, expansion, kernel, stride) (docs/internals.md, "Reference formulas")
B0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 16, 1, 3, 1), (2, 24, 6, 3, 2), (2, 40, 6, 5, 2), (3, 80, 6, 3, 2),
    (3, 112, 6, 5, 1), (4, 192, 6, 5, 2), (1, 320, 6, 3, 1),
)

MODEL = ValueModel(
    Key("phi", "float", "compound coefficient", 0.0, lo=0),
    Key("alpha", "float", "depth base (depth x alpha^phi)", 1.2, gt=0),
    Key("beta", "float", "width base (width x beta^phi)", 1.1, gt=0),
    Key("gamma", "float", "resolution base (with base_resolution)", 1.15, gt=0),
    Key("width_mult", "float", "width multiplier (overrides beta^phi)", gt=0),
    Key("depth_mult", "float", "depth multiplier (overrides alpha^phi)", gt=0),
    Key("base_resolution", "int", "resolution = round(base_resolution * gamma^phi)", lo=1,
        hi=4096),
    Key("se_ratio", "float", "SE ratio of the block input width", 0.25, lo=0),
    Key("dropout", "float", "dropout before the classifier", 0.2, lo=0),
    Key("stem_width", "int", "stem width before scaling", 32, lo=1),
    Key("head_width", "int", "head 1x1 conv width before scaling", 1280, lo=1),
)


def _multipliers(r: ValueReader) -> tuple[float, float]:
    """(width_mult, depth_mult): given directly, else beta^phi and alpha^phi."""
    phi = r.get_float("phi")
    wm = r.get_float("width_mult") if r.has("width_mult") else r.get_float("beta") ** phi
    dm = r.get_float("depth_mult") if r.has("depth_mult") else r.get_float("alpha") ** phi
    return wm, dm


def build(r: ValueReader) -> ArchSpec:
    """Decode EfficientNet values to an ArchSpec."""
    wm, dm = _multipliers(r)
    if r.has("base_resolution"):
        scale = r.get_float("gamma") ** r.get_float("phi")
        resolution = max(1, round(r.get_int("base_resolution") * scale))
    else:
        resolution = r.get_int("resolution")
    se_ratio = r.get_float("se_ratio")
    stages = tuple(
        StageSpec(
            block="mbconv", depth=round_depth(d, dm), width=round_width(w, wm), stride=s,
            expansion=float(e), kernel=k, se_ratio=se_ratio, act="silu",
        )
        for d, w, e, k, s in B0_STAGES
    )
    return ArchSpec(
        family="efficientnet",
        stem=StemSpec(width=round_width(r.get_int("stem_width"), wm), kernel=3, stride=2,
                      act="silu"),
        stages=stages,
        head=HeadSpec(num_classes=r.get_int("num_classes"),
                      width=round_width(r.get_int("head_width"), wm),
                      dropout=r.get_float("dropout"), act="silu"),
        resolution=resolution,
        in_channels=r.get_int("in_channels"),
    )


def _derived(values: Mapping[str, Any], spec: ArchSpec) -> dict[str, float]:
    r = FAMILY.reader(values)
    alpha, beta, gamma = r.number("alpha"), r.number("beta"), r.number("gamma")
    wm, dm = _multipliers(r)
    return {"num_stages": float(len(spec.stages)), "compound": alpha * beta**2 * gamma**2,
            "width_mult": wm, "depth_mult": dm}


FAMILY: Family = make_family(
    "efficientnet",
    MODEL,
    build=build,
    derived=_derived,
    doc="EfficientNet: B0 MBConv stages scaled by phi (alpha, beta, gamma) or width/depth_mult.",
)
