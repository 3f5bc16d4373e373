"""The proxies of a run's population in its summary: ranked rows, absent without proxies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from synth_runs import make_run

from nasx.analysis import read_runs, summarize
from nasx.analysis.proxies import proxy_table
from nasx.store import RunStore
from nasx.store.proxies import ensure_table, put_proxies


def add_proxies(root: Path, *, skip: int = 0) -> dict[int, dict[str, float]]:
    """Store params, flops, a proxy that is minus the error, and noise for every done trial but
    the first ``skip``; returns what was stored."""
    rng = np.random.default_rng(5)
    stored: dict[int, dict[str, float]] = {}
    with RunStore.open(root) as store:
        ensure_table(store)
        done = [t for t in store.trials() if t.status == "done"][skip:]
        for t in done:
            values = {"params": float(t.params), "flops": float(t.flops),
                      "oracle": -float(t.error), "noise": float(rng.normal())}
            put_proxies(store, t.id, values)
            stored[t.id] = values
    return stored


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    """30 sampled models (errors fall with flops), 3 failed, 2 refine."""
    return make_run(tmp_path / "p", "p", n=30, n_failed=3, n_refine=2, seed=4)


def test_summary_ranks_the_population_proxies(run: Path) -> None:
    stored = add_proxies(run)
    s = summarize(read_runs([run]), seed=7)
    rows = s.runs[0].proxies
    assert rows is not None
    names = [r.proxy for r in rows]
    assert names[0] == "oracle" and set(names) == {"oracle", "params", "flops", "noise"}
    oracle = rows[0]
    assert oracle.n == 30  # the sampled population only: refine trials left out
    assert oracle.spearman == pytest.approx(1.0) and oracle.kendall == pytest.approx(1.0)
    assert [r.spearman for r in rows] == sorted((r.spearman for r in rows), reverse=True)
    # the same numbers as `nasx proxies` computes from the same pairs and seed
    pop = s.runs[0].ids
    errors = {p["id"]: p["error"] for p in s.to_json()["runs"][0]["points"]  # type: ignore
              if p["id"] in pop}
    want = proxy_table(errors, {i: stored[i] for i in pop}, seed=7).rows
    assert [(r.proxy, r.n, r.spearman, r.spearman_ci, r.kendall, r.kendall_ci) for r in rows] == [
        (w.name, w.n, w.spearman, w.spearman_ci, w.kendall, w.kendall_ci) for w in want]
    flops = next(r for r in rows if r.proxy == "flops")
    assert flops.spearman is not None and flops.spearman > 0.5  # errors fall with flops
    ci = flops.spearman_ci
    assert ci.low is not None and ci.high is not None and ci.low <= flops.spearman <= ci.high


def test_summary_json_holds_the_rows(run: Path) -> None:
    add_proxies(run, skip=4)
    out = json.loads(json.dumps(summarize(read_runs([run])).to_json(), allow_nan=False))
    rows = out["runs"][0]["proxies"]
    assert list(rows[0]) == ["proxy", "n", "spearman", "spearman_ci", "kendall", "kendall_ci"]
    assert rows[0]["proxy"] == "oracle" and rows[0]["n"] == 26
    assert set(rows[0]["spearman_ci"]) == {"low", "high"}
    assert list(out["runs"][0])[-1] == "proxies"


def test_no_proxies_no_field(run: Path) -> None:
    before = summarize(read_runs([run])).to_json()
    assert "proxies" not in before["runs"][0]  # type: ignore[index, operator]
    with RunStore.open(run) as store:
        ensure_table(store)  # an empty table: still no proxies
    assert summarize(read_runs([run])).to_json() == before
    assert summarize(read_runs([run])).runs[0].proxies is None


def test_proxies_of_other_trials_only_no_field(run: Path) -> None:
    with RunStore.open(run) as store:
        ensure_table(store)
        refine = [t for t in store.trials() if t.origin == "refine"]
        for t in refine:  # out of the population: not judged against it
            put_proxies(store, t.id, {"params": float(t.params)})
    assert summarize(read_runs([run])).runs[0].proxies is None
