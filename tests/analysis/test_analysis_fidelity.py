"""The figures of `nasx fidelity` on synthetic numbers: the pooled seed SD and its chi-square
interval, Kendall's tau and Spearman's rho (scipy's) with seeded bootstrap intervals; summary.json,
the report and the comparison verdict hold them."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from synth_runs import make_run

from nasx.analysis import read_runs, summarize
from nasx.analysis.fidelity import fidelity_of, rank_stats, seed_noise, short_long
from nasx.report.write import build_report
from nasx.store import NewTrial, Origin, RunStore, trials_frame
from nasx.train.recipe import Recipe


def test_pooled_seed_sd_and_its_chi_square_interval_are_pinned():
    s = seed_noise({1: [10.0, 12.0, 11.0], 2: [20.0, 20.5], 3: [5.0]})
    assert s is not None
    assert (s.models, s.runs, s.df) == (2, 5, 3)  # a model trained once has no SD
    # (2 * 1.0 + 1 * 0.125) / 3: variances weighted by their degrees of freedom
    assert s.pooled_sd == pytest.approx(math.sqrt(2.125 / 3))
    assert s.ci.low == pytest.approx(math.sqrt(2.125 / stats.chi2.ppf(0.975, 3)))
    assert s.ci.high == pytest.approx(math.sqrt(2.125 / stats.chi2.ppf(0.025, 3)))
    assert (round(s.ci.low, 4), round(s.ci.high, 4)) == (0.4768, 3.1380)
    assert [m.sd for m in s.per_model] == pytest.approx([1.0, math.sqrt(0.125)])
    assert s.mean_sd == pytest.approx((1.0 + math.sqrt(0.125)) / 2)
    assert seed_noise({1: [3.0], 2: [4.0]}) is None


def test_tau_and_rho_are_scipys_with_seeded_bootstrap_intervals():
    rng = np.random.default_rng(1)
    short = rng.normal(30, 5, 12)
    longer = short - 8 + rng.normal(0, 3, 12)
    r = short_long(list(range(12)), short, longer, epochs_long=10, epochs_short=2, seed=4)
    kt, sr = stats.kendalltau(short, longer), stats.spearmanr(short, longer)
    assert r.kendall_tau == pytest.approx(kt.statistic)
    assert r.kendall_pvalue == pytest.approx(kt.pvalue)
    assert r.spearman_rho == pytest.approx(sr.statistic)
    assert r.spearman_pvalue == pytest.approx(sr.pvalue)
    assert r.tau_ci.low < r.kendall_tau < r.tau_ci.high <= 1.0
    assert r.rho_ci.low < r.spearman_rho < r.rho_ci.high <= 1.0
    again = short_long(list(range(12)), short, longer, epochs_long=10, epochs_short=2, seed=4)
    assert (again.tau_ci, again.rho_ci) == (r.tau_ci, r.rho_ci)  # seeded
    # the interval is the percentile bootstrap over models, computed here with scipy
    draws = np.random.default_rng(4).integers(0, 12, size=(r.B, 12))
    boot = np.array([(stats.kendalltau(short[d], longer[d]).statistic,
                      stats.spearmanr(short[d], longer[d]).statistic) for d in draws])
    assert rank_stats(short, longer, draws) == pytest.approx(boot)
    assert (r.tau_ci.low, r.tau_ci.high) == pytest.approx(tuple(np.percentile(boot[:, 0],
                                                                              [2.5, 97.5])))
    assert (r.rho_ci.low, r.rho_ci.high) == pytest.approx(tuple(np.percentile(boot[:, 1],
                                                                              [2.5, 97.5])))
    assert (r.B, r.n, r.epochs_short, r.epochs_long) == (2000, 12, 2, 10)


def test_too_few_or_constant_pairs_have_no_interval():
    two = short_long([1, 2], [1.0, 2.0], [3.0, 5.0], epochs_long=5)
    assert two.kendall_tau == pytest.approx(1.0) and two.tau_ci.low is None and two.B == 0
    flat = short_long([1, 2, 3], [1.0, 2.0, 3.0], [4.0, 4.0, 4.0], epochs_long=5)
    assert flat.kendall_tau is None and flat.spearman_rho is None
    assert flat.tau_ci.low is None
    # ties and constant resamples, as scipy: tau-b's tie correction, NaN when undefined
    x, y = np.array([1.0, 1.0, 2.0, 3.0]), np.array([2.0, 1.0, 1.0, 4.0])
    draws = np.array([[0, 1, 2, 3], [0, 0, 1, 1], [0, 0, 0, 0], [3, 2, 2, 0]])
    got = rank_stats(x, y, draws)
    for row, d in zip(got, draws, strict=True):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = (stats.kendalltau(x[d], y[d]).statistic, stats.spearmanr(x[d], y[d]).statistic)
        assert row == pytest.approx(want, nan_ok=True)


# (original trial, error) of seed repeats, and of long retrains (10 epochs)
SEEDS = [(1, 0.0), (1, 1.0), (2, 0.5), (2, -0.5), (3, 2.0), (3, 0.0)]
LONG = [(1, 1.0), (2, 3.0), (3, 2.0), (4, 5.0)]


def add_retrains(root: Path, noise: float = 1.0, *, broken: bool = False) -> dict[int, float]:
    """Seed repeats (errors = original + noise * offset) and long retrains of trials 1-4;
    ``broken`` adds one repeat with another recipe (left out) and one never trained."""
    with RunStore.open(root) as store:
        orig = {t.id: t for t in store.trials()}
        pop = store.run_recipe()
        rows = [(of, None, orig[of].error + noise * d) for of, d in SEEDS]
        rows += [(of, 10, orig[of].error - 20 + d) for of, d in LONG]
        if broken:
            rows += [(4, None, 1.0), (5, None, None)]
        for i, (of, epochs, err) in enumerate(rows):
            t = orig[of]
            (tid,) = store.add_trials([NewTrial(
                fingerprint=f"{t.fingerprint}:r{i}", values=t.values, spec=t.spec, flops=t.flops,
                params=t.params, acts=t.acts, seed=5000 + i, hparams=t.hparams,
                origin=Origin.FIDELITY, repeat_of=of, repeat_epochs=epochs)])
            if err is None:
                continue
            recipe = Recipe(**{**pop, "lr": t.hparams["lr"], "epochs": epochs or pop["epochs"]})
            if broken and i == len(rows) - 2:
                recipe = Recipe(**{**pop, "lr": t.hparams["lr"], "batch_size": 32})
            store.mark_running(tid, recipe)
            store.finish(tid, "done", error=float(err), metrics={"val_error": float(err)})
        return {i: orig[i].error for i in (1, 2, 3, 4)}


def test_fidelity_of_a_store(tmp_path):
    root = make_run(tmp_path / "a", n=12)
    orig = add_retrains(root, broken=True)
    with RunStore.open(root, readonly=True) as store:
        fid = fidelity_of(trials_frame(store.trials()), store.run_recipe(), seed=0)
    assert fid is not None
    assert (fid.trials, fid.unfinished, fid.excluded) == (11, 1, 1)
    groups = {of: [orig[of]] for of in (1, 2, 3)}
    for of, d in SEEDS:
        groups[of].append(orig[of] + d)
    assert fid.seed_noise.pooled_sd == pytest.approx(seed_noise(groups).pooled_sd)
    (sl,) = fid.short_long
    assert [(p.id, p.short) for p in sl.pairs] == [(i, orig[i]) for i in (1, 2, 3, 4)]
    short = [orig[i] for i in (1, 2, 3, 4)]
    longer = [orig[of] - 20 + d for of, d in LONG]
    assert sl.kendall_tau == pytest.approx(stats.kendalltau(short, longer).statistic)
    assert (sl.epochs_short, sl.epochs_long) == (3, 10)
    lines = fid.lines()
    assert lines[0].startswith(f"seed-noise floor: pooled seed SD {fid.noise_floor:.2f}% (95% CI")
    assert lines[1].startswith("short vs long (3 -> 10 epochs, 4 models): Kendall tau")


def test_summary_json_and_report_hold_the_figures(tmp_path):
    root = make_run(tmp_path / "a", n=12)
    add_retrains(root)
    index, summary = build_report([root], out=tmp_path / "rep")
    data = json.loads((tmp_path / "rep" / "summary.json").read_text())
    fid = data["runs"][0]["fidelity"]
    assert fid["seed_noise"]["pooled_sd"] == pytest.approx(summary.runs[0].fidelity.noise_floor)
    assert set(fid["seed_noise"]["ci"]) == {"low", "high"}
    assert fid["short_long"][0]["kendall_tau"] is not None
    assert set(fid["short_long"][0]["tau_ci"]) == {"low", "high"}
    # retrains are no models of the search: not in the population, no "other recipe" note
    assert data["runs"][0]["counts"]["finished_sampled"] == 12
    assert data["runs"][0]["counts"]["finished_other_recipe"] == 0 and data["notes"] == []
    assert data["runs"][0]["counts"]["done_without_error"] == 0
    html = index.read_text()
    assert "How much to trust the EDFs" in html
    for line in summary.runs[0].fidelity.lines():
        assert line.split(" (")[0] in html
    make_run(tmp_path / "plain", n=12)
    plain = json.loads(json.dumps(summarize(read_runs([tmp_path / "plain"])).to_json()))
    assert "fidelity" not in plain["runs"][0]


@pytest.mark.parametrize(("noise", "word"), [(20.0, "is below"), (0.01, "exceeds")])
def test_verdict_holds_the_median_difference_against_the_noise_floor(tmp_path, noise, word):
    a = make_run(tmp_path / "a", name="a", n=30, seed=1)
    b = make_run(tmp_path / "b", name="b", n=30, seed=2, shift=1.0)
    add_retrains(a, noise=noise)
    s = summarize(read_runs([a, b]))
    v = s.comparisons[0].verdict
    floor = s.runs[0].fidelity.noise_floor
    diff = abs(s.comparisons[0].plain.median_a - s.comparisons[0].plain.median_b)
    assert v.noise_floor.sd == pytest.approx(floor) and v.noise_floor.run == "a"
    assert v.noise_floor.median_difference == pytest.approx(diff)
    sentence = (f"The difference in medians, {diff:.2f}%, {word} the seed-noise floor,"
                f" {floor:.2f}% (a's pooled seed SD of one training)")
    assert sentence in v.text
    js = s.to_json()["comparisons"][0]
    assert js["noise_floor"]["below"] is (word == "is below")
    no_floor = summarize(read_runs([b, tmp_path / "a"]))  # b first: still a's floor
    assert no_floor.comparisons[0].verdict.noise_floor.run == "a"
