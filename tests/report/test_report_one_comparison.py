"""One normalised comparison per pair: the table, summary.json, the headline, the verdict and the
figure's panel title show the same numbers; the EDF figure stays readable with many runs."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest
from summary_cases import CASES
from synth_runs import make_run

from nasx.analysis import read_runs, summarize
from nasx.analysis.compare import fmt_p
from nasx.report import figures
from nasx.report.html import fmt


def _rows(page: str) -> list[list[str]]:
    """The cells of every table row of the page (text only)."""
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)
        out.append([html_lib.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells])
    return out


def _check_pair(c: dict, rows: list[list[str]]) -> None:
    d, p = c["normalized_ks_statistic"], c["normalized_ks_pvalue_permutation"]
    assert c["normalized_ks_pvalue_approx"] == p  # the documented alias
    (row,) = [r for r in rows if r[:5] == [html_lib.unescape(fmt(c[k])) for k in
                                           ("a", "b", "n_a", "n_b", "ks_statistic")]]
    assert row[-3:] == [html_lib.unescape(fmt(x)) for x in (
        "normalised by " + " and ".join(c["normalized_by"]) if c["carried_by"] == "normalized"
        else c["carried_by"], d, p)]
    if c["carried_by"] != "normalized":
        assert d is None and p is None
        return
    binding = max(c["normalized_by"], key=lambda k: c["normalized"][k]["ks_pvalue_permutation"])
    n = c["normalized"][binding]
    assert (d, p) == (n["ks_statistic"], n["ks_pvalue_permutation"])
    assert f"normalised KS D = {d:.2f}, permutation p = {fmt_p(p)}" in c["verdict"]
    assert f"permutation p = {fmt_p(p)}" in c["headline"]
    for k in c["normalized_by"]:
        assert f"Normalised by {k} over" in c["verdict"] or f"normalised by {k} over" in \
            c["verdict"]


def test_seven_runs_table_json_and_verdicts_agree(seven_runs_report):
    summary = json.loads((seven_runs_report.parent / "summary.json").read_text())
    page = seven_runs_report.read_text()
    rows = _rows(page)
    comps = summary["comparisons"]
    assert len(comps) == 21
    assert {c["carried_by"] for c in comps} >= {"plain", "normalized"}
    assert {tuple(c["normalized_by"]) for c in comps} >= {("params",), ("flops", "params")}
    for c in comps:
        _check_pair(c, rows)
        assert html_lib.escape(c["headline"], quote=False) in page or fmt(c["headline"]) in page


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_pinned_case_agrees(name, tmp_path):
    from nasx.report.write import render

    specs, opts = CASES[name]
    dirs = [make_run(tmp_path / s["name"], **s) for s in specs]
    s = summarize(read_runs(dirs, allow_incomparable=name == "incomparable"), **opts)
    rows = _rows(render(s))
    for c in s.to_json()["comparisons"]:
        _check_pair(c, rows)


def test_the_figure_panels_are_the_verdicts_comparisons(seven_runs):
    s = summarize(read_runs(seven_runs))
    panels = figures.normalized_panels(s)
    assert panels and all(c.verdict.carried_by == "normalized" for c, _ in panels)
    assert sum(len(c.verdict.normalized_by) for c in s.comparisons
               if c.verdict.carried_by == "normalized") == len(panels)


@pytest.mark.parametrize("n_runs", [2, 6, 8])
def test_the_edf_legend_never_covers_the_curves(n_runs, tmp_path):
    import matplotlib.pyplot as plt

    dirs = [make_run(tmp_path / f"r{i}", f"run_{i}", n=12, seed=i, shift=0.5 * i)
            for i in range(n_runs)]
    fig = figures.edf_plot(summarize(read_runs(dirs)))
    fig.canvas.draw()
    (ax,) = fig.axes
    (legend,) = fig.legends
    box, leg = ax.get_window_extent(), legend.get_window_extent()
    assert leg.x0 >= box.x1  # beside the axes, not over them
    assert leg.x1 <= fig.bbox.x1 + 1  # and inside the figure
    assert len(legend.get_texts()) == n_runs
    bands = [c for c in ax.collections if c.get_label().startswith("_")]
    assert (len(bands) > 0) == (n_runs <= figures.BANDS_UP_TO)
    colors = {tuple(line.get_color()) for line in ax.get_lines()}
    assert len(colors) == n_runs  # the colour-blind palette gives each run its own colour
    plt.close(fig)
