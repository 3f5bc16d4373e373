"""Family registry and decoders: anynet, resnext, efficientnet, mobilenetv2; decode errors."""

from __future__ import annotations

import numpy as np
import pytest

from nasx.arch.complexity import complexity
from nasx.arch.families import FAMILIES, INPUT_DEFAULTS, decode, get_family
from nasx.arch.families.mbconv import round_depth, round_width
from nasx.arch.families.resnext import solve_width_per_group
from nasx.errors import InvalidSample, SpaceError

ANY200 = {"depth_1": 1, "depth_2": 1, "depth_3": 4, "depth_4": 7, "width_1": 24, "width_2": 56,
          "width_3": 152, "width_4": 368, "group_w": 8}
RESNET50_FLOPS = 4089185256


def test_registry() -> None:
    assert sorted(FAMILIES) == ["anynet", "efficientnet", "mobilenetv2", "regnet", "resnext"]
    for name, fam in FAMILIES.items():
        assert fam.name == name
        assert set(INPUT_DEFAULTS) <= fam.keys
        for key in fam.defaults:
            base = key.rsplit("_", 1)[0] if key[-1].isdigit() else key
            assert key in fam.keys or base in fam.per_stage_keys, (name, key)
    assert FAMILIES["anynet"].per_stage_keys == ("depth", "width", "group_w", "bot_mul")
    assert FAMILIES["resnext"].per_stage_keys == ("depth",)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_unknown_key_names_the_key(family: str) -> None:
    with pytest.raises(SpaceError, match=f"key 'colour': unknown key for family '{family}'"):
        decode(family, {**(ANY200 if family == "anynet" else {}), "colour": 3})


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_wrong_types_name_the_key(family: str) -> None:
    for key, value in (("num_classes", True), ("resolution", "224"), ("in_channels", 2.5)):
        base = ANY200 if family == "anynet" else {"depth": 13, "w0": 24, "wa": 36.0, "wm": 2.5,
                                                 "group_w": 8} if family == "regnet" else {}
        with pytest.raises(SpaceError, match=f"key '{key}'.*must be an integer"):
            decode(family, {**base, key: value})


def test_unknown_family() -> None:
    with pytest.raises(SpaceError, match="key 'family': unknown family 'vgg'"):
        decode("vgg", {})
    with pytest.raises(SpaceError, match="key 'family'"):
        get_family(None)  # type: ignore[arg-type]


def test_numpy_and_integral_float_values_are_accepted() -> None:
    values = {**ANY200, "depth_3": np.int64(4), "width_4": 368.0, "group_w": np.int32(8)}
    assert decode("anynet", values) == decode("anynet", ANY200)


def test_anynet_matches_regnet_200mf() -> None:
    spec = decode("anynet", ANY200)
    assert complexity(spec).to_dict() == {"flops": 199040872, "params": 2684792, "acts": 2164056}
    assert [s.stride for s in spec.stages] == [2, 2, 2, 2]
    assert FAMILIES["anynet"].derived(ANY200, spec) == {"num_stages": 4.0}


def test_anynet_per_stage_values_and_compat() -> None:
    values = {"depth_1": 2, "depth_2": 3, "depth_3": 1, "width_1": 100, "width_2": 64,
              "width_3": 20, "group_w_1": 16, "group_w_2": 64, "group_w_3": 8, "bot_mul_1": 2,
              "bot_mul_2": 0.25, "bot_mul_3": 1, "se_ratio": 0.25, "stem": "cifar"}
    spec = decode("anynet", values)
    assert spec.depths == [2, 3, 1]
    assert spec.widths == [96, 64, 16]  # 200 / 16 -> 12 x 16 = 192 / 2; 16 -> g 16; 20 -> 16
    assert [(s.bottleneck, s.groups) for s in spec.stages] == [(192, 12), (16, 1), (16, 2)]
    assert [s.se_ratio for s in spec.stages] == [0.25] * 3
    assert spec.stem.stride == 1


def test_anynet_missing_stage_value() -> None:
    values = {k: v for k, v in ANY200.items() if k != "width_3"}
    with pytest.raises(SpaceError, match="key 'width_3': .*stage 3 of 4"):
        decode("anynet", values)
    with pytest.raises(SpaceError, match="key 'depth_1'"):
        decode("anynet", {"group_w": 8})
    with pytest.raises(InvalidSample, match="key 'depth_2'"):
        decode("anynet", {**ANY200, "depth_2": 0})


