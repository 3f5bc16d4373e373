"""Calibration of narrow's evidence rule on simulated populations with a known good region.

Each simulated study draws n models with four parameters: x1 (int 1..4) whose value 1 is truly
bad (errors +delta), x2 (int 1..4) and x3 (choice 1, 0.5, 0.25) and x4 (log float 8..128) with no
effect at all. Truly good: x1 in {2, 3, 4} and every value of the others. A study "removes a truly
good value" when any of its cuts removes one; at the default level that happens in at most 5% of
seeded studies, and with enough models the truly bad x1 = 1 is cut.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nasx.analysis.ranges import good_ranges
from nasx.refine.support import (
    LEVEL,
    half_samples,
    min_models,
    models_needed,
    removed_mask,
    supported_cut,
    winner_probs,
)
from nasx.space import ChoiceDist, FloatDist, IntDist

DISTS = {"x1": IntDist.parse({"int": [1, 4]}),
         "x2": IntDist.parse({"int": [1, 4]}),
         "x3": ChoiceDist.parse({"choice": [1.0, 0.5, 0.25]}),
         "x4": FloatDist.parse({"float": [8.0, 128.0], "log": True})}


def _population(n: int, seed: int, delta: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.integers(1, 5, n)
    frame = pd.DataFrame({"x1": x1, "x2": rng.integers(1, 5, n),
                          "x3": rng.choice([1.0, 0.5, 0.25], n),
                          "x4": np.exp(rng.uniform(np.log(8), np.log(128), n))})
    # validation errors are multiples of 0.1 here (ties, as with a finite validation set)
    frame["error"] = np.round(30 + delta * (x1 == 1) + rng.normal(0, 3.0, n), 1)
    return frame


def _study(n: int, seed: int, delta: float = 6.0, level: float = LEVEL) -> dict:
    frame = _population(n, seed, delta)
    g = good_ranges(frame, list(DISTS), seed=seed, B=300)
    rows = g.winner_rows or []
    hs = half_samples(frame["error"].to_numpy(), np.random.default_rng(seed), level=level)
    out = {}
    for col, dist in DISTS.items():
        r = g.ranges[col]
        winners = [v for v, k in zip(frame[col], rows, strict=True) for _ in range(k)]
        out[col] = supported_cut(dist, frame[col].tolist(), r.p2_5, r.p97_5, winners, hs)
    return out


def _removes_good(cuts: dict) -> bool:
    x1 = cuts["x1"].new
    return bool(x1.hi < 4 or x1.lo > 2 or (cuts["x2"].new.lo, cuts["x2"].new.hi) != (1, 4)
                or len(cuts["x3"].new.options) != 3
                or (cuts["x4"].new.lo, cuts["x4"].new.hi) != (8.0, 128.0))


def test_default_level_rarely_removes_a_truly_good_value():
    for n, studies in ((32, 60), (64, 100), (128, 40)):
        wrong = [_removes_good(_study(n, seed)) for seed in range(studies)]
        assert np.mean(wrong) <= 0.05, (n, np.mean(wrong))


def test_the_plain_good_range_would_remove_good_values():
    """Why the rule exists: the good range alone clips flat parameters in most studies."""
    clipped = [any(c.proposed != DISTS[k] for k, c in _study(64, s).items() if k != "x1")
               for s in range(20)]
    assert np.mean(clipped) > 0.5


def test_with_enough_models_the_truly_bad_value_is_cut():
    cut_bad = [_study(256, seed)["x1"].new.lo == 2 for seed in range(20)]
    assert np.mean(cut_bad) >= 0.8
    few = [_study(16, seed)["x1"].new.lo == 1 for seed in range(20)]
    assert all(few)  # 16 models: below the minimum the rule implies, nothing is cut


def test_minimum_models_follows_from_the_rule():
    assert min_models() == 32
    assert min_models(0.99) > min_models(0.9)
    p = winner_probs(8, 0.25)
    assert abs(p.sum() - 1) < 1e-12 and np.all(np.diff(p) < 0)


def test_support_figures_and_models_needed():
    cuts = _study(256, 0)
    x1 = cuts["x1"]
    assert x1.kept_by is not None and x1.kept_by <= 1 - LEVEL  # the removed value 1
    assert x1.removed_by is not None and 0 <= x1.removed_by < LEVEL  # the kept edge value 2
    assert "half-samples" in x1.clause()
    frame = _population(24, 0, 6.0)
    bad = removed_mask(IntDist.parse({"int": [2, 4]}), frame["x1"].tolist())
    flat = removed_mask(IntDist.parse({"int": [1, 3]}), frame["x2"].tolist())
    assert bad.tolist() == (frame["x1"] == 1).tolist()
    needed = models_needed(frame["error"].to_numpy(), np.array([bad, flat]),
                           np.random.default_rng(0))
    assert 48 <= needed[0] <= 1024 and (needed[1] == 0 or needed[1] > needed[0])


def test_models_needed_is_not_extrapolated_beyond_its_limit():
    frame = _population(600, 0, 6.0)
    mask = (frame["x1"] == 1).to_numpy()
    assert models_needed(frame["error"].to_numpy(), mask[None, :],
                         np.random.default_rng(0)) == [None]
