"""The Pareto front of (cost, error) points, lower is better on both: one rule for all callers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def pareto_front(items: Iterable[T], point: Callable[[T], tuple[float, float, int]]) -> list[T]:
    """Items no other item beats on both cost and error, by increasing cost.

    ``point(item)`` is (cost, error, id); ties go to the lower error, then the lower id. Sorted by
    cost, an item is on the front when its error is below that of every cheaper item.
    """
    front: list[T] = []
    best = float("inf")
    for item in sorted(items, key=point):
        error = point(item)[1]
        if error < best:
            front.append(item)
            best = error
    return front
