"""Model zoo: published networks as family values, and their published complexity.

Names are matched case-insensitively. Every model is 224 px / 1000 classes except EfficientNet-Bn,
which runs at its own resolution. RegNet values are the RegNet paper's model zoo (pycls configs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from nasx.arch.families import decode
from nasx.arch.spec import ArchSpec
from nasx.errors import SpaceError

# RegNet zoo: name suffix -> (depth, w0, wa, wm, group_w)
_REGNETX = {
    "200MF": (13, 24, 36.44, 2.49, 8), "400MF": (22, 24, 24.48, 2.54, 16),
    "600MF": (16, 48, 36.97, 2.24, 24), "800MF": (16, 56, 35.73, 2.28, 16),
    "1.6GF": (18, 80, 34.01, 2.25, 24), "3.2GF": (25, 88, 26.31, 2.25, 48),
    "4.0GF": (23, 96, 38.65, 2.43, 40), "6.4GF": (17, 184, 60.83, 2.07, 56),
    "8.0GF": (23, 80, 49.56, 2.88, 120), "12GF": (19, 168, 73.36, 2.37, 112),
    "16GF": (22, 216, 55.59, 2.1, 128), "32GF": (23, 320, 69.86, 2.0, 168),
}
_REGNETY = {
    "200MF": (13, 24, 36.44, 2.49, 8), "400MF": (16, 48, 27.89, 2.09, 8),
    "600MF": (15, 48, 32.54, 2.32, 16), "800MF": (14, 56, 38.84, 2.4, 16),
    "1.6GF": (27, 48, 20.71, 2.65, 24), "3.2GF": (21, 80, 42.63, 2.66, 24),
    "4.0GF": (22, 96, 31.41, 2.24, 64), "6.4GF": (25, 112, 33.22, 2.27, 72),
    "8.0GF": (17, 192, 76.82, 2.19, 56), "12GF": (19, 168, 73.36, 2.37, 112),
    "16GF": (18, 200, 106.23, 2.48, 112), "32GF": (20, 232, 115.89, 2.53, 232),
}
# ResNet/ResNeXt depths per stage
_DEPTHS = {"50": (3, 4, 6, 3), "101": (3, 4, 23, 3), "152": (3, 8, 36, 3)}
# EfficientNet-Bn: (width_mult, depth_mult, resolution, dropout)
_EFFNET = (
    (1.0, 1.0, 224, 0.2), (1.0, 1.1, 240, 0.2), (1.1, 1.2, 260, 0.3), (1.2, 1.4, 300, 0.3),
    (1.4, 1.8, 380, 0.4), (1.6, 2.2, 456, 0.4), (1.8, 2.6, 528, 0.5), (2.0, 3.1, 600, 0.5),
)


def _resnext_values(depth: str, groups: int, width_per_group: int) -> dict[str, Any]:
    stages = {f"depth_{i}": d for i, d in enumerate(_DEPTHS[depth], start=1)}
    return {**stages, "groups": groups, "width_per_group": width_per_group}


def _zoo() -> dict[str, tuple[str, dict[str, Any]]]:
    zoo: dict[str, tuple[str, dict[str, Any]]] = {}
    for prefix, table, se in (("RegNetX", _REGNETX, 0.0), ("RegNetY", _REGNETY, 0.25)):
        for suffix, (d, w0, wa, wm, g) in table.items():
            zoo[f"{prefix}-{suffix}"] = (
                "regnet", {"depth": d, "w0": w0, "wa": wa, "wm": wm, "group_w": g, "se_ratio": se}
            )
    for depth in _DEPTHS:
        zoo[f"ResNet-{depth}"] = ("resnext", _resnext_values(depth, 1, 64))
    for depth in _DEPTHS:
        zoo[f"ResNeXt-{depth}-32x4d"] = ("resnext", _resnext_values(depth, 32, 4))
    for i, (wm, dm, res, drop) in enumerate(_EFFNET):
        zoo[f"EfficientNet-B{i}"] = (
            "efficientnet",
            {"width_mult": wm, "depth_mult": dm, "resolution": res, "dropout": drop},
        )
    zoo["MobileNetV2"] = ("mobilenetv2", {})
    return zoo


ZOO: Mapping[str, tuple[str, Mapping[str, Any]]] = MappingProxyType(_zoo())
_BY_LOWER = MappingProxyType({name.lower(): name for name in ZOO})

# Published (flops, params, acts). Exact figures from pycls's model complexity table
# (dev/model_complexity.json, 2020-09, max pool acts counted) unless noted in SOURCE.
REFERENCE: Mapping[str, tuple[int, int, int]] = MappingProxyType({
    "RegNetX-200MF": (199040872, 2684792, 2164056),
    "RegNetX-400MF": (397678568, 5157512, 3143272),
    "RegNetX-600MF": (600891112, 6196040, 3975096),
    "RegNetX-800MF": (799700712, 7259656, 5148744),
    "RegNetX-1.6GF": (1602850792, 9190136, 7933512),
    "RegNetX-3.2GF": (3176622952, 15296552, 11367432),
    "RegNetX-4.0GF": (3964499816, 22118248, 12201608),
    "RegNetX-6.4GF": (6460292264, 26209256, 16369744),
    "RegNetX-8.0GF": (7995133416, 39572648, 14059688),
    "RegNetX-12GF": (12086679016, 46106056, 21366568),
    "RegNetX-16GF": (15940756456, 54278536, 25515496),
    "RegNetX-32GF": (31735930792, 107811560, 36302160),
    "RegNetY-200MF": (199519076, 3162996, 2168052),
    "RegNetY-400MF": (401849056, 4344144, 3892496),
    "RegNetY-600MF": (601227608, 6055160, 4334296),
    "RegNetY-800MF": (797183328, 6263168, 5249888),
    "RegNetY-1.6GF": (1612087326, 11202430, 8044814),
    "RegNetY-3.2GF": (3176496162, 19436338, 11263418),
    "RegNetY-4.0GF": (3973301344, 20646656, 12287200),
    "RegNetY-6.4GF": (6355221876, 30583252, 16407188),
    "RegNetY-8.0GF": (7963074196, 39180068, 17968916),
    "RegNetY-12GF": (12092395504, 51822544, 21384496),
    "RegNetY-16GF": (15911534044, 83590140, 23041228),
    "RegNetY-32GF": (32279583362, 145046770, 30261570),
    "ResNet-50": (4089185256, 25557032, 11315688),
    "ResNet-101": (7801406440, 44549160, 16433640),
    "ResNet-152": (11513627624, 60192808, 22755816),
    "ResNeXt-50-32x4d": (4230480872, 25028904, 14602216),
    "ResNeXt-101-32x4d": (7969997800, 44177704, 21426152),
    "ResNeXt-152-32x4d": (11709514728, 59951400, 29855720),
    "EfficientNet-B0": (385825092, 5288548, 6748036),
    "EfficientNet-B1": (686817992, 7794184, 10884328),
    "EfficientNet-B2": (993578282, 9109994, 13832834),
    "EfficientNet-B3": (1827162472, 12233232, 23831296),
    "EfficientNet-B4": (4393801064, 19341616, 49489032),
    "EfficientNet-B5": (10266426072, 30389784, 98857400),
    # No exact published flops/acts: our exact count, pinned. params equal torchvision's
    # published num_params exactly; flops round to its published GFLOPS (see ROUNDED).
    "EfficientNet-B6": (19067647136, 43040704, 167393400),
    "EfficientNet-B7": (37745958392, 66347960, 289939464),
    "MobileNetV2": (300775272, 3504872, 6679112),
})

# Models whose published flops are only rounded: (exact published params, published GFLOPS
# as printed, its decimals) from torchvision's weight tables.
ROUNDED: Mapping[str, tuple[int, float, int]] = MappingProxyType({
    "EfficientNet-B6": (43040704, 19.068, 3),
    "EfficientNet-B7": (66347960, 37.746, 3),
    "MobileNetV2": (3504872, 0.30, 2),
})


def names() -> list[str]:
    """Every zoo model name, in registry order."""
    return list(ZOO)


def canonical(name: str) -> str:
    """The registry spelling of ``name`` (case-insensitive); SpaceError if unknown."""
    found = _BY_LOWER.get(name.lower()) if isinstance(name, str) else None
    if found is None:
        raise SpaceError(f"unknown zoo model {name!r} (known: {', '.join(ZOO)})", key="model")
    return found


def values(name: str) -> tuple[str, dict[str, Any]]:
    """(family, values) of zoo model ``name``."""
    family, vals = ZOO[canonical(name)]
    return family, dict(vals)


def get(name: str) -> ArchSpec:
    """The ArchSpec of zoo model ``name`` (case-insensitive), named canonically."""
    key = canonical(name)
    family, vals = ZOO[key]
    return replace(decode(family, vals), name=key)
