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
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec

# B0 stages: (depth, width, expansion, kernel, stride) (docs/internals.md, "Reference formulas")
B0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 16, 1, 3, 1), (2, 24, 6, 3, 2), (2, 40, 6, 5, 2), (3, 80, 6, 3, 2),
    (3, 112, 6, 5, 1), (4, 192, 6, 5, 2), (1, 320, 6, 3, 1),
)


def _multipliers(r: ValueReader) -> tuple[float, float]:
    """(width_mult, depth_mult): given directly, else beta^phi and alpha^phi."""
    phi = r.number("phi", lo=0)
    wm = r.number("width_mult", gt=0) if r.has("width_mult") else r.number("beta", gt=0) ** phi
    dm = r.number("depth_mult", gt=0) if r.has("depth_mult") else r.number("alpha", gt=0) ** phi
    return wm, dm


def build(r: ValueReader) -> ArchSpec:
    """Decode EfficientNet values to an ArchSpec."""
    wm, dm = _multipliers(r)
    if r.has("base_resolution"):
        scale = r.number("gamma", gt=0) ** r.number("phi", lo=0)
        resolution = max(1, round(r.integer("base_resolution", lo=1) * scale))
    else:
        resolution = r.integer("resolution", lo=1)
    se_ratio = r.number("se_ratio", lo=0)
    stages = tuple(
        StageSpec(
            block="mbconv", depth=round_depth(d, dm), width=round_width(w, wm), stride=s,
            expansion=float(e), kernel=k, se_ratio=se_ratio, act="silu",
        )
        for d, w, e, k, s in B0_STAGES
    )
    return ArchSpec(
        family="efficientnet",
        stem=StemSpec(width=round_width(r.integer("stem_width", lo=1), wm), kernel=3, stride=2,
                      act="silu"),
        stages=stages,
        head=HeadSpec(num_classes=r.integer("num_classes", lo=1),
                      width=round_width(r.integer("head_width", lo=1), wm),
                      dropout=r.number("dropout", lo=0), act="silu"),
        resolution=resolution,
        in_channels=r.integer("in_channels", lo=1),
    )


def _derived(values: Mapping[str, Any], spec: ArchSpec) -> dict[str, float]:
    r = ValueReader("efficientnet", FAMILY.merged(values))
    alpha, beta, gamma = r.number("alpha"), r.number("beta"), r.number("gamma")
    wm, dm = _multipliers(r)
    return {"num_stages": float(len(spec.stages)), "compound": alpha * beta**2 * gamma**2,
            "width_mult": wm, "depth_mult": dm}


FAMILY: Family = make_family(
    "efficientnet",
    keys={"phi", "alpha", "beta", "gamma", "width_mult", "depth_mult", "base_resolution",
          "se_ratio", "dropout", "stem_width", "head_width"},
    defaults={"phi": 0.0, "alpha": 1.2, "beta": 1.1, "gamma": 1.15, "width_mult": None,
              "depth_mult": None, "base_resolution": None, "se_ratio": 0.25,
              "dropout": 0.2, "stem_width": 32, "head_width": 1280},
    build=build,
    derived=_derived,
    doc="EfficientNet: B0 MBConv stages scaled by phi (alpha, beta, gamma) or width/depth_mult.",
)
