"""Comparisons, best of k, good ranges, trends, stage profiles, Pareto fronts vs independent code."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasx.analysis import (
    best_of_k,
    compare,
    good_ranges,
    pareto_front,
    stage_profiles,
    trend,
    varying_columns,
)
from nasx.analysis.compare import ks_test


def test_compare_matches_scipy_and_pairwise_effect_size():
    rng = np.random.default_rng(0)
    a = rng.normal(35, 4, size=80)
    b = rng.normal(31, 4, size=70)
    c = compare(a, b, "space_a", "space_b")
    ks = stats.ks_2samp(a, b, method="exact")
    assert c.ks_statistic == pytest.approx(ks.statistic)
    # The exact mid-p (tests/analysis/test_analysis_calibration.py): at most scipy's P(D >= d).
    assert 0.5 * ks.pvalue <= c.ks_pvalue <= ks.pvalue and c.ks_pvalue == ks_test(a, b)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ad = stats.anderson_ksamp([a, b], variant="midrank")
    assert c.ad_statistic == pytest.approx(ad.statistic) and c.ad_pvalue == pytest.approx(ad.pvalue)
    assert c.mw_pvalue == pytest.approx(stats.mannwhitneyu(a, b).pvalue)
    diff = a[:, None] - b[None, :]
    assert c.cliffs_delta == pytest.approx((diff > 0).mean() - (diff < 0).mean())
    assert c.cles_b_better == pytest.approx((diff > 0).mean() + 0.5 * (diff == 0).mean())
    assert c.significant and c.better == "space_b"
    assert c.verdict.startswith("space_b is better than space_a: its EDF lies to the left")
    assert "n = 80 vs 70" in c.verdict


def test_compare_says_when_not_significant():
    rng = np.random.default_rng(1)
    c = compare(rng.normal(30, 4, 20), rng.normal(30, 4, 20), "x", "y")
    assert not c.significant and c.better is None
    assert c.verdict.startswith("No significant difference between x and y")


def test_best_of_k_exact_by_enumeration():
    e = np.array([31.0, 25.0, 40.0, 25.0, 28.0])
    k = 3
    mins = np.array([min(t) for t in itertools.product(e, repeat=k)])  # all n^k equally likely
    row = best_of_k(e, [k])[0]
    assert row.k == k and row.mean == pytest.approx(mins.mean())
    assert row.std == pytest.approx(mins.std())
    srt = np.sort(mins)
    cdf = np.arange(1, srt.size + 1) / srt.size
    for p, got in zip((2.5, 50.0, 97.5), (row.p2_5, row.p50, row.p97_5), strict=True):
        assert got == srt[np.searchsorted(cdf, p / 100 - 1e-12)]
    assert best_of_k(e, [1])[0].mean == pytest.approx(e.mean())


def test_good_ranges_reproduce_the_documented_draw():
    rng = np.random.default_rng(2)
    n = 60
    df = pd.DataFrame({"error": rng.normal(30, 3, n), "v.depth": rng.integers(2, 20, n),
                       "v.wm": rng.uniform(1.5, 3, n)})
    out = good_ranges(df, ["v.depth", "v.wm"], seed=7, B=500)
    m = int(round(0.25 * n))
    draw = np.random.default_rng(7).integers(0, n, size=(500, m))
    err = df["error"].to_numpy()
    best = np.array([row[np.argmin(err[row])] for row in draw])
    assert out.m == m and out.B == 500
    for col in ("v.depth", "v.wm"):
        expect = np.percentile(df[col].to_numpy(dtype=float)[best], [2.5, 50, 97.5])
        got = out.ranges[col]
        np.testing.assert_allclose([got.p2_5, got.p50, got.p97_5], expect)


def test_trend_log_complexity_and_spearman():
    rng = np.random.default_rng(4)
    flops = np.exp(rng.uniform(np.log(1e5), np.log(1e8), 90))
    err = 50 - 5 * np.log10(flops) + rng.normal(0, 1, 90)
    df = pd.DataFrame({"id": range(90), "flops": flops, "error": err, "v.c": 3, "v.d": flops % 7})
    t = trend(df, "flops")
    fit = stats.linregress(np.log10(flops), err)
    assert t.x_scale == "log10" and t.slope == pytest.approx(fit.slope)
    assert t.r == pytest.approx(fit.rvalue)
    rho = stats.spearmanr(flops, err)
    assert t.spearman_rho == pytest.approx(rho.statistic)
    assert t.spearman_pvalue == pytest.approx(rho.pvalue)
    assert sum(b.n for b in t.binned) == 90
    assert varying_columns(df) == ["v.d"]
    assert trend(df.head(2), "flops").slope is None


def _spec(widths: list[int], depths: list[int]) -> dict:
    return {"stages": [{"width": w, "depth": d} for w, d in zip(widths, depths, strict=True)]}


def test_stage_profiles_and_pareto_front():
    df = pd.DataFrame({
        "id": [1, 2, 3, 4, 5],
        "error": [30.0, 20.0, 25.0, 40.0, 22.0],
        "flops": [5, 9, 4, 1, 20],
        "origin": ["sampled", "sampled", "refine", "sampled", "sampled"],
        "spec": [_spec([8, 16], [1, 2]), _spec([16, 32], [2, 3]), _spec([8, 24, 48], [1, 1, 4]),
                 _spec([8], [1]), _spec([24, 48], [1, 5])],
    })
    prof = stage_profiles(df, top_frac=0.4)
    assert prof.n_top == 2 and prof.top_ids == [2, 5]
    s1 = prof.stages[0]
    assert s1.top_width.median == pytest.approx(np.median([16, 24]))
    assert s1.all_width.q25 == pytest.approx(np.percentile([8, 16, 8, 8, 24], 25))
    assert prof.stages[2].top_depth is None and prof.stages[2].all_depth.n == 1
    front = pareto_front(df)
    # Brute force: a trial is on the front when no other has both fewer flops and lower error.
    on = [int(r.id) for r in df.itertuples()
          if not any((o.flops <= r.flops and o.error < r.error) for o in df.itertuples())]
    assert sorted(p.id for p in front) == sorted(on) == [2, 3, 4]
    assert [(p.value, p.error) for p in front] == [(1.0, 40.0), (4.0, 25.0), (9.0, 20.0)]


def test_identical_errors_cannot_be_told_apart():
    c = compare(np.full(5, 90.0), np.full(4, 90.0), "p", "q")
    assert c.ad_statistic is None and c.cliffs_delta == 0.0 and c.better is None
    assert c.verdict.startswith("p and q cannot be told apart")
    t = trend(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "error": [90.0] * 4}), "x")
    assert t.spearman_rho is None and t.slope == pytest.approx(0.0)
