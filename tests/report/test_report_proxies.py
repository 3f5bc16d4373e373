"""The report's zero-cost proxies section: shown for runs with proxies, absent otherwise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from synth_runs import make_run  # tests/analysis, on the path by conftest
from test_analysis_proxies_summary import add_proxies

from nasx.report import write_report

TITLE = "Zero-cost proxies vs validation error"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two small runs; the first has proxies for every done trial, the second none."""
    root = tmp_path_factory.mktemp("proxy_runs")
    a = make_run(root / "with", "with_proxies", n=30, n_refine=2, seed=4)
    b = make_run(root / "without", "without_proxies", n=30, seed=5)
    add_proxies(a)
    return a, b


def test_report_shows_the_ranked_table(runs: tuple[Path, Path], tmp_path: Path) -> None:
    index = write_report([runs[0]], out=tmp_path / "r", seed=3)
    html = index.read_text(encoding="utf-8")
    assert TITLE in html
    section = html[html.rindex(TITLE):]  # the heading, after the table of contents
    section = section[:section.index("</table>")]
    ranked = re.findall(r'<td class="l">(\d+)</td><td class="l">([^<]+)</td>', section)
    assert [r for r, _ in ranked] == ["1", "2", "3", "4"]
    assert ranked[0][1] == "oracle" and ranked[-1][1] == "noise"  # noise: rho near 0, last
    assert {p for _, p in ranked[1:3]} == {"params (baseline)", "flops (baseline)"}
    assert "<td class=\"\">[1, 1]</td>" in section and "Kendall tau-b" in section
    assert "minus the validation top-1 error" in html and "+1 means" in html
    rows = json.loads((index.parent / "summary.json").read_text())["runs"][0]["proxies"]
    assert [r["proxy"] for r in rows][0] == "oracle" and rows[0]["spearman"] == 1.0
    assert {r["proxy"] for r in rows} == {"oracle", "params", "flops", "noise"}
    assert all(r["n"] == 30 for r in rows)  # the population: refine trials left out


def test_report_without_proxies_has_no_section(runs: tuple[Path, Path], tmp_path: Path) -> None:
    index = write_report([runs[1]], out=tmp_path / "r", seed=3)
    assert TITLE not in index.read_text(encoding="utf-8")
    data = json.loads((index.parent / "summary.json").read_text())
    assert "proxies" not in data["runs"][0]


def test_two_runs_only_the_run_with_proxies(runs: tuple[Path, Path], tmp_path: Path) -> None:
    index = write_report(list(runs), out=tmp_path / "r", seed=3, allow_incomparable=True)
    html = index.read_text(encoding="utf-8")
    section = html[html.rindex(TITLE):]
    section = section[:section.index("<h2")]
    assert "<h3>with_proxies</h3>" in section and "<h3>without_proxies</h3>" not in section
    data = json.loads((index.parent / "summary.json").read_text())
    assert "proxies" in data["runs"][0] and "proxies" not in data["runs"][1]