def test_resnext_templates() -> None:
    resnet = decode("resnext", {})
    assert resnet.depths == [3, 4, 6, 3] and resnet.widths == [256, 512, 1024, 2048]
    assert [s.stride for s in resnet.stages] == [1, 2, 2, 2]
    assert [(s.bottleneck, s.groups) for s in resnet.stages] == [(64, 1), (128, 1), (256, 1),
                                                                 (512, 1)]
    assert (resnet.stem.kernel, resnet.stem.stride, resnet.stem.pool) == (7, 2, True)
    x = decode("resnext", {"groups": 32, "width_per_group": 4})
    assert [s.bottleneck for s in x.stages] == [128, 256, 512, 1024]
    assert FAMILIES["resnext"].derived({}, x) == {"num_stages": 4.0, "width_per_group": 4.0}
    assert decode("resnext", {"depth_1": 2, "depth_2": 2}).depths == [2, 2]


@pytest.mark.parametrize(("groups", "d"), [(1, 64), (2, 40), (4, 24), (8, 13), (32, 4)])
def test_resnext_solves_d_for_resnet50_flops(groups: int, d: int) -> None:
    # the ResNeXt paper's templates at ResNet-50 complexity: 1x64d, 2x40d, 4x24d, 8x14d, 32x4d
    # (8 groups: 13 is the nearest in flops; the paper's 14 also matched params)
    spec = decode("resnext", {"groups": groups, "match": "resnet50"})
    assert spec.stages[0].bottleneck == groups * d
    assert complexity(spec).flops == pytest.approx(RESNET50_FLOPS, rel=0.04)


def test_resnext_flops_target_and_conflicts() -> None:
    depths = (3, 4, 23, 3)
    d = solve_width_per_group(8e9, depths, 32)
    assert d == 4
    spec = decode("resnext", {"groups": 32, "flops_target": 8e9, "depth_1": 3, "depth_2": 4,
                              "depth_3": 23, "depth_4": 3})
    assert complexity(spec).flops == 7969997800
    with pytest.raises(SpaceError, match="key 'match'.*not both"):
        decode("resnext", {"flops_target": 4e9, "match": "resnet50"})
    with pytest.raises(SpaceError, match="key 'width_per_group'"):
        decode("resnext", {"match": "resnet50", "width_per_group": 4})
    with pytest.raises(SpaceError, match="key 'match'.*resnet101, resnet152, resnet50"):
        decode("resnext", {"match": "vgg16"})


@pytest.mark.parametrize(
    ("f", "m", "expected"),
    [(32, 1.0, 32), (32, 1.1, 32), (32, 1.2, 40), (1280, 1.8, 2304), (24, 1.4, 32),
     (16, 0.35, 8), (10, 1.0, 16), (17, 0.7, 16), (112, 1.1, 120), (320, 2.0, 640)],
)
def test_round_width(f: int, m: float, expected: int) -> None:
    # n = max(8, int(f*m + 4) // 8 * 8), plus 8 when that is below 90% of f*m
    assert round_width(f, m) == expected


def test_round_depth() -> None:
    assert [round_depth(d, 3.1) for d in (1, 2, 3, 4)] == [4, 7, 10, 13]
    assert round_depth(3, 1.0) == 3


# (stem, head, depths, widths) of B1..B7 after rounding; their params equal torchvision's.
EFFNET_ROUNDED = {
    1: (32, 1280, [2, 3, 3, 4, 4, 5, 2], [16, 24, 40, 80, 112, 192, 320]),
    2: (32, 1408, [2, 3, 3, 4, 4, 5, 2], [16, 24, 48, 88, 120, 208, 352]),
    3: (40, 1536, [2, 3, 3, 5, 5, 6, 2], [24, 32, 48, 96, 136, 232, 384]),
    4: (48, 1792, [2, 4, 4, 6, 6, 8, 2], [24, 32, 56, 112, 160, 272, 448]),
    5: (48, 2048, [3, 5, 5, 7, 7, 9, 3], [24, 40, 64, 128, 176, 304, 512]),
    6: (56, 2304, [3, 6, 6, 8, 8, 11, 3], [32, 40, 72, 144, 200, 344, 576]),
    7: (64, 2560, [4, 7, 7, 10, 10, 13, 4], [32, 48, 80, 160, 224, 384, 640]),
}
EFFNET_MULTS = {1: (1.0, 1.1), 2: (1.1, 1.2), 3: (1.2, 1.4), 4: (1.4, 1.8), 5: (1.6, 2.2),
                6: (1.8, 2.6), 7: (2.0, 3.1)}


@pytest.mark.parametrize("b", sorted(EFFNET_ROUNDED))
def test_efficientnet_rounding(b: int) -> None:
    wm, dm = EFFNET_MULTS[b]
    spec = decode("efficientnet", {"width_mult": wm, "depth_mult": dm})
    stem, head, depths, widths = EFFNET_ROUNDED[b]
    assert (spec.stem.width, spec.head.width, spec.depths, spec.widths) == (stem, head, depths,
                                                                            widths)


