"""Distributions: draws (pinned golden values), batch == scalar draws, and every rule."""

from __future__ import annotations

import numpy as np
import pytest

from nasx.errors import SpaceError
from nasx.space import ChoiceDist, Fixed, FloatDist, IntDist, Pow2Dist, parse_param

GOLDEN = [
    ({"int": [12, 28]}, IntDist, [26, 22, 20, 16]),
    ({"int": [8, 256], "q": 8, "log": True}, IntDist, [72, 24, 8, 8]),
    ({"float": [8, 256], "log": True}, FloatDist,
     [72.74662623049461, 20.377901250846506, 9.220644658024954, 8.471621760926379]),
    ({"float": [0.1, 0.5], "q": 0.1}, FloatDist, [0.4, 0.2, 0.1, 0.1]),
    ({"pow2": [1, 32]}, Pow2Dist, [32, 8, 8, 2]),
    ({"choice": [0, 0.25, "x"]}, ChoiceDist, ["x", 0.25, 0.25, 0]),
]


@pytest.mark.parametrize(("raw", "cls", "expected"), GOLDEN)
def test_draws_are_pinned_and_batches_match(raw, cls, expected):
    p = parse_param(raw, where="s.yaml", key="k")
    assert isinstance(p, cls)
    rng = np.random.default_rng(0)
    assert [p.sample(rng) for _ in range(4)] == expected
    assert p.sample_many(np.random.default_rng(0), 4).tolist() == expected


@pytest.mark.parametrize(("raw", "cls", "expected"), GOLDEN)
def test_to_yaml_round_trips(raw, cls, expected):
    p = parse_param(raw, where="s.yaml", key="k")
    assert parse_param(p.to_yaml(), where="s.yaml", key="k") == p


def test_draws_respect_bounds_q_and_types():
    rng = np.random.default_rng(1)
    ints = parse_param({"int": [16, 1024], "q": 16, "log": True}, where="f", key="k")
    xs = ints.sample_many(rng, 5000)
    assert xs.min() >= 16 and xs.max() <= 1024 and (xs % 16 == 0).all()
    assert all(type(v) is int for v in xs[:10].tolist())
    floats = parse_param({"float": [0.5, 2.0], "q": 0.25}, where="f", key="k")
    fs = floats.sample_many(rng, 2000).tolist()
    assert set(fs) == {0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0}
    pw = parse_param({"pow2": [0.25, 4]}, where="f", key="k")
    assert set(pw.sample_many(rng, 2000).tolist()) == {0.25, 0.5, 1.0, 2.0, 4.0}
    uniform = parse_param({"int": [1, 4]}, where="f", key="k").sample_many(rng, 8000)
    assert sorted(np.bincount(uniform)[1:] > 1800) == [True] * 4


def test_log_uniform_favours_small_values():
    rng = np.random.default_rng(2)
    xs = parse_param({"float": [1, 100], "log": True}, where="f", key="k").sample_many(rng, 4000)
    assert 0.45 < np.mean(xs < 10) < 0.55  # half the mass below the geometric midpoint


def test_fixed_values_draw_nothing():
    rng = np.random.default_rng(0)
    p = parse_param(1.5, where="f", key="k")
    assert p == Fixed(value=1.5) and p.sample(rng) == 1.5
    assert parse_param("cifar", where="f", key="k").sample(rng) == "cifar"
    assert rng.integers(0, 10**9) == np.random.default_rng(0).integers(0, 10**9)


@pytest.mark.parametrize(("raw", "key", "words"), [
    ({"int": [28, 12]}, "k", "lo <= hi"),
    ({"int": [12, 20], "q": 8}, "k", "q=8 must divide both bounds"),
    ({"float": [0.1, 0.35], "q": 0.1}, "k", "must divide both bounds"),
    ({"int": [0, 8], "log": True}, "k", "log needs lo > 0"),
    ({"float": [-1, 8], "log": True}, "k", "log needs lo > 0"),
    ({"pow2": [1, 24]}, "k", "powers of two"),
    ({"choice": []}, "k.choice", "at least 1"),
    ({"int": [1.5, 8]}, "k.int.0", "valid integer"),
    ({"int": [1, 8], "step": 2}, "k.step", "extra inputs"),
    ({"int": [1, 8], "log": "yes"}, "k.log", "valid boolean"),
    ({"int": [1, 8], "float": [1, 2]}, "k", "exactly one of"),
    ({"uniform": [1, 8]}, "k", "exactly one of"),
    ({"int": [1, 2, 3]}, "k.int", "at most 2"),
])
def test_rules_raise_one_line_errors(raw, key, words):
    with pytest.raises(SpaceError) as info:
        parse_param(raw, where="s.yaml", key="k")
    msg = str(info.value)
    assert msg.startswith(f"s.yaml: key '{key}': ") and words in msg.lower()
    assert "\n" not in msg


def test_lists_are_not_fixed_values():
    with pytest.raises(SpaceError, match="expected a fixed scalar or a distribution"):
        parse_param([1, 2], where="s.yaml", key="params.depth")
