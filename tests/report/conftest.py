"""Fixtures of the report tests: synthetic runs (tests/analysis/synth_runs.py) and one report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "analysis"))

from synth_runs import make_run  # noqa: E402

from nasx.report import write_report  # noqa: E402


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A run of 200 sampled trials with failed, diverged and refine ones, and a better run."""
    root = tmp_path_factory.mktemp("runs")
    a = make_run(root / "regnet_a", "regnet_a", n=200, n_failed=4, n_diverged=2, n_refine=8,
                 seed=1)
    b = make_run(root / "regnet_b", "regnet_b", n=120, shift=-3.0, dlo=2, seed=2)
    return a, b


@pytest.fixture(scope="session")
def report_ab(two_runs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the two runs (written once per session); the path of its index.html."""
    out = tmp_path_factory.mktemp("reports") / "ab"
    return write_report(list(two_runs), out=out, normalize="flops", bins=8, seed=3)
