"""summary.json of a two-run report against independent numpy/scipy computations on the rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from nasx.analysis.compare import ks_test
from nasx.store.run_store import RunStore


def _population(run_dir):
    with RunStore.open(run_dir) as store:
        df = store.dataframe()
    return df[(df["status"] == "done") & (df["origin"] == "sampled")].sort_values("id")


def test_summary_matches_independent_computation(two_runs, report_ab):
    summary = json.loads((report_ab.parent / "summary.json").read_text())
    assert summary["settings"]["bins"] == 8 and summary["settings"]["normalize"] == "flops"
    pops = [_population(d) for d in two_runs]
    lo = min(p["flops"].min() for p in pops)
    hi = max(p["flops"].max() for p in pops)
    edges = np.geomspace(lo, hi, 9)
    for run, pop in zip(summary["runs"], pops, strict=True):
        e = pop["error"].to_numpy()
        assert run["ids"] == pop["id"].tolist()
        x = np.array(run["edf"]["x"])
        np.testing.assert_allclose(x, np.unique(e))
        np.testing.assert_allclose(run["edf"]["F"], [(e < v).mean() for v in x])
        assert run["edf"]["eps"] == pytest.approx(np.sqrt(np.log(2 / 0.05) / (2 * e.size)))
        # Good ranges: B = 1000 draws of round(n/4) rows with the report's seed.
        g = run["good_ranges"]
        draw = np.random.default_rng(3).integers(0, e.size, size=(1000, round(e.size / 4)))
        best = draw[np.arange(1000), np.argmin(e[draw], axis=1)]
        for col in ("v.depth", "v.wm", "h.lr", "flops"):
            expect = np.percentile(pop[col].to_numpy(dtype=float)[best], [2.5, 50, 97.5])
            got = g["ranges"][col]
            np.testing.assert_allclose([got["p2.5"], got["p50"], got["p97.5"]], expect)
        tr = {t["column"]: t for t in run["trends"]}
        rho = stats.spearmanr(pop["v.wa"], e)
        assert tr["v.wa"]["spearman_rho"] == pytest.approx(rho.statistic)
    (c,) = summary["comparisons"]
    ea, eb = (p["error"].to_numpy() for p in pops)
    ks = stats.ks_2samp(ea, eb, method="exact")
    assert c["ks_statistic"] == pytest.approx(ks.statistic)
    # The exact mid-p of the pooled errors (no ties here): at most scipy's P(D >= d).
    assert c["ks_pvalue"] == pytest.approx(ks_test(ea, eb)[1])
    assert 0.5 * ks.pvalue <= c["ks_pvalue"] <= ks.pvalue
    assert c["mw_pvalue"] == pytest.approx(stats.mannwhitneyu(ea, eb).pvalue)
    # The normalised comparison by flops: shared log bins over both runs, the bins both
    # populate, bin mass n_a n_b / (n_a + n_b) shared by the two sides.
    counts = [np.histogram(p["flops"], bins=edges)[0] for p in pops]
    common = (counts[0] > 0) & (counts[1] > 0)
    mass = np.where(common, counts[0] * counts[1] / np.maximum(counts[0] + counts[1], 1), 0)
    mass = mass / mass.sum()
    cdfs = []
    grid = np.union1d(ea, eb)
    for pop, cnt, e in zip(pops, counts, (ea, eb), strict=True):
        which = np.clip(np.digitize(pop["flops"], edges) - 1, 0, 7)
        w = np.where(common[which], mass[which] / cnt[which], 0.0)
        assert w.sum() == pytest.approx(1.0)
        cdfs.append([w[e <= g].sum() for g in grid])
    n = c["normalized"]["flops"]
    assert n["K"] == 8 and n["K_common"] == common.sum()
    assert n["ks_statistic"] == pytest.approx(np.max(np.abs(np.subtract(*cdfs))))
    assert c["better"] == "regnet_b" and "regnet_b is better than regnet_a" in c["verdict"]


def test_summary_counts_refine_and_space_diff(two_runs, report_ab):
    summary = json.loads((report_ab.parent / "summary.json").read_text())
    a = summary["runs"][0]
    assert a["counts"]["failed"] == 4 and a["counts"]["diverged"] == 2
    assert a["counts"]["finished_sampled"] == 200 and a["counts"]["finished_refine"] == 8
    with RunStore.open(two_runs[0]) as store:
        refine_ids = {t.id for t in store.trials() if t.origin == "refine"}
    assert refine_ids.isdisjoint(a["ids"]) and a["refine_edf"]["n"] == 8
    assert {p["id"] for p in a["points"] if p["origin"] == "refine"} == refine_ids
    (d,) = summary["space_diffs"]
    assert "-  depth: {int: [4, 12]}" in d["diff"] and "+  depth: {int: [2, 12]}" in d["diff"]
    html = report_ab.read_text()
    assert "regnet_b is better than regnet_a" in html and "<script src" not in html
    assert "http://" not in html and "https://" not in html
    assert html.count("data:image/png;base64,") == 5  # no normalised figure: plain carries
