"""The latency section: error against measured latency with its Pareto front, per backend,
device and batch (``RunSummary.latency`` of the shared Summary, from ``nasx measure``)."""

from __future__ import annotations

import nasx.report.figures as figures
from nasx.analysis.results import Summary
from nasx.report.html import figure, fmt, table
from nasx.report.sections.base import Section, core


def render(s: Summary) -> str:
    """Error against measured latency with its Pareto front, per backend, device and batch."""
    out = [figure(figures.latency_figure(s), "error vs measured latency")]
    views: list[list[object]] = [[r.name, v.caption(), v.n, len(v.pareto), v.method]
                                 for r in s.runs for v in r.latency or []]
    out.append(table(["run", "latency measured with", "models", "on the Pareto front",
                      "method"], views, left=2))
    for r in s.runs:
        for v in (r.latency or [])[:1]:  # the most measured view; summary.json has them all
            spread = {p.id: p.spread_ms for p in v.points}
            rows: list[list[object]] = [[p.id, p.origin, p.value, spread.get(p.id), p.error]
                                        for p in v.pareto]
            out.append(f"<h3>Pareto front of {fmt(r.name)} (error vs latency, "
                       f"{fmt(v.caption())})</h3>")
            out.append(table(["trial", "origin", "latency (ms)", "IQR (ms)", "error"], rows,
                             left=2))
    out.append('<p class="note">From <code>nasx measure RUN</code> (or <code>--measure</code> at'
               " training time): median of timed inference runs after warm-up, IQR over those"
               " runs, on the device, backend, batch and thread count named above each panel."
               " Points: the finished models trained with the run's recipe (dots sampled,"
               " crosses refine), against the " + fmt(s.settings.error) + "; latency does not"
               " depend on the seed, so models of one architecture share its measurement."
               " Ringed points on the dotted line: the Pareto front, no model both faster and"
               " more accurate. Latency axis logarithmic.</p>")
    return "".join(out)


def shown(s: Summary) -> bool:
    """Shown when a run has latency measurements (``nasx measure``)."""
    return any(r.latency is not None for r in s.runs)


SECTION = Section("Error vs measured latency", core, render, shown)
