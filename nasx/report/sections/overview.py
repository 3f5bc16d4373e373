"""The overview section: headlines first, each comparison's full verdict (collapsed), and trial
counts (all computed in the shared Summary: they are the verdicts ``nasx report`` prints)."""

from __future__ import annotations

from nasx.analysis.multiple import in_family_order
from nasx.analysis.results import RunSummary, Summary
from nasx.report.html import fmt, table
from nasx.report.sections.base import Section, core
from nasx.status import TrialStatus as S

# the overview's columns: every status, the finished ones first
STATUS_COLS = (S.DONE, S.PRUNED, S.FAILED, S.DIVERGED, S.PENDING, S.RUNNING)


def render(s: Summary) -> str:
    """Headlines first, each comparison's full verdict (collapsed), and trial counts."""
    comps = in_family_order(s.comparisons, s.family)
    parts = [f'<p class="headline">{fmt(c.verdict.headline)}</p>' for c in comps]
    if s.family is not None and s.family.size > 1:
        parts.append(f'<p class="note">{fmt(s.family.rule)}.</p>')
    parts += [f'<p class="headline">{fmt(lv.sentence)}</p>' for c in comps for lv in c.long or []]
    parts += [f"<details><summary>the full verdict: {fmt(c.plain.a)} vs {fmt(c.plain.b)}"
              f'</summary><p class="verdict">{fmt(c.verdict.text)}</p></details>'
              for c in comps]
    if not s.comparisons:
        parts.append(f'<p class="verdict">{fmt(run_line(s.runs[0]))}</p>')
    parts.append(f'<p class="note">Every EDF, test, good range, trend and best-model ranking uses'
                 f' the {fmt(s.settings.error)}; the test error is '
                 f'{fmt(s.settings.test_error)}.</p>')
    rows = [[r.name, r.counts.total, *(r.counts.statuses[c] for c in STATUS_COLS),
             r.counts.finished_sampled, r.counts.finished_refine,
             r.counts.finished_other_recipe, r.counts.statuses["done_without_error"]]
            for r in s.runs]
    parts.append(table(["run", "trials", *STATUS_COLS, "finished sampled", "finished refine",
                        "finished, other recipe", "done, no error"], rows))
    notes = [f"{r.name}: population = {r.population}" for r in s.runs
             if r.population != "sampled"]
    notes += s.notes
    parts += [f'<p class="note">{fmt(n)}</p>' for n in notes]
    return "".join(parts)


def run_line(r: RunSummary) -> str:
    """One sentence on a single run: its population, median and best (with the test error)."""
    test = r.best_test_error
    kind = r.error_kind
    line = (f"{r.name}: {r.edf.n} finished sampled models, median {kind} error"
            f" {fmt(r.median_error)}%, best {kind} error {fmt(r.best_error)}%"
            f" (trial {r.best_id}")
    line += f", test error {fmt(test)}%)." if test is not None and kind != "test" else ")."
    if r.other_recipe.note:
        line += f" {r.other_recipe.note.split(': ', 1)[1].capitalize()}."
    return line


SECTION = Section("Overview", core, render)
