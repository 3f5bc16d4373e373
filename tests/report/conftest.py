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


@pytest.fixture(scope="session")
def seven_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Seven runs: some share their model sizes, some differ in flops or in params alone."""
    root = tmp_path_factory.mktemp("seven")
    kw: list[dict[str, object]] = [
        {}, {"shift": -2.0}, {"params_shift": 0.6}, {"flops_range": (1e6, 1e8)},
        {"shift": 1.0, "params_shift": -0.5}, {"flops_range": (3e5, 3e7), "shift": -1.0}, {}]
    return [make_run(root / f"space_{i}", f"space_{i}", n=30, seed=10 + i, **k)  # type: ignore[arg-type]
            for i, k in enumerate(kw)]


@pytest.fixture(scope="session")
def seven_runs_report(seven_runs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the seven runs; the path of its index.html."""
    return write_report(seven_runs, out=tmp_path_factory.mktemp("reports") / "seven")
