"""The best-of-k section: the best error among k random models (in the shared Summary's runs)."""

from __future__ import annotations

import nasx.report.figures as figures
from nasx.analysis.results import Summary
from nasx.report.html import figure, fmt, table
from nasx.report.sections.base import Section, core


def render(s: Summary) -> str:
    """Best error among k random models."""
    rows = [[r.name, b.k, b.mean, b.std, b.p2_5, b.p50, b.p97_5]
            for r in s.runs for b in r.best_of_k]
    return (figure(figures.best_of_k_figure(s), "best of k")
            + f'<p class="note">{fmt(s.settings.best_of_k_method)}.</p>'
            + table(["run", "k", "expected best", "std", "2.5%", "50%", "97.5%"], rows))


SECTION = Section("Best of k", core, render)
