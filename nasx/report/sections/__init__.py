"""The sections of the report page, one module each, and their registry in page order.

Each module (``overview``, ``edfs``, ...) defines ``SECTION``: a :class:`Section` that owns what
it computes and how it renders (see :mod:`nasx.report.sections.base` for the design: the shared
numbers stay in the analysis Summary, whose JSON is summary.json). :data:`SECTIONS` lists the
modules' sections in page order; :func:`nasx.report.write.build_report` and
:func:`~nasx.report.write.render` loop over it, or over a registry given to them (see
:func:`with_section`). Adding a section: one module here, one line in ``MODULES``, its tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nasx.report.sections import (
    best_of_k,
    comparisons,
    edfs,
    fidelity,
    good_ranges,
    latency,
    overview,
    proxies,
    spaces,
    stages,
    trends,
)
from nasx.report.sections.base import Context, Section

# The section modules, in page order.
MODULES = (overview, edfs, comparisons, fidelity, best_of_k, good_ranges, trends, stages, proxies,
           latency, spaces)

SECTIONS: tuple[Section[Any], ...] = tuple(m.SECTION for m in MODULES)


def with_section(section: Section[Any], after: str | None = None,
                 sections: Sequence[Section[Any]] = SECTIONS) -> tuple[Section[Any], ...]:
    """A registry with ``section`` placed after the section titled ``after`` (last when None);
    ``sections`` is left as it is. ValueError on an unknown ``after`` or a title given twice."""
    titles = [s.title for s in sections]
    if section.title in titles:
        raise ValueError(f"a section is already titled {section.title!r}")
    if after is None:
        return (*sections, section)
    if after not in titles:
        raise ValueError(f"no section is titled {after!r}")
    at = titles.index(after) + 1
    return (*sections[:at], section, *sections[at:])


__all__ = ["MODULES", "SECTIONS", "Context", "Section", "with_section"]
