"""Model zoo: published networks as keyword configs of their family, and their complexity.

Names are matched case-insensitively. Every model is 224 px / 1000 classes except EfficientNet-Bn,
which runs at its own resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import NamedTuple

from nasx.arch.families import FAMILIES, decode
from nasx.arch.spec import ArchSpec
from nasx.errors import SpaceError
from nasx.types import Scalar


class ZooEntry(NamedTuple):
    """A zoo model: its family and the keyword values that family decodes."""

    family: str
    values: Mapping[str, Scalar]


def _entry(family: str, **values: Scalar) -> ZooEntry:
    """A keyword config, its keys checked against the family's value model at import."""
    return ZooEntry(family, MappingProxyType(FAMILIES[family].config(**values)))


def _regnet(se_ratio: float, **values: Scalar) -> ZooEntry:
    return _entry("regnet", **values, se_ratio=se_ratio)


def _regnetx(**values: Scalar) -> ZooEntry:
    return _regnet(0.0, **values)


def _regnety(**values: Scalar) -> ZooEntry:
    return _regnet(0.25, **values)


def _resnext(depths: tuple[int, ...], groups: int, width_per_group: int) -> ZooEntry:
    stages = {f"depth_{i}": d for i, d in enumerate(depths, start=1)}
    return _entry("resnext", **stages, groups=groups, width_per_group=width_per_group)


_R50, _R101, _R152 = (3, 4, 6, 3), (3, 4, 23, 3), (3, 8, 36, 3)

# RegNet values are the RegNet paper's model zoo (pycls configs); EfficientNet-Bn's width and
# depth multipliers, resolutions and dropouts are the paper's.
ZOO: Mapping[str, ZooEntry] = MappingProxyType({
    "RegNetX-200MF": _regnetx(depth=13, w0=24, wa=36.44, wm=2.49, group_w=8),
    "RegNetX-400MF": _regnetx(depth=22, w0=24, wa=24.48, wm=2.54, group_w=16),
    "RegNetX-600MF": _regnetx(depth=16, w0=48, wa=36.97, wm=2.24, group_w=24),
    "RegNetX-800MF": _regnetx(depth=16, w0=56, wa=35.73, wm=2.28, group_w=16),
    "RegNetX-1.6GF": _regnetx(depth=18, w0=80, wa=34.01, wm=2.25, group_w=24),
    "RegNetX-3.2GF": _regnetx(depth=25, w0=88, wa=26.31, wm=2.25, group_w=48),
    "RegNetX-4.0GF": _regnetx(depth=23, w0=96, wa=38.65, wm=2.43, group_w=40),
    "RegNetX-6.4GF": _regnetx(depth=17, w0=184, wa=60.83, wm=2.07, group_w=56),
    "RegNetX-8.0GF": _regnetx(depth=23, w0=80, wa=49.56, wm=2.88, group_w=120),
    "RegNetX-12GF": _regnetx(depth=19, w0=168, wa=73.36, wm=2.37, group_w=112),
    "RegNetX-16GF": _regnetx(depth=22, w0=216, wa=55.59, wm=2.1, group_w=128),
    "RegNetX-32GF": _regnetx(depth=23, w0=320, wa=69.86, wm=2.0, group_w=168),
    "RegNetY-200MF": _regnety(depth=13, w0=24, wa=36.44, wm=2.49, group_w=8),
    "RegNetY-400MF": _regnety(depth=16, w0=48, wa=27.89, wm=2.09, group_w=8),
    "RegNetY-600MF": _regnety(depth=15, w0=48, wa=32.54, wm=2.32, group_w=16),
    "RegNetY-800MF": _regnety(depth=14, w0=56, wa=38.84, wm=2.4, group_w=16),
    "RegNetY-1.6GF": _regnety(depth=27, w0=48, wa=20.71, wm=2.65, group_w=24),
    "RegNetY-3.2GF": _regnety(depth=21, w0=80, wa=42.63, wm=2.66, group_w=24),
    "RegNetY-4.0GF": _regnety(depth=22, w0=96, wa=31.41, wm=2.24, group_w=64),
    "RegNetY-6.4GF": _regnety(depth=25, w0=112, wa=33.22, wm=2.27, group_w=72),
    "RegNetY-8.0GF": _regnety(depth=17, w0=192, wa=76.82, wm=2.19, group_w=56),
    "RegNetY-12GF": _regnety(depth=19, w0=168, wa=73.36, wm=2.37, group_w=112),
    "RegNetY-16GF": _regnety(depth=18, w0=200, wa=106.23, wm=2.48, group_w=112),
    "RegNetY-32GF": _regnety(depth=20, w0=232, wa=115.89, wm=2.53, group_w=232),
    "ResNet-50": _resnext(_R50, groups=1, width_per_group=64),
    "ResNet-101": _resnext(_R101, groups=1, width_per_group=64),
    "ResNet-152": _resnext(_R152, groups=1, width_per_group=64),
    "ResNeXt-50-32x4d": _resnext(_R50, groups=32, width_per_group=4),
    "ResNeXt-101-32x4d": _resnext(_R101, groups=32, width_per_group=4),
    "ResNeXt-152-32x4d": _resnext(_R152, groups=32, width_per_group=4),
    "EfficientNet-B0": _entry("efficientnet", width_mult=1.0, depth_mult=1.0, resolution=224,
                              dropout=0.2),
    "EfficientNet-B1": _entry("efficientnet", width_mult=1.0, depth_mult=1.1, resolution=240,
                              dropout=0.2),
    "EfficientNet-B2": _entry("efficientnet", width_mult=1.1, depth_mult=1.2, resolution=260,
                              dropout=0.3),
    "EfficientNet-B3": _entry("efficientnet", width_mult=1.2, depth_mult=1.4, resolution=300,
                              dropout=0.3),
    "EfficientNet-B4": _entry("efficientnet", width_mult=1.4, depth_mult=1.8, resolution=380,
                              dropout=0.4),
    "EfficientNet-B5": _entry("efficientnet", width_mult=1.6, depth_mult=2.2, resolution=456,
                              dropout=0.4),
    "EfficientNet-B6": _entry("efficientnet", width_mult=1.8, depth_mult=2.6, resolution=528,
                              dropout=0.5),
    "EfficientNet-B7": _entry("efficientnet", width_mult=2.0, depth_mult=3.1, resolution=600,
                              dropout=0.5),
    "MobileNetV2": _entry("mobilenetv2"),
})
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


def values(name: str) -> tuple[str, dict[str, Scalar]]:
    """(family, values) of zoo model ``name``."""
    family, vals = ZOO[canonical(name)]
    return family, dict(vals)


def get(name: str) -> ArchSpec:
    """The ArchSpec of zoo model ``name`` (case-insensitive), named canonically."""
    key = canonical(name)
    family, vals = ZOO[key]
    return replace(decode(family, vals), name=key)