def test_efficientnet_b0_layout() -> None:
    spec = decode("efficientnet", {})
    assert [(s.depth, s.width, s.expansion, s.kernel, s.stride) for s in spec.stages] == [
        (1, 16, 1, 3, 1), (2, 24, 6, 3, 2), (2, 40, 6, 5, 2), (3, 80, 6, 3, 2), (3, 112, 6, 5, 1),
        (4, 192, 6, 5, 2), (1, 320, 6, 3, 1)]
    assert {s.act for s in spec.stages} == {"silu"} and spec.head.act == "silu"
    assert (spec.head.width, spec.head.dropout, spec.resolution) == (1280, 0.2, 224)
    first = next(spec.blocks())
    assert (first.expand, first.w_se, first.residual) == (False, 8, False)


def test_efficientnet_compound_scaling() -> None:
    values = {"phi": 1, "base_resolution": 224}
    spec = decode("efficientnet", values)
    assert spec.resolution == 258  # round(224 * 1.15)
    assert spec.depths == [2, 3, 3, 4, 4, 5, 2]  # ceil(d * 1.2)
    assert spec.widths == [16, 24, 48, 88, 120, 208, 352]  # x 1.1
    derived = FAMILIES["efficientnet"].derived(values, spec)
    assert derived["compound"] == pytest.approx(1.2 * 1.1**2 * 1.15**2)
    assert derived["compound"] == pytest.approx(1.92027)
    assert (derived["width_mult"], derived["depth_mult"]) == pytest.approx((1.1, 1.2))
    # without base_resolution the input resolution is used as given
    assert decode("efficientnet", {"phi": 2, "resolution": 256}).resolution == 256
    # a grid point of the paper's phi = 1 search
    grid = {"phi": 1, "alpha": 1.4, "beta": 1.05, "gamma": 1.1}
    assert FAMILIES["efficientnet"].derived(grid, decode("efficientnet", grid))["compound"] == \
        pytest.approx(1.4 * 1.05**2 * 1.1**2)


def test_mobilenetv2() -> None:
    spec = decode("mobilenetv2", {})
    assert spec.depths == [1, 2, 3, 4, 3, 3, 1]
    assert spec.widths == [16, 24, 32, 64, 96, 160, 320]
    assert [s.expansion for s in spec.stages] == [1, 6, 6, 6, 6, 6, 6]
    assert {s.act for s in spec.stages} == {"relu6"} and {s.se_ratio for s in spec.stages} == {0}
    assert complexity(spec).params == 3504872


@pytest.mark.parametrize(
    ("mult", "stem", "head", "mmacs"),
    # published multiply-adds (millions, TF-slim table) of the width multipliers at 224 px
    [(0.5, 16, 1280, 97), (0.75, 24, 1280, 209), (1.0, 32, 1280, 300), (1.4, 48, 1792, 582)],
)
def test_mobilenetv2_width_multiplier(mult: float, stem: int, head: int, mmacs: int) -> None:
    spec = decode("mobilenetv2", {"width_mult": mult})
    assert (spec.stem.width, spec.head.width) == (stem, head)
    assert complexity(spec).flops / 1e6 == pytest.approx(mmacs, rel=0.005)


def test_invalid_multipliers() -> None:
    with pytest.raises(InvalidSample, match="key 'width_mult'"):
        decode("mobilenetv2", {"width_mult": 0})
    with pytest.raises(InvalidSample, match="key 'phi'"):
        decode("efficientnet", {"phi": -1})


def test_key_shapes() -> None:
    with pytest.raises(SpaceError, match="value keys must be strings"):
        decode("regnet", {1: 2})
    # a gap in the stages is a missing value of that stage
    values = {k: v for k, v in ANY200.items() if not k.endswith("_2")}
    with pytest.raises(SpaceError, match="key 'depth_2'"):
        decode("anynet", values)
    # a per-stage key given once applies to every stage
    spec = decode("anynet", {**ANY200, "bot_mul": 2})
    assert [s.bottleneck // s.width for s in spec.stages] == [2, 2, 2, 2]


@pytest.mark.parametrize(
    ("family", "values", "expected"),
    [
        ("regnet", {"depth": 13, "w0": 24, "wa": 36.44, "wm": 2.49, "group_w": 8},
         {"num_stages": 4.0}),
        ("anynet", ANY200, {"num_stages": 4.0}),
        ("resnext", {}, {"num_stages": 4.0, "width_per_group": 64.0}),
        ("mobilenetv2", {}, {"num_stages": 7.0}),
        ("efficientnet", {}, {"num_stages": 7.0, "compound": pytest.approx(1.92027),
                              "width_mult": 1.0, "depth_mult": 1.0}),
    ],
)
def test_derived(family: str, values: dict, expected: dict) -> None:
    derived = FAMILIES[family].derived(values, decode(family, values))
    assert derived == expected
    assert all(isinstance(v, float) for v in derived.values())
