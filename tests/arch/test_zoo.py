"""The zoo against published complexity: exact where an exact figure is published."""

from __future__ import annotations

import pytest

from nasx.arch import zoo
from nasx.arch.complexity import complexity
from nasx.errors import SpaceError

# Exact (flops, params, acts) at each model's resolution, pinned here. Sources: pycls's model
# complexity table (dev/model_complexity.json, 2020-09: max pool acts counted) for every model but
# EfficientNet-B6/B7 and MobileNetV2, which have no exact published flops/acts: for those the
# numbers are our own exact count, and ROUNDED below ties them to torchvision's published figures.
PINNED = {
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
    "EfficientNet-B6": (19067647136, 43040704, 167393400),  # ours (see ROUNDED)
    "EfficientNet-B7": (37745958392, 66347960, 289939464),  # ours (see ROUNDED)
    "MobileNetV2": (300775272, 3504872, 6679112),  # ours (see ROUNDED)
}

# Only rounded flops published (torchvision weight tables): exact num_params, GFLOPS as printed.
ROUNDED = {
    "EfficientNet-B6": (43040704, "19.068"),
    "EfficientNet-B7": (66347960, "37.746"),
    "MobileNetV2": (3504872, "0.30"),
}

# torchvision's published num_params: an independent check of our parameter counts.
TORCHVISION_PARAMS = {
    "ResNet-50": 25557032, "ResNet-101": 44549160, "ResNet-152": 60192808,
    "ResNeXt-50-32x4d": 25028904, "ResNeXt-101-32x4d": 44177704,
    "EfficientNet-B0": 5288548, "EfficientNet-B1": 7794184, "EfficientNet-B2": 9109994,
    "EfficientNet-B3": 12233232, "EfficientNet-B4": 19341616, "EfficientNet-B5": 30389784,
    "EfficientNet-B6": 43040704, "EfficientNet-B7": 66347960, "MobileNetV2": 3504872,
    "RegNetY-400MF": 4344144,
}

RESOLUTIONS = {f"EfficientNet-B{i}": r for i, r in
               enumerate((224, 240, 260, 300, 380, 456, 528, 600))}


def test_registry_is_pinned_completely() -> None:
    assert zoo.names() == list(PINNED)
    assert dict(zoo.REFERENCE) == PINNED
    assert set(zoo.ROUNDED) == set(ROUNDED)


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_complexity_matches_reference(name: str) -> None:
    spec = zoo.get(name)
    cx = complexity(spec)
    assert (cx.flops, cx.params, cx.acts) == PINNED[name]
    assert spec.name == name
    assert spec.resolution == RESOLUTIONS.get(name, 224)
    assert (spec.num_classes, spec.in_channels) == (1000, 3)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("RegNetX-200MF", (199040872, 2684792, 2164056)),
        ("RegNetY-400MF", (401849056, 4344144, 3892496)),
        ("ResNet-50", (4089185256, 25557032, 11315688)),
        ("ResNeXt-50-32x4d", (4230480872, 25028904, 14602216)),
        ("EfficientNet-B0", (385825092, 5288548, 6748036)),
    ],
)
def test_required_references(name: str, reference: tuple[int, int, int]) -> None:
    cx = complexity(zoo.get(name))
    assert (cx.flops, cx.params, cx.acts) == reference


@pytest.mark.parametrize("name", sorted(ROUNDED))
def test_rounded_published_figures(name: str) -> None:
    params, gflops = ROUNDED[name]
    cx = complexity(zoo.get(name))
    decimals = len(gflops.split(".")[1])
    assert cx.params == params
    assert f"{cx.flops / 1e9:.{decimals}f}" == gflops
    assert zoo.ROUNDED[name][:2] == (params, float(gflops))


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_params_match_torchvision(name: str) -> None:
    assert complexity(zoo.get(name)).params == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("name", [n for n in zoo.names() if n.startswith("RegNet")])
def test_regnet_names_give_their_flops_regime(name: str) -> None:
    # the name is the flops regime of the paper (e.g. 6.4GF for 6.46e9), not a rounded count
    label = name.split("-")[1]
    value = float(label[:-2]) * (1e6 if label.endswith("MF") else 1e9)
    assert complexity(zoo.get(name)).flops == pytest.approx(value, rel=0.02)


def test_regnet_zoo_stage_shapes() -> None:
    assert zoo.get("RegNetX-200MF").widths == [24, 56, 152, 368]
    assert zoo.get("RegNetX-200MF").depths == [1, 1, 4, 7]
    assert zoo.get("RegNetY-400MF").widths == [48, 104, 208, 440]
    assert zoo.get("RegNetX-32GF").depths == [2, 7, 13, 1]
    assert zoo.get("RegNetX-32GF").widths == [336, 672, 1344, 2520]


def test_lookup_is_case_insensitive() -> None:
    assert zoo.get("resnext-50-32X4D").name == "ResNeXt-50-32x4d"
    assert zoo.get("REGNETY-1.6gf") == zoo.get("RegNetY-1.6GF")
    assert zoo.values("mobilenetv2") == ("mobilenetv2", {})


def test_unknown_model_is_a_space_error() -> None:
    with pytest.raises(SpaceError, match="unknown zoo model 'ResNet-18'"):
        zoo.get("ResNet-18")
