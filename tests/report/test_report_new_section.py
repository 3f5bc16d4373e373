"""A new report section is one module (tests/report/section_worst.py here) given to the writer
through the registry's API: it shows where it is placed, with the numbers it computed, and its
summary.json key follows the Summary's keys, which stay as they were."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import section_worst
from synth_runs import make_run  # tests/analysis, on the path by conftest

from nasx.analysis import read_runs, summarize
from nasx.report import build_report, render
from nasx.report.html import fmt
from nasx.report.sections import SECTIONS, Section, with_section


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("new_section_runs")
    return [make_run(root / "a", "a", n=12, n_refine=2, seed=1),
            make_run(root / "b", "b", n=10, shift=-1.0, seed=2)]


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2 id="s\d+">(.*?)</h2>', html)


def test_a_section_module_shows_its_computed_content(runs: list[Path], tmp_path: Path):
    registry = with_section(section_worst.SECTION, after="Best of k")
    index, summary = build_report(runs, out=tmp_path / "new", seed=3, sections=registry)
    html = index.read_text(encoding="utf-8")
    plain, _ = build_report(runs, out=tmp_path / "plain", seed=3)
    titles = _titles(plain.read_text(encoding="utf-8"))
    at = titles.index("Best of k") + 1
    assert _titles(html) == [*titles[:at], "Worst models", *titles[at:]]
    # the numbers, computed independently from the runs' population points
    body = html.split(">Worst models</h2>", 1)[1].split("<h2 ", 1)[0]
    got = json.loads((index.parent / "summary.json").read_text(encoding="utf-8"))
    for r, w in zip(summary.runs, got["worst_models"], strict=True):
        pts = r.points[r.points["in_population"]].sort_values(["error", "id"])
        assert w == {"run": r.name, "id": int(pts["id"].iloc[-1]),
                     "error": float(pts["error"].iloc[-1])}
        assert f'<td class="l">{r.name}</td><td class="">{w["id"]}</td>' in body
        assert f'<td class="">{fmt(w["error"])}</td>' in body
    # the key comes last; the rest is the summary.json of the registry's own sections
    assert list(got)[-1] == "worst_models"
    before = json.loads((plain.parent / "summary.json").read_text(encoding="utf-8"))
    del got["worst_models"]
    for data in (got, before):
        for r in data["runs"]:
            r["meta"].pop("created_at", None)
    assert got == before and "Worst models" not in titles


def test_without_runs_the_section_hides(runs: list[Path]):
    summary = summarize(read_runs(runs))
    registry = with_section(section_worst.SECTION)
    assert "Worst models" not in _titles(render(summary, sections=registry))
    assert _titles(render(summary, sections=registry, runs=read_runs(runs)))[-1] == "Worst models"


def test_the_registry_is_left_as_it_is():
    before = SECTIONS
    first = with_section(section_worst.SECTION, after="Overview")
    assert first[1] is section_worst.SECTION and SECTIONS is before
    assert section_worst.SECTION not in SECTIONS
    with pytest.raises(ValueError, match="no section is titled"):
        with_section(section_worst.SECTION, after="Nowhere")
    with pytest.raises(ValueError, match="already titled"):
        with_section(SECTIONS[0])


def test_a_key_of_the_summary_is_refused(runs: list[Path], tmp_path: Path):
    clash = Section("Clash", section_worst.compute, section_worst.render, key="runs")
    with pytest.raises(ValueError, match="key 'runs' is taken"):
        build_report(runs, out=tmp_path / "clash", sections=with_section(clash))
    assert not (tmp_path / "clash").exists()


def test_the_public_api_takes_the_sections(runs: list[Path], tmp_path: Path):
    """`nasx.api.report(..., sections=...)`: a notebook adds its section as the writer does."""
    from nasx import api

    index = api.report(runs, out=tmp_path / "api", seed=3,
                       sections=with_section(section_worst.SECTION))
    assert _titles(index.read_text(encoding="utf-8"))[-1] == "Worst models"
    summary = json.loads((index.parent / "summary.json").read_text(encoding="utf-8"))
    assert list(summary)[-1] == "worst_models"
