"""The spaces section: recipes, space files and their differences (in the shared Summary)."""

from __future__ import annotations

from nasx.analysis.results import Summary
from nasx.report.html import fmt, pre, recipe_block
from nasx.report.sections.base import Section, core


def render(s: Summary) -> str:
    """Recipes, space files and their differences."""
    out = []
    for r in s.runs:
        out.append(f"<h3>{fmt(r.name)}</h3><p class=\"note\">space file "
                   f"{fmt(r.space_file)}, sha256 {fmt(r.space_sha256)}; run {fmt(r.root)}"
                   "</p>")
        out.append(recipe_block(r.recipe))
        out.append(pre(r.space_text))
    for d in s.space_diffs:
        out.append(f"<h3>space diff {fmt(d.a)} → {fmt(d.b)}</h3>")
        out.append(pre(d.diff, diff=True) if d.diff else "<p>identical space files</p>")
    return "".join(out)


SECTION = Section("Recipes and space files", core, render)
