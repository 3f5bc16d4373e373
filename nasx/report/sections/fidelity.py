"""The fidelity section: the seed-noise floor and the short-vs-long rank agreement of the runs
with retrains (in the shared Summary: the verdicts hold differences against the noise floor)."""

from __future__ import annotations

from nasx.analysis.results import Summary
from nasx.report.html import fmt, table
from nasx.report.sections.base import Section, core


def render(s: Summary) -> str:
    """The seed-noise floor and the short-vs-long rank agreement of the runs with retrains."""
    out = []
    for r in s.runs:
        f = r.fidelity
        if f is None:
            continue
        out.append(f"<h3>{fmt(r.name)}</h3>")
        out += [f'<p class="verdict">{fmt(line)}</p>' for line in f.lines()]
        sn = f.seed_noise
        if sn is not None:
            rows = [[m.id, m.n, m.mean, m.sd, ", ".join(f"{e:.2f}" for e in m.errors)]
                    for m in sn.per_model]
            out.append(table(["trial", "trainings", "mean error", "seed SD", "errors"], rows,
                             left=1))
            out.append(f'<p class="note">{fmt(sn.method)}.</p>')
        for sl in f.short_long:
            out.append(table(["trial", f"error at {sl.epochs_short or 'population'} epochs",
                              f"error at {sl.epochs_long} epochs"],
                             ([p.id, p.short, p.long] for p in sl.pairs)))
            out.append(f'<p class="note">{fmt(sl.method)}; B = {sl.B}, seed {sl.seed}.</p>')
        if f.unfinished or f.excluded:
            out.append(f'<p class="note">{f.unfinished} retrains not finished, {f.excluded}'
                       " finished ones left out (original not finished, or another recipe).</p>")
    out.append('<p class="note">From <code>nasx fidelity RUN</code>: a seeded random subset of'
               " the finished sampled models retrained with other seeds (same recipe) and/or a"
               " longer schedule; these retrains are kept out of every EDF, test and ranking."
               " Errors are the " + fmt(s.settings.error) + ".</p>")
    return "".join(out)


def shown(s: Summary) -> bool:
    """Shown when a run has retrains (``nasx fidelity``)."""
    return any(r.fidelity is not None for r in s.runs)


SECTION = Section("How much to trust the EDFs (nasx fidelity)", core, render, shown)
