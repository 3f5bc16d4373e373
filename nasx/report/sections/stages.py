"""The stages section: stage width/depth profiles, the best models and the Pareto front (in the
shared Summary's runs)."""

from __future__ import annotations

import nasx.report.figures as figures
from nasx.analysis.results import Summary
from nasx.report.html import figure, fmt, table
from nasx.report.sections.base import Section, core


def render(s: Summary) -> str:
    """Stage width/depth profiles and the best models."""
    out = [figure(figures.stage_figure(s), "stage profiles")]
    rows = [[r.name, b.id, b.origin, b.error, b.test_error, b.flops, b.params, b.acts,
             " / ".join(f"{x.flops:,} ({x.resolution} px)" for x in b.scaled or [])]
            for r in s.runs for b in r.best]
    out.append(f'<h3>Best models (ranked by {fmt(s.settings.error)})</h3>')
    out.append(table(["run", "trial", "origin", "error (ranks)", "test error (not used to rank)",
                      "flops", "params", "acts", "flops scaled 2x / 4x (dWr)"], rows, left=3))
    out.append('<p class="note">Trials trained with another recipe are not ranked. The test error'
               " of the chosen models is the unbiased final number; selecting on it would be"
               " optimistic.</p>")
    rows = [[r.name, p.id, p.origin, p.value, p.error] for r in s.runs for p in r.pareto_flops]
    out.append("<h3>Pareto front (error vs flops)</h3>")
    out.append(table(["run", "trial", "origin", "flops", "error"], rows, left=3))
    return "".join(out)


SECTION = Section("Best models and stage profiles", core, render)
