"""Cutting one distribution to a good range: grid snapping, kinds, subsets."""

from __future__ import annotations

import math

import pytest

from nasx.refine.ranges import cut, is_strict_subset, is_subset
from nasx.space import ChoiceDist, FloatDist, IntDist, Pow2Dist


def test_int_q_snaps_outward_and_keeps_q_dividing_bounds():
    d = IntDist.parse({"int": [8, 256], "q": 8, "log": True})
    new = cut(d, 21.3, 99.0, [])
    assert new.to_yaml() == {"int": [16, 104], "q": 8, "log": True}
    assert is_strict_subset(new, d)


def test_int_never_leaves_the_parent():
    d = IntDist.parse({"int": [1, 16]})
    assert cut(d, -3.0, 40.0, []).to_yaml() == {"int": [1, 16]}
    assert not is_strict_subset(cut(d, 1.0, 16.0, []), d)


def test_float_rounds_outward_and_keeps_log():
    d = FloatDist.parse({"float": [1.5, 3.0], "log": True})
    new = cut(d, 1.98765, 2.51234, [])
    assert new.log
    assert new.lo == pytest.approx(1.98) and new.hi == pytest.approx(2.52)
    assert new.lo <= 1.98765 and new.hi >= 2.51234


def test_float_with_q():
    d = FloatDist.parse({"float": [0.0, 1.0], "q": 0.25})
    assert cut(d, 0.3, 0.6, []).to_yaml() == {"float": [0.25, 0.75], "q": 0.25}


def test_pow2_keeps_powers_inside():
    d = Pow2Dist.parse({"pow2": [1, 32]})
    new = cut(d, 3.0, 9.0, [])
    assert new.to_yaml() == {"pow2": [2, 16]}
    assert is_strict_subset(new, d)


def test_numeric_choice_keeps_values_inside_and_never_empties():
    d = ChoiceDist.parse({"choice": [1, 2, 4]})
    assert list(cut(d, 1.0, 2.0, [1, 2]).options) == [1, 2]
    # an interval between two options keeps the one nearest the winners' median
    assert list(cut(d, 2.2, 3.1, [2, 4, 4]).options) == [4]


def test_string_choice_by_winner_share():
    d = ChoiceDist.parse({"choice": ["a", "b", "c"]})
    winners = ["a"] * 90 + ["b"] * 10
    assert list(cut(d, math.nan, math.nan, winners).options) == ["a", "b"]


def test_subset_needs_same_kind():
    a = IntDist.parse({"int": [1, 4]})
    b = FloatDist.parse({"float": [1.0, 4.0]})
    assert not is_subset(a, b)
    assert is_subset(a, a) and not is_strict_subset(a, a)
