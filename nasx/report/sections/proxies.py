"""The zero-cost proxies section: each run's proxies ranked by their rank correlation with the
error (``RunSummary.proxies`` of the shared Summary, from ``nasx proxies``)."""

from __future__ import annotations

from nasx.analysis.fidelity import BOOTSTRAP_B, LEVEL, RANK_METHOD
from nasx.analysis.results import Summary
from nasx.report.html import fmt, table
from nasx.report.sections.base import Section, core

BASELINES = ("params", "flops")


def _interval(low: float | None, high: float | None) -> str:
    return f"[{fmt(low)}, {fmt(high)}]"


def render(s: Summary) -> str:
    """Each run's zero-cost proxies ranked by their rank correlation with the error."""
    out = []
    for r in s.runs:
        if r.proxies is None:
            continue
        rows: list[list[object]] = [
            [i, p.proxy + (" (baseline)" if p.proxy in BASELINES else ""), p.n, p.spearman,
             _interval(p.spearman_ci.low, p.spearman_ci.high), p.kendall,
             _interval(p.kendall_ci.low, p.kendall_ci.high)]
            for i, p in enumerate(r.proxies, start=1)]
        out.append(f"<h3>{fmt(r.name)}</h3>")
        out.append(table(["rank", "proxy", "n", "Spearman rho", f"{LEVEL:.0%} interval",
                          "Kendall tau-b", f"{LEVEL:.0%} interval"], rows, left=2))
    out.append('<p class="note">From <code>nasx proxies RUN</code>: scores of each untrained'
               " model, correlated over the run's finished sampled models with minus the "
               + fmt(s.settings.error) + ": +1 means the proxy orders the models as training"
               " did, 0 that it knows nothing of their errors. Ranked by Spearman rho. params"
               " and flops are the baselines: a proxy is worth its cost only above them."
               f" Intervals: {fmt(RANK_METHOD)}; B = {BOOTSTRAP_B}, seed {s.settings.seed}."
               " n: models with both the proxy and the error finite.</p>")
    return "".join(out)


def shown(s: Summary) -> bool:
    """Shown when a run has proxies (``nasx proxies``)."""
    return any(r.proxies is not None for r in s.runs)


SECTION = Section("Zero-cost proxies vs validation error", core, render, shown)
