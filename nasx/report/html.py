"""The static HTML page: inline CSS, figures as base64 PNG, no external resources.

A small inline script records, after the page has loaded, how many of its images decoded
(``#img-status`` ``data-total`` / ``data-loaded``), so a headless browser can check the figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasx.analysis.results import RecipeSummary

CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f2f2f2}
td.l,th.l{text-align:left}.verdict{font-size:1.05em;background:#f5f9ff;border-left:4px solid #3a7bd5;
padding:.5em 1em;margin:.5em 0}.headline{font-weight:600;margin:.3em 0}
details{margin:.3em 0}summary{cursor:pointer;color:#3a7bd5}.note{color:#555;font-size:.9em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.82em}
img{max-width:100%;display:block;margin:.6em 0}.diff-add{color:#075}.diff-del{color:#a00}
"""

SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; }
  }
  var s = document.getElementById('img-status');
  s.setAttribute('data-total', String(imgs.length));
  s.setAttribute('data-loaded', String(ok));
});
"""


def fmt(v: object) -> str:
    """A number for a table cell: integers plainly, floats with 4 significant digits; none, NaN
    and infinities (null in summary.json) as "-"."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3g}"
        return f"{v:.4g}"
    return escape(str(v))


def table(header: list[str], rows: Iterable[list[object]], left: int = 1) -> str:
    """An HTML table; the first ``left`` columns are left-aligned text."""
    th = "".join(f'<th class="{"l" if i < left else ""}">{escape(h)}</th>'
                 for i, h in enumerate(header))
    body = []
    for row in rows:
        tds = "".join(f'<td class="{"l" if i < left else ""}">{fmt(v)}</td>'
                      for i, v in enumerate(row))
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(png_b64: str, alt: str) -> str:
    """An inline PNG figure."""
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{png_b64}">'


def pre(text: str, diff: bool = False) -> str:
    """Preformatted text; a unified diff gets its added/removed lines coloured."""
    if not diff:
        return f"<pre>{escape(text)}</pre>"
    lines = []
    for line in text.splitlines():
        cls = ("diff-add" if line.startswith("+") and not line.startswith("+++") else
               "diff-del" if line.startswith("-") and not line.startswith("---") else "")
        lines.append(f'<span class="{cls}">{escape(line)}</span>' if cls else escape(line))
    return "<pre>" + "\n".join(lines) + "</pre>"


def recipe_block(recipe: RecipeSummary) -> str:
    """Recipe table: shared values, then the keys sampled per trial."""
    rows: list[list[object]] = [[k, json.dumps(v)] for k, v in recipe.common.items()]
    for k, v in recipe.varying.items():
        what = (f"{fmt(v.min)} .. {fmt(v.max)}" if v.values is None else ", ".join(v.values))
        rows.append([k, f"varies per trial ({v.n_distinct} distinct): {what}"])
    return table(["key", "value"], rows, left=2)


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """The whole document."""
    nav = " | ".join(f'<a href="#s{i}">{escape(h)}</a>' for i, (h, _) in enumerate(sections))
    body = "".join(f'<h2 id="s{i}">{escape(h)}</h2>{html}' for i, (h, html) in enumerate(sections))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1><p class=\"note\">{nav}</p>"
        f'{body}<div id="img-status" data-total="" data-loaded=""></div>'
        f"<script>{SCRIPT}</script></body></html>"
    )
