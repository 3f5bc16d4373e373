"""The contract of every section in the registry (nasx/report/sections/): on tiny runs where
it shows and on runs where it may hide, it computes and renders, the page shows its title
exactly when its ``shown`` says so, and the page lists the shown sections in registry order."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from synth_runs import make_run  # tests/analysis, on the path by conftest
from test_analysis_fidelity import add_retrains
from test_analysis_proxies_summary import add_proxies
from test_report_latency import add_measurements

import nasx.report.sections as sections_pkg
from nasx.analysis import read_runs, summarize
from nasx.report.sections import MODULES, SECTIONS, Context, Section
from nasx.report.write import render

# the sections a single run without retrains, proxies or measurements does not show
OPTIONAL = {"Comparison of spaces", "How much to trust the EDFs (nasx fidelity)",
            "Zero-cost proxies vs validation error", "Error vs measured latency"}


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Context]:
    """"full": two tiny runs, the first with retrains, proxies and latencies (every section
    shows); "bare": one tiny run with none of them (the optional sections hide)."""
    root = tmp_path_factory.mktemp("section_runs")
    a = make_run(root / "a", "a", n=12, n_refine=1, n_failed=1, seed=4)
    b = make_run(root / "b", "b", n=10, shift=-1.0, seed=5)
    add_retrains(a)
    add_proxies(a)
    add_measurements(a)
    bare = make_run(root / "bare", "bare", n=8, seed=6)
    out = {}
    for name, dirs in (("full", [a, b]), ("bare", [bare])):
        runs = read_runs(dirs)
        out[name] = Context(summarize(runs, bins=3), runs)
    return out


def _page_titles(html: str) -> list[str]:
    return re.findall(r'<h2 id="s\d+">(.*?)</h2>', html)


def test_the_registry_lists_every_section_module_once():
    names = {m.name for m in pkgutil.iter_modules(sections_pkg.__path__)} - {"base"}
    assert {m.__name__.rsplit(".", 1)[1] for m in MODULES} == names
    assert tuple(m.SECTION for m in MODULES) == SECTIONS
    titles = [s.title for s in SECTIONS]
    assert len(set(titles)) == len(titles)
    for name in names:  # each module holds one section
        module = importlib.import_module(f"nasx.report.sections.{name}")
        assert isinstance(module.SECTION, Section)
        assert module.SECTION.render.__doc__


@pytest.mark.parametrize("case", ["full", "bare"])
def test_the_page_lists_the_shown_sections_in_registry_order(contexts, case):
    ctx = contexts[case]
    shown = [s.title for s in SECTIONS if s.shown(s.compute(ctx))]
    assert _page_titles(render(ctx.summary, runs=ctx.runs)) == shown
    if case == "full":
        assert shown == [s.title for s in SECTIONS]
    else:
        assert [s.title for s in SECTIONS if s.title not in shown] == [
            s.title for s in SECTIONS if s.title in OPTIONAL]


@pytest.mark.parametrize("case", ["full", "bare"])
@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.title)
def test_each_section_renders_or_hides(contexts, case, section: Section[Any]):
    ctx = contexts[case]
    data = section.compute(ctx)
    page = render(ctx.summary, sections=[section], runs=ctx.runs)
    if section.shown(data):
        html = section.render(data)
        assert isinstance(html, str) and html
        assert _page_titles(page) == [section.title] and html in page
    else:
        assert _page_titles(page) == [] and section.title not in page
    # a built-in section's numbers are all in summary.json: it adds no key of its own
    assert section.key is None


def test_the_report_of_the_tiny_runs_writes_every_section(contexts, tmp_path: Path):
    from nasx.report import write_report

    ctx = contexts["full"]
    index = write_report([r.root for r in ctx.runs], out=tmp_path / "r", bins=3)
    assert _page_titles(index.read_text(encoding="utf-8")) == [s.title for s in SECTIONS]
