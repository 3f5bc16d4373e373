"""RegNet decoding: quantisation, validity, compatibility adjust, exact complexity."""

from __future__ import annotations

import pytest

from nasx.arch.complexity import complexity
from nasx.arch.families import FAMILIES, decode
from nasx.arch.families.bottleneck import adjust_compat
from nasx.arch.families.regnet import quantized_stages
from nasx.errors import InvalidSample, SpaceError

X200 = {"depth": 13, "w0": 24, "wa": 36.44, "wm": 2.49, "group_w": 8}


def test_regnetx_200mf_exact() -> None:
    spec = decode("regnet", X200)
    assert spec.depths == [1, 1, 4, 7]
    assert spec.widths == [24, 56, 152, 368]
    assert [s.groups for s in spec.stages] == [3, 7, 19, 46]
    assert [s.bottleneck for s in spec.stages] == [24, 56, 152, 368]
    assert [s.stride for s in spec.stages] == [2, 2, 2, 2]
    assert (spec.stem.width, spec.stem.stride, spec.head.width) == (32, 2, 0)
    cx = complexity(spec)
    assert (cx.flops, cx.params, cx.acts) == (199040872, 2684792, 2164056)
    assert FAMILIES["regnet"].derived(X200, spec) == {"num_stages": 4.0}


def test_regnety_400mf_exact() -> None:
    values = {"depth": 16, "w0": 48, "wa": 27.89, "wm": 2.09, "group_w": 8, "se_ratio": 0.25}
    spec = decode("regnet", values)
    assert spec.depths == [1, 3, 6, 6]
    assert spec.widths == [48, 104, 208, 440]
    assert complexity(spec).to_dict() == {"flops": 401849056, "params": 4344144, "acts": 3892496}


def test_quantisation_rounds_half_to_even() -> None:
    # w0 / q = 2.5 -> 2 and 3.5 -> 4 (numpy's rounding), not 3 and 4 (half up)
    assert quantized_stages(1, 20, 0, 2.0) == ([16], [1])
    assert quantized_stages(1, 28, 0, 2.0) == ([32], [1])
    assert quantized_stages(30, 8, 8, 3.0) == ([8, 24, 72, 216], [1, 4, 10, 15])


@pytest.mark.parametrize(
    ("depth", "w0", "wa", "wm", "distinct", "expected"),
    [
        (13, 8, 200, 1.5, 7, 15),  # wa >> w0: quantised exponents skip values
        (2, 24, 1000, 2.0, 2, 6),
        (10, 2, 0.5, 2.0, 2, 3),  # two exponents quantise to the same width 0
    ],
)
def test_invalid_when_distinct_widths_differ(depth, w0, wa, wm, distinct, expected) -> None:
    with pytest.raises(InvalidSample, match=f"{distinct} distinct widths but max\\(s_j\\)\\+1 = "
                                            f"{expected}"):
        quantized_stages(depth, w0, wa, wm)
    with pytest.raises(InvalidSample):
        decode("regnet", {"depth": depth, "w0": w0, "wa": wa, "wm": wm, "group_w": 8})


def test_zero_width_and_bad_ranges_are_invalid_samples() -> None:
    with pytest.raises(InvalidSample, match="key 'w0'"):
        quantized_stages(4, 2, 0, 2.0)  # round(2 / 8) = 0
    for key, value in (("wm", 1.0), ("w0", 0), ("wa", -1.0), ("depth", 0)):
        with pytest.raises(InvalidSample, match=f"key '{key}'"):
            decode("regnet", {**X200, key: value})


@pytest.mark.parametrize(
    ("width", "bot_mul", "group_w", "expected"),
    [
        (368, 1, 8, (368, 368, 8)),
        (100, 1, 16, (96, 96, 16)),  # 100 / 16 = 6.25 -> 6 groups of 16
        (20, 1, 8, (16, 16, 8)),  # 2.5 -> 2 (half to even)
        (24, 1, 64, (24, 24, 24)),  # g > w: g becomes w
        (100, 2, 24, (96, 192, 24)),  # lcm(24, 2) = 24; 200 / 24 -> 8
        (100, 4, 6, (99, 396, 6)),  # lcm(6, 4) = 12; 400 / 12 -> 33
        (56, 0.25, 8, (64, 16, 8)),  # b < 1: m = g; v = 14 -> 16, w = 16 / 0.25
        (3, 1, 8, (3, 3, 3)),
    ],
)
def test_adjust_compat(width, bot_mul, group_w, expected) -> None:
    assert adjust_compat(width, bot_mul, group_w) == expected
    w, w_b, g = expected
    assert w_b % g == 0


def test_fractional_bot_mul_above_one_is_invalid() -> None:
    with pytest.raises(InvalidSample, match="key 'bot_mul'"):
        adjust_compat(64, 1.5, 8)


def test_bot_mul_and_cifar_stem() -> None:
    spec = decode("regnet", {**X200, "bot_mul": 2, "stem": "cifar", "resolution": 32,
                             "num_classes": 10, "stem_width": 16})
    assert [s.bottleneck for s in spec.stages] == [48, 112, 304, 736]
    assert [s.groups for s in spec.stages] == [6, 14, 38, 92]
    assert (spec.stem.width, spec.stem.stride, spec.resolution, spec.num_classes) == (16, 1, 32, 10)
    assert complexity(spec).to_dict() == {"flops": 29585514, "params": 4558442, "acts": 260618}


def test_regnet_errors_name_the_key() -> None:
    with pytest.raises(SpaceError, match="key 'stem'.*imagenet, cifar"):
        decode("regnet", {**X200, "stem": "tiny"})
    with pytest.raises(SpaceError, match="key 'depth'.*integer"):
        decode("regnet", {**X200, "depth": 13.5})
    with pytest.raises(SpaceError, match="key 'wa'.*number"):
        decode("regnet", {**X200, "wa": "36.44"})
    with pytest.raises(SpaceError, match="key 'w0'.*missing"):
        decode("regnet", {k: v for k, v in X200.items() if k != "w0"})
