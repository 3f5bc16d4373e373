"""The report's error-vs-measured-latency section: views per backend/device/batch, the Pareto
front of (latency, error) from the stored measurements, absent without measurements."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from synth_runs import make_run  # tests/analysis, on the path by conftest

from nasx.analysis import read_runs, summarize
from nasx.analysis.latency import latency_views, per_trial
from nasx.report import write_report
from nasx.store import RunStore
from nasx.store.measurements import StoredMeasurement, ensure_table, put_measurements

TITLE = "Error vs measured latency"
B1 = "latency_ms_b1_torch_cpu"
B8 = "latency_ms_b8_onnx_cpu"


def add_measurements(root: Path, *, onnx_every: int = 2) -> dict[int, float]:
    """Store a b1 torch latency of flops / 1e5 ms for every done trial, an ONNX b8 latency for
    every ``onnx_every``-th, and a memory row (not a latency); returns trial id -> b1 latency."""
    stored: dict[int, float] = {}
    with RunStore.open(root) as store:
        ensure_table(store)
        done = [t for t in store.trials() if t.status == "done"]
        for k, t in enumerate(done):
            ms = t.flops / 1e5
            rows = [StoredMeasurement(B1, ms, ms / 10, "cpu", 1, 1, "torch eager"),
                    StoredMeasurement("memory_mib_b1_train_cpu", 5.0, 0.0, "cpu", 1, 1, "rss")]
            if k % onnx_every == 0:
                rows.append(StoredMeasurement(B8, 3 * ms, 0.1, "cpu", 8, 1, "onnxruntime"))
            put_measurements(store, t.id, rows)
            stored[t.id] = ms
    return stored


def hand_front(points: dict[int, tuple[float, float]]) -> list[int]:
    """Ids not beaten on both latency and error, by increasing latency (by hand)."""
    ids = sorted(points)
    return sorted((i for i in ids if not any(
        points[j][0] <= points[i][0] and points[j][1] <= points[i][1] and points[j] != points[i]
        for j in ids)), key=lambda i: points[i])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[int, float]]:
    """Two small runs; the first has measurements for every done trial, the second none."""
    root = tmp_path_factory.mktemp("latency_runs")
    a = make_run(root / "with", "with_latency", n=30, n_refine=2, n_failed=2, seed=4)
    b = make_run(root / "without", "without_latency", n=30, seed=5)
    return a, b, add_measurements(a)


def test_summary_views_and_front(runs: tuple[Path, Path, dict[int, float]]) -> None:
    a, _, stored = runs
    s = summarize(read_runs([a]), seed=3)
    views = s.runs[0].latency
    assert views is not None
    assert [v.key for v in views] == [B1, B8]  # the most measured first; memory is no latency
    v1, v8 = views
    assert (v1.backend, v1.device, v1.batch, v1.threads, v1.n) == ("torch", "cpu", 1, 1, 32)
    assert (v8.backend, v8.batch, v8.n) == ("onnx", 8, 16)
    assert v1.caption() == "torch on cpu, batch 1, 1 thread"
    errors = {p.id: p.error for p in v1.points}
    assert {p.id: p.latency_ms for p in v1.points} == stored  # 30 sampled + 2 refine
    assert sorted({p.origin for p in v1.points}) == ["refine", "sampled"]
    want = hand_front({i: (stored[i], errors[i]) for i in stored})
    assert [p.id for p in v1.pareto] == want and len(want) >= 2
    assert all(p.value == stored[p.id] and p.error == errors[p.id] for p in v1.pareto)
    lat = [p.value for p in v1.pareto]
    err = [p.error for p in v1.pareto]
    assert lat == sorted(lat) and err == sorted(err, reverse=True)


def test_report_section_and_summary_json(runs: tuple[Path, Path, dict[int, float]],
                                         tmp_path: Path) -> None:
    a, _, stored = runs
    index = write_report([a], out=tmp_path / "r", seed=3)
    html = index.read_text(encoding="utf-8")
    section = html[html.rindex(TITLE):]
    section = section[:section.index("<h2") if "<h2" in section else None]
    assert 'alt="error vs measured latency"' in section
    assert "torch on cpu, batch 1, 1 thread" in section and "onnx on cpu, batch 8" in section
    assert "nasx measure RUN" in section
    data = json.loads((index.parent / "summary.json").read_text())
    views = data["runs"][0]["latency"]
    assert [v["key"] for v in views] == [B1, B8]
    assert list(views[0]) == ["key", "backend", "device", "batch", "threads", "method", "n",
                              "points", "pareto"]
    assert views[0]["points"][0] == {"id": views[0]["points"][0]["id"], "origin": "sampled",
                                     "latency_ms": stored[views[0]["points"][0]["id"]],
                                     "spread_ms": pytest.approx(
                                         stored[views[0]["points"][0]["id"]] / 10),
                                     "error": pytest.approx(views[0]["points"][0]["error"])}
    front = [p["id"] for p in views[0]["pareto"]]
    assert views[0]["pareto"][0][B1] == stored[front[0]]  # ParetoPoint keys the value by latency
    rows = re.findall(r'<tr><td class="l">(\d+)</td>', section)
    assert [int(r) for r in rows] == front  # the front's table: the b1 torch view's trials


def test_no_measurements_no_section(runs: tuple[Path, Path, dict[int, float]],
                                    tmp_path: Path) -> None:
    _, b, _ = runs
    before = summarize(read_runs([b])).to_json()
    with RunStore.open(b) as store:
        ensure_table(store)  # an empty table: still nothing
    index = write_report([b], out=tmp_path / "r", seed=3)
    assert TITLE not in index.read_text(encoding="utf-8")
    data = json.loads((index.parent / "summary.json").read_text())
    assert "latency" not in data["runs"][0] and "latency" not in before["runs"][0]  # type: ignore


def test_two_runs_only_the_measured_one(runs: tuple[Path, Path, dict[int, float]],
                                        tmp_path: Path) -> None:
    a, b, _ = runs
    index = write_report([a, b], out=tmp_path / "r", seed=3, allow_incomparable=True)
    html = index.read_text(encoding="utf-8")
    section = html[html.rindex(TITLE):]
    assert "Pareto front of with_latency" in section
    assert "Pareto front of without_latency" not in section
    data = json.loads((index.parent / "summary.json").read_text())
    assert "latency" in data["runs"][0] and "latency" not in data["runs"][1]


def test_a_trial_takes_the_measurement_of_its_architecture() -> None:
    """Latency does not depend on the seed: trial 2 (same network as 1, other seed) shares it."""
    from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec

    def spec(width: int) -> dict[str, object]:
        return ArchSpec(family="regnet", stem=StemSpec(width=8),
                        stages=(StageSpec(block="basic", depth=1, width=width, stride=2),),
                        head=HeadSpec(num_classes=10), resolution=8, in_channels=1,
                        name=f"n{width}").to_dict()

    frame = pd.DataFrame({"id": [1, 2, 3], "origin": ["sampled"] * 3, "error": [9.0, 8.0, 7.0],
                          "spec": [spec(16), {**spec(16), "name": "renamed"}, spec(32)]})
    m = {1: {B1: StoredMeasurement(B1, 2.0, 0.1, "cpu", 1, 1, "torch eager")}}
    assert set(per_trial(frame, m)) == {1, 2}
    views = latency_views(frame, m)
    assert views is not None and [(p.id, p.latency_ms) for p in views[0].points] == [(1, 2.0),
                                                                                    (2, 2.0)]
    assert [p.id for p in views[0].pareto] == [2]  # same latency, lower error
    assert latency_views(frame, {}) is None
