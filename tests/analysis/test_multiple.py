"""Holm's correction and the family of a report's comparisons, calibrated on simulated studies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synth_runs import make_run

from nasx.analysis.compare import ks_test
from nasx.analysis.multiple import holm, progression_pairs, step_of

ALPHA = 0.05
STUDIES = 2000


def test_holm_by_hand() -> None:
    """m = 4: sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1, running max; NaN stays out."""
    got = holm([0.01, 0.04, 0.03, None, 0.005])
    assert got[:3] == pytest.approx([0.03, 0.06, 0.06]) and got[4] == pytest.approx(0.02)
    assert np.isnan(got[3])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    rows = np.random.default_rng(0).uniform(size=(50, 6))
    whole = holm(rows)
    assert np.array_equal(whole, np.array([holm(list(r)) for r in rows]))
    assert (whole >= rows).all()


def test_progression_is_recognised_by_run_names() -> None:
    """A-B, B-C, C-D, D-E, E-RegNet and A-E for the six study runs, in any order."""
    names = ["fmnist_regnet", "fmnist_anynet_c", "fmnist_anynet_a", "fmnist_anynet_e",
             "fmnist_anynet_b", "fmnist_anynet_d"]
    pairs = progression_pairs(names)
    assert pairs is not None
    labels = [(names[i][-1], names[j][-1]) for i, j in pairs]
    assert labels == [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "t"), ("a", "e")]
    assert [step_of(n) for n in ("x_anynet_a", "AnyNet-E", "regnet", "anynet_digits")] == [
        0, 4, 5, None]
    assert progression_pairs(["a", "b", "c"]) is None  # every pair then
    assert progression_pairs(["x_anynet_a", "y_anynet_a", "regnet"]) is None  # a step twice


def _null_study_pvalues(rng: np.random.Generator, n_spaces: int, pairs: list[tuple[int, int]],
                        n: int = 32) -> np.ndarray:
    """(STUDIES, len(pairs)) KS p-values of studies whose spaces all have one error
    distribution (log-normal around 10%, rounded to a 6000-image validation set's steps)."""
    errors = np.exp(rng.normal(np.log(10.0), 0.35, (STUDIES, n_spaces, n)))
    errors = np.round(errors / (100 / 6000)) * (100 / 6000)
    return np.stack([ks_test(errors[:, i], errors[:, j])[1] for i, j in pairs], axis=1)


@pytest.mark.parametrize("scope", ["progression", "every pair"])
def test_family_wise_false_positive_rate_is_calibrated(scope: str) -> None:
    """2000 simulated six-space studies with no difference: Holm keeps the family-wise rate
    within 0.03-0.07 at alpha 0.05; uncorrected, one of the pairs is called different far
    more often."""
    rng = np.random.default_rng(21 if scope == "progression" else 22)
    names = [f"s_anynet_{c}" for c in "abcde"] + ["s_regnet"]
    pairs = progression_pairs(names) if scope == "progression" else [
        (i, j) for i in range(6) for j in range(i + 1, 6)]
    assert pairs is not None
    p = _null_study_pvalues(rng, 6, pairs)
    fwer = float(np.mean((holm(p) < ALPHA).any(axis=1)))
    raw = float(np.mean((p < ALPHA).any(axis=1)))
    assert 0.03 <= fwer <= 0.07, fwer
    assert raw > 0.15, raw


def test_report_of_a_progression_states_holm(tmp_path: Path) -> None:
    """summarize() of three runs of the progression: A-C, C-E, A-E corrected together; the
    verdicts, headlines and summary.json say so; per-pair numbers are kept."""
    from nasx.analysis import read_runs, summarize

    dirs = [make_run(tmp_path / f"st_anynet_{c}", name=f"st_anynet_{c}", n=16, seed=k,
                     shift=-2.0 * k) for k, c in enumerate("ace")]
    s = summarize(read_runs(dirs), normalize="none")
    assert s.family is not None and s.family.scope == "progression" and s.family.size == 3
    for c in s.comparisons:
        assert c.holm is not None and c.holm.in_family
        assert c.holm.pvalue == c.plain.ks_pvalue
        assert c.holm.pvalue_adjusted is not None and c.holm.pvalue_adjusted >= c.holm.pvalue
        assert "Holm-adjusted p =" in c.verdict.headline and "Family-wise:" in c.verdict.text
        assert c.holm.significant == (c.verdict.significant_conclusion
                                      and c.holm.pvalue_adjusted < ALPHA)
    js = s.to_json()
    assert js["family"]["method"] == "holm" and len(js["family"]["pairs"]) == 3
    assert "pvalue_adjusted" in js["comparisons"][0]["holm"]


def test_the_clause_says_what_the_correction_did() -> None:
    """holds / no longer significant / not significant / no test / outside the family."""
    from nasx.analysis.multiple import Adjusted, fmt_holm

    def adj(p: float | None, q: float | None, sig: bool, raw: bool) -> Adjusted:
        return Adjusted(in_family=q is not None, pvalue=p, pvalue_adjusted=q, significant=sig,
                        significant_unadjusted=raw, better="x" if sig else None,
                        family_size=6)

    assert fmt_holm(adj(0.001, 0.006, True, True), ALPHA).endswith(": holds at alpha = 0.05")
    assert "no longer significant" in fmt_holm(adj(0.02, 0.12, False, True), ALPHA)
    assert fmt_holm(adj(0.4, 1.0, False, False), ALPHA).startswith(
        "Holm-adjusted p = 1 over 6 comparisons: not significant")
    assert "no test to correct" in fmt_holm(adj(None, None, False, False), ALPHA, member=True)
    assert fmt_holm(adj(0.01, None, False, True), ALPHA) == "not in the corrected family"
