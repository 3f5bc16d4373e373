"""Relation tests on per-stage values: violation counts and the Mann-Whitney decision."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nasx.refine.relations import candidate, check_relation, linear_width_evidence, violations


def test_violation_counts():
    m = np.array([[8, 16, 32], [32, 16, 8], [8, 8, 8], [16, 8, 32]])
    assert violations(m, "non_decreasing").tolist() == [0, 3, 0, 1]
    assert violations(m, "non_increasing").tolist() == [3, 0, 0, 2]
    assert violations(m, "shared").tolist() == [2, 2, 0, 2]
    assert candidate("bot_mul") == "shared" and candidate("width") == "non_decreasing"


def _frame(rng: np.random.Generator, n: int = 60) -> pd.DataFrame:
    w1 = rng.choice([8, 16, 24, 32], n)
    w2 = rng.choice([8, 16, 24, 32], n)
    d1 = rng.integers(1, 4, n)
    d2 = rng.integers(1, 4, n)
    # growing widths are better; depths do not matter
    error = 50 - 10 * (w2 >= w1) + rng.normal(0, 1, n)
    return pd.DataFrame({"v.width_1": w1, "v.width_2": w2, "v.depth_1": d1, "v.depth_2": d2,
                         "error": error})


def test_supported_relation_is_found_and_unsupported_is_not():
    frame = _frame(np.random.default_rng(0))
    width = check_relation(frame, "width", 2, "non_decreasing")
    depth = check_relation(frame, "depth", 2, "non_decreasing")
    assert width is not None and width.supported and width.p < 0.05
    assert width.rate_top == 1.0 and width.rate_all < 1.0
    assert depth is not None and not depth.supported
    assert "Mann-Whitney" in width.sentence()
    assert check_relation(frame, "bot_mul", 2, "shared") is None  # no such columns


def test_linear_width_evidence_reports_numbers():
    ev = linear_width_evidence(_frame(np.random.default_rng(1)), 2)
    assert ev is not None and ev["n"] == 60 and ev["encoded"] is False
    assert -1 <= ev["spearman_rho"] <= 1


def test_holm_adjusted_p_values():
    # m = 3 tests: 0.01*3, max(0.03, 0.02*2), max(0.04, 0.04*1); None is not a test
    import numpy as np

    from nasx.analysis.multiple import holm

    got = holm([0.04, 0.01, None, 0.02])
    np.testing.assert_allclose(got, [0.04, 0.03, np.nan, 0.04])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])
    assert holm([]).size == 0


def test_relations_are_holm_adjusted_over_the_relations_tested():
    from nasx.refine.relations import holm_adjust

    frame = _frame(np.random.default_rng(0))
    tests = [check_relation(frame, k, 2, "non_decreasing") for k in ("width", "depth")]
    adjusted = holm_adjust([t for t in tests if t is not None])
    width, depth = adjusted
    assert width.m_tests == 2 and width.p_holm is not None and width.p_holm >= width.p
    assert width.supported and not depth.supported
    assert "Holm-adjusted over 2 relations tested" in width.sentence()
    # a relation significant alone but not after adjustment over 2 tests is not added
    weak = width.__class__(**{**width.__dict__, "p": 0.03, "p_holm": 0.03})
    other = width.__class__(**{**width.__dict__, "key": "depth", "p": 0.04, "p_holm": 0.04})
    w, o = holm_adjust([weak, other])
    assert (w.p_holm, o.p_holm) == (0.06, 0.06) and not w.supported and not o.supported
