"""Quantities with K/M/G suffixes, bounds and relations."""

from __future__ import annotations

import pytest

from nasx.space import apply_relation, parse_bounds, parse_quantity, within


@pytest.mark.parametrize(("raw", "value"), [
    (None, None), (5, 5), (2.5, 2.5), (4.0, 4), ("360M", 360_000_000), ("0.4G", 400_000_000),
    ("10K", 10_000), ("10k", 10_000), ("1.5", 1.5), ("2e3", 2000), (" 7 M ", 7_000_000),
])
def test_parse_quantity(raw, value):
    got = parse_quantity(raw)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("raw", ["1MB", "M", "", True, [1], "nan", float("inf")])
def test_parse_quantity_rejects(raw):
    with pytest.raises(ValueError):
        parse_quantity(raw)


def test_bounds_and_within():
    b = parse_bounds(["360M", "400M"])
    assert b == (360_000_000, 400_000_000)
    assert within(360_000_000, b) and within(400_000_000, b) and not within(400_000_001, b)
    assert within(-1e30, parse_bounds([None, None]))
    with pytest.raises(ValueError, match="lo <= hi"):
        parse_bounds([2, 1])


def test_relations():
    assert apply_relation([3, 1, 2], "shared") == [3, 3, 3]
    assert apply_relation([3, 1, 2], "non_decreasing") == [1, 2, 3]
    assert apply_relation([3, 1, 2], "non_increasing") == [3, 2, 1]
    assert apply_relation([3, 1, 2], None) == [3, 1, 2]
