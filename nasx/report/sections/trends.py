"""The trends section: error against complexity and every sampled parameter, with correlations
(the trends are in the shared Summary's runs; the scatter figures draw them)."""

from __future__ import annotations

import nasx.report.figures as figures
from nasx.analysis.results import Summary
from nasx.report.html import figure, table
from nasx.report.sections.base import Section, core


def render(s: Summary) -> str:
    """Error against complexity and every sampled parameter, with correlations."""
    params: list[str] = []
    for r in s.runs:
        params += [p for p in r.parameters if p not in params]
    out = [figure(figures.scatter_figure(s, ["flops", "params", "acts"],
                                         "error vs complexity (dotted: Pareto front)"),
                  "error vs complexity")]
    if params:
        out.append(figure(figures.scatter_figure(s, params, "error vs sampled parameters"),
                          "error vs parameters"))
    rows = [[r.name, t.column, t.n, t.x_scale, t.spearman_rho, t.spearman_pvalue, t.slope, t.r,
             t.fit_pvalue] for r in s.runs for t in r.trends]
    out.append('<p class="note">Dots: sampled; crosses: refine; squares: another recipe (not in'
               " the trends). Lines: median error in quantile bins. Slope: linregress of error on"
               " x (or log10 x).</p>")
    out.append(table(["run", "x", "n", "x scale", "Spearman rho", "rho p", "slope", "r", "fit p"],
                     rows, left=2))
    return "".join(out)


SECTION = Section("Error vs complexity and parameters", core, render)
