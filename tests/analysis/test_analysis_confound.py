"""Calibration of the confound rule (nasx.analysis.carry): which comparison carries a verdict.

Simulated populations whose errors depend only on params (``SLOPE`` % per decade) and whose spaces
differ only in their params distribution (flops drawn alike): the plain test calls them different
most of the time, the verdict's carrying comparison must not more than 7% of the time at alpha
0.05. With a planted space effect on top, its power must be comparable to the plain test's on
populations without the confound. Errors are rounded to multiples of 100/6000 (a Fashion-MNIST
validation split). Seeded; fewer permutations than the report's default keep it to seconds (the
p-value stays valid, only coarser).
"""

from __future__ import annotations

import numpy as np
import pytest

from nasx.analysis.carry import decide
from nasx.analysis.compare import ks_test

ALPHA = 0.05
N = 64  # models per space
SIMS = 300
PERMS = 400
SLOPE = 4.0  # error % per decade of params: strong, as in the shipped study (Spearman +0.6)
N_VAL = 6000


def _population(rng: np.random.Generator, params_center: float, shift: float,
                slope: float) -> dict[str, np.ndarray]:
    flops = np.exp(rng.uniform(np.log(4e5), np.log(1e6), N))  # the same for both spaces
    params = 10 ** rng.normal(params_center, 0.3, N)
    e = np.exp(rng.normal(np.log(10.0), 0.3, N)) - slope * (np.log10(params) - 5.0) + shift
    step = 100.0 / N_VAL
    return {"error": np.clip(np.round(e / step) * step, 0.0, 100.0), "flops": flops,
            "params": params}


def _rates(seed: int, params_b: float, shift: float, slope: float,
           normalize: str = "auto") -> tuple[float, float, dict[str, int]]:
    """(rate of a stated difference, rate of the plain test's, which measures carried)."""
    rng = np.random.default_rng(seed)
    stated = plain = 0
    carried: dict[str, int] = {}
    for _ in range(SIMS):
        a = _population(rng, 5.0, 0.0, slope)
        b = _population(rng, params_b, shift, slope)
        d = decide(a, b, normalize, bins=10, alpha=ALPHA, seed=int(rng.integers(2**31)),
                   perms=PERMS)
        how = "+".join(d.keys) or d.carried_by
        carried[how] = carried.get(how, 0) + 1
        p_plain = float(ks_test(a["error"], b["error"])[1])
        plain += p_plain < ALPHA
        if d.carried_by == "plain":
            stated += p_plain < ALPHA
        elif d.carried_by == "normalized":
            stated += d.joint.significant
    return stated / SIMS, plain / SIMS, carried


def test_params_confound_alone_is_not_called_a_difference():
    rate, plain, carried = _rates(1, params_b=5.5, shift=0.0, slope=SLOPE)
    assert plain > 0.9, plain  # the plain comparison would declare one nearly always
    assert rate <= 0.07, (rate, carried)
    assert carried.get("params", 0) > 0.8 * SIMS, carried  # and it is normalised by params


def test_flops_normalisation_cannot_remove_a_params_confound():
    # What the report did before: normalised by flops, which did not differ.
    rate, _, _ = _rates(2, params_b=5.5, shift=0.0, slope=SLOPE, normalize="flops")
    assert rate > 0.5, rate


@pytest.mark.parametrize("shift", [-1.5, -2.5])
def test_a_planted_space_effect_is_found_with_power_comparable_to_the_plain_test(shift):
    power, _, _ = _rates(3, params_b=5.3, shift=shift, slope=SLOPE)
    # the plain test on the same effect where the spaces share their params distribution
    _, plain_power, carried = _rates(3, params_b=5.0, shift=shift, slope=SLOPE)
    assert carried.get("plain", 0) > 0.8 * SIMS
    assert power >= 0.8 * plain_power, (power, plain_power)
