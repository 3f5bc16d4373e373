"""A section written as a new one would be (nasx/report/sections/<name>.py): the worst model of
each run's population, computed here from the validated runs, rendered as a table and written
into summary.json under its own key. Used by tests/report/test_report_new_section.py."""

from __future__ import annotations

from dataclasses import dataclass

from nasx.analysis.summary import population
from nasx.report.html import table
from nasx.report.sections.base import Context, Section


@dataclass(frozen=True)
class WorstModel:
    """The worst model of one run's population."""

    run: str
    id: int
    error: float


def compute(ctx: Context) -> list[WorstModel]:
    """The worst population model of every run (none when only a Summary is rendered)."""
    out = []
    for run in ctx.runs:
        pop = population(run)[0].sort_values(["error", "id"])
        worst = pop.iloc[-1]
        out.append(WorstModel(run=run.name, id=int(worst["id"]), error=float(worst["error"])))
    return out


def render(rows: list[WorstModel]) -> str:
    """One row per run: its worst model and that model's error."""
    return table(["run", "worst trial", "error"], ([w.run, w.id, w.error] for w in rows))


def shown(rows: list[WorstModel]) -> bool:
    """Shown when there are runs to look at."""
    return bool(rows)


SECTION = Section("Worst models", compute, render, shown, key="worst_models")
