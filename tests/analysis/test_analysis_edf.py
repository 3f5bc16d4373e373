"""EDFs, normalised EDFs and bands against independent numpy computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasx.analysis import complexity_bins, dkw_band, edf, normalized_edf


def test_edf_matches_formula_with_ties():
    rng = np.random.default_rng(3)
    e = np.round(rng.normal(30, 5, size=57), 1)  # rounding makes ties
    f = edf(e)
    x = np.unique(e)
    np.testing.assert_array_equal(f.x, x)
    np.testing.assert_allclose(f.F, [(e < v).mean() for v in x])
    np.testing.assert_allclose(f.F_after, [(e <= v).mean() for v in x])
    grid = np.linspace(e.min() - 1, e.max() + 1, 101)
    np.testing.assert_allclose(f(grid), [(e < g).mean() for g in grid])
    assert f.F[0] == 0.0 and f.F_after[-1] == pytest.approx(1.0)


def test_dkw_band_formula():
    assert dkw_band(100, 0.05) == pytest.approx(math.sqrt(math.log(40) / 200))
    f = edf(np.arange(25.0))
    assert f.eps == pytest.approx(math.sqrt(math.log(2 / 0.05) / 50))
    np.testing.assert_allclose(f.upper, np.minimum(1, f.F_after + f.eps))
    np.testing.assert_allclose(f.lower, np.maximum(0, f.F_after - f.eps))


def test_weighted_edf_and_kish_n_eff():
    rng = np.random.default_rng(5)
    e = rng.uniform(10, 50, size=40)
    w = rng.uniform(0.1, 1, size=40)
    w /= w.sum()
    f = edf(e, w)
    np.testing.assert_allclose(f.F, [w[e < v].sum() for v in np.sort(e)])
    assert f.n_eff == pytest.approx(1 / np.sum(w**2))
    assert f.eps == pytest.approx(math.sqrt(math.log(40) / (2 / np.sum(w**2))))
    assert "effective sample size" in f.band_method


def test_normalized_edf_weights_against_numpy_histogram():
    rng = np.random.default_rng(11)
    # Complexities clustered at the low end and one gap: some bins end up empty.
    c = np.concatenate([rng.uniform(1e5, 2e5, 80), rng.uniform(5e6, 1e7, 20)])
    e = rng.normal(30, 4, size=c.size)
    K = 8
    f, b, w = normalized_edf(e, c, bins=K, key="flops")
    edges = np.geomspace(c.min(), c.max(), K + 1)
    counts, _ = np.histogram(c, bins=edges)  # last bin closed, like ours
    np.testing.assert_allclose(b.edges, edges)
    np.testing.assert_array_equal(b.counts, counts)
    k_nonempty = int((counts > 0).sum())
    assert 0 < k_nonempty < K and b.empty == [i for i in range(K) if counts[i] == 0]
    which = np.clip(np.digitize(c, edges) - 1, 0, K - 1)
    np.testing.assert_allclose(w, 1.0 / (k_nonempty * counts[which]))
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(f(np.sort(e)), [w[e < v].sum() for v in np.sort(e)])
    d = b.to_dict()
    assert d["K_nonempty"] == k_nonempty and d["empty_bins_dropped"] == b.empty
    assert d["empty_bin_ranges"] == [[edges[i], edges[i + 1]] for i in b.empty]


def test_single_model_and_constant_complexity():
    f, b, w = normalized_edf(np.array([12.5]), np.array([3e6]), bins=10)
    assert b.counts.tolist() == [1] and w.tolist() == [1.0]
    assert f.F.tolist() == [0.0] and f.F_after.tolist() == [1.0]
    assert f.eps == pytest.approx(math.sqrt(math.log(40) / 2)) and f.upper.tolist() == [1.0]
    b = complexity_bins(np.full(5, 7.0), 4)
    assert b.counts.tolist() == [5]


def test_edf_distance_is_the_two_sample_ks_statistic():
    from scipy import stats

    from nasx.analysis import edf_distance

    rng = np.random.default_rng(8)
    a, b = np.round(rng.normal(30, 4, 45), 1), np.round(rng.normal(32, 4, 38), 1)
    assert edf_distance(edf(a), edf(b)) == pytest.approx(stats.ks_2samp(a, b).statistic)
