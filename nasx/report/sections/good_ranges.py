"""The good-ranges section: bootstrap good ranges (DDS; in the shared Summary's runs, whose
settings record the bootstrap's B)."""

from __future__ import annotations

from nasx.analysis.results import Summary
from nasx.report.html import fmt, table
from nasx.report.sections.base import Section, core


def render(s: Summary) -> str:
    """Bootstrap good ranges (DDS)."""
    out = []
    for r in s.runs:
        g = r.good_ranges
        rows = [[col, v.p2_5, v.p50, v.p97_5, v.min, v.max] for col, v in g.ranges.items()]
        out.append(f"<h3>{fmt(r.name)}</h3><p class=\"note\">B = {g.B} draws of m = {g.m}"
                   f" models with replacement (seed {g.seed}); percentiles of the winners.</p>")
        out.append(table(["parameter", "2.5%", "50%", "97.5%", "min in run", "max in run"], rows))
    return "".join(out)


SECTION = Section("Good ranges (bootstrap)", core, render)
