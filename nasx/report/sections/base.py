"""What a report section is: its title, what it computes, how it renders, when it shows.

The design (least risky for a pinned summary.json): the numbers several sections and the
headlines share stay in one typed :class:`~nasx.analysis.results.Summary` (runs, comparisons,
verdicts; ``summarize`` in :mod:`nasx.analysis.summary`), whose ``to_json()`` is summary.json
byte for byte as before. A section owns the rest: ``compute`` takes the :class:`Context` (that
Summary and the validated runs) and returns the section's own data, calling analysis functions
for anything the Summary does not hold; ``render`` turns that data into HTML; ``shown`` says
from that data whether the page shows it. A section with a ``key`` writes its data into
summary.json under that top-level key, after the Summary's keys (no built-in section has one,
so their summary.json is unchanged). A new section is thus one module plus its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from nasx.analysis.jsonable import to_json
from nasx.types import JSONValue

if TYPE_CHECKING:
    from nasx.analysis.load import RunData
    from nasx.analysis.results import Summary

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Context:
    """What every section computes from: the shared Summary and the validated runs (empty
    when only a Summary is rendered, see :func:`nasx.report.write.render`)."""

    summary: Summary
    runs: Sequence[RunData] = ()


def core(ctx: Context) -> Summary:
    """The ``compute`` of a section whose numbers are all in the shared Summary."""
    return ctx.summary


def always(_data: object) -> bool:
    """The ``shown`` of a section the page always shows."""
    return True


@dataclass(frozen=True)
class Section(Generic[T]):
    """One section of the report page.

    ``compute`` makes the section's data from the context, ``render`` its HTML from that data,
    ``shown`` whether the page shows it; ``key``, when set, is the summary.json key its data is
    written under (strict JSON through :func:`nasx.analysis.jsonable.to_json`; left out while
    the data is None).
    """

    title: str
    compute: Callable[[Context], T]
    render: Callable[[T], str]
    shown: Callable[[T], bool] = always
    key: str | None = None


# a section and its computed data
Built = tuple[Section[Any], Any]


def compute_all(ctx: Context, sections: Sequence[Section[Any]]) -> list[Built]:
    """Every section's data, in page order (computed once, for the page and summary.json)."""
    return [(sec, sec.compute(ctx)) for sec in sections]


def page_parts(built: Sequence[Built]) -> list[tuple[str, str]]:
    """(title, HTML) of every shown section, in page order."""
    return [(sec.title, sec.render(data)) for sec, data in built if sec.shown(data)]


def json_parts(built: Sequence[Built], taken: Sequence[str]) -> dict[str, JSONValue]:
    """The summary.json entries of the sections with a key; ValueError on a key in ``taken``
    (the Summary's own keys) or given twice."""
    out: dict[str, JSONValue] = {}
    for sec, data in built:
        if sec.key is None or data is None:
            continue
        if sec.key in taken or sec.key in out:
            raise ValueError(f"section {sec.title!r}: summary.json key {sec.key!r} is taken")
        out[sec.key] = to_json(data)
    return out
