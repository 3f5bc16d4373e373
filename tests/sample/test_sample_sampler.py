"""Rejection sampling: determinism, constraints, dedup, relations, budgets, family checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasx.arch.complexity import complexity
from nasx.arch.spec import ArchSpec
from nasx.errors import SamplingError, SpaceError
from nasx.refine.feasible import Feasibility
from nasx.sample import check_space, probe_space, sample_space
from nasx.space import load_space

REPO = Path(__file__).resolve().parents[2]

TINY = """
family: regnet
input: {resolution: 16, in_channels: 1, num_classes: 10}
params:
  depth: {int: [2, 6]}
  w0: {int: [8, 32], q: 8}
  wa: {float: [4, 32], log: true}
  wm: {float: [1.5, 3.0]}
  group_w: {pow2: [1, 8]}
  stem: cifar
constraints:
  flops: [null, 5M]
"""


def test_regnet_first_trials_are_pinned():
    space = load_space(REPO / "spaces" / "regnet.yaml")
    res = sample_space(space, 3, np.random.default_rng(0))
    first = res.trials[0]
    assert first.values == {
        "depth": 13, "w0": 32, "wa": 63.83207139562389, "wm": 2.5542535476455863, "group_w": 4,
        "bot_mul": 1.0, "se_ratio": 0.0, "resolution": 224, "in_channels": 3,
        "num_classes": 1000,
    }
    assert (first.flops, first.params, first.acts, first.seed) == (
        360716008, 5547256, 2809288, 1421746521)
    assert [t.flops for t in res.trials] == [360716008, 387873000, 384495624]
    assert first.origin == "sampled" and first.hparams == {}
    assert isinstance(first.spec, ArchSpec) and first.spec.widths == [32, 80, 208, 536]


def test_same_seed_same_trials_other_seed_other_trials():
    space = load_space(REPO / "spaces" / "regnet.yaml")
    a = sample_space(space, 20, np.random.default_rng(7))
    b = sample_space(space, 20, np.random.default_rng(7))
    c = sample_space(space, 20, np.random.default_rng(8))
    assert [t.fingerprint for t in a.trials] == [t.fingerprint for t in b.trials]
    assert [t.seed for t in a.trials] == [t.seed for t in b.trials]
    assert a.attempts == b.attempts and a.rejected == b.rejected
    assert not {t.fingerprint for t in a.trials} & {t.fingerprint for t in c.trials}


def test_500_distinct_regnets_inside_every_constraint():
    space = load_space(REPO / "spaces" / "regnet.yaml")
    res = sample_space(space, 500, np.random.default_rng(0))
    assert res.accepted == 500 and len({t.fingerprint for t in res.trials}) == 500
    assert all(360_000_000 <= t.flops <= 400_000_000 for t in res.trials)
    assert all(len(t.spec.stages) == 4 for t in res.trials)
    for t in res.trials[::50]:  # the stored complexity is nasx.arch's count
        assert complexity(t.spec).to_dict() == {
            "flops": t.flops, "params": t.params, "acts": t.acts}
    assert res.attempts == 500 + sum(res.rejected.values())
    assert 0.002 < res.acceptance_rate < 0.008


def test_unsatisfiable_constraint_fails_with_counts(make_space):
    space = make_space(TINY.replace("flops: [null, 5M]", "flops: [1G, null]"), "tight")
    with pytest.raises(SamplingError) as info:
        sample_space(space, 5, np.random.default_rng(0), max_attempts=3000)
    msg = str(info.value)
    assert msg.startswith(f"{space.path}: found only 0 of 5 architectures in 3000 attempts")
    assert "acceptance rate 0%" in msg and "flops" in msg and "\n" not in msg


def test_default_budget_is_bounded(make_space):
    space = make_space(TINY.replace("flops: [null, 5M]", "flops: [1G, null]"), "tight")
    with pytest.raises(SamplingError, match="in 10000 attempts"):
        sample_space(space, 2, np.random.default_rng(0))


def test_small_space_runs_out_of_distinct_architectures(make_space):
    space = make_space("family: mobilenetv2\nparams: {width_mult: {choice: [0.5, 1.0]}}\n")
    with pytest.raises(SamplingError, match=r"found only 2 of 3 .*duplicate"):
        sample_space(space, 3, np.random.default_rng(0), max_attempts=200)


def test_value_and_derived_constraints(make_space):
    space = make_space(TINY + "  depth: [3, 4]\n  num_stages: [2, 2]\n")
    res = sample_space(space, 10, np.random.default_rng(0))
    assert all(t.values["depth"] in (3, 4) for t in res.trials)
    assert all(len(t.spec.stages) == 2 for t in res.trials)


def test_unknown_constraint_quantity(make_space):
    space = make_space(TINY + "  latency: [null, 5]\n")
    with pytest.raises(SpaceError, match=r"key 'constraints.latency': unknown quantity"):
        sample_space(space, 2, np.random.default_rng(0))


@pytest.mark.parametrize(("text", "key", "words"), [
    ("family: vgg\n", "family", "unknown family 'vgg'"),
    ("family: regnet\nparams: {width: 8}\n", "params.width", "unknown key for family 'regnet'"),
    ("family: regnet\nstages: 4\n", "stages", "no per-stage parameters"),
    ("family: anynet\nstages: 2\nper_stage: {se_ratio: 0.25}\n", "per_stage.se_ratio",
     "not a per-stage key"),
    ("family: regnet\nparams: {depth: deep}\n", "depth", "must be an integer"),
])
def test_family_checks_name_file_and_key(make_space, text, key, words):
    space = make_space(text, "bad")
    with pytest.raises(SpaceError) as info:
        sample_space(space, 1, np.random.default_rng(0), max_attempts=10)
    msg = str(info.value)
    assert msg.startswith(f"{space.path}: key '{key}': ") and words in msg


def test_relations_hold_in_every_sample():
    space = load_space(REPO / "spaces" / "anynet_e.yaml")
    res = sample_space(space, 3, np.random.default_rng(0))
    for t in res.trials:
        v = t.values
        widths = [v[f"width_{i}"] for i in range(1, 5)]
        depths = [v[f"depth_{i}"] for i in range(1, 5)]
        assert widths == sorted(widths) and depths == sorted(depths)
        assert len({v[f"bot_mul_{i}"] for i in range(1, 5)}) == 1
        assert len({v[f"group_w_{i}"] for i in range(1, 5)}) == 1
        assert 360_000_000 <= t.flops <= 400_000_000
    assert res.trials[0].values["width_4"] == 296 and res.trials[0].values["depth_4"] == 14


def test_per_stage_key_under_params_is_copied_to_every_stage(make_space):
    space = make_space(
        "family: anynet\nstages: 3\ninput: {resolution: 32, num_classes: 10}\n"
        "params: {bot_mul: {choice: [1, 2]}, stem: cifar}\n"
        "per_stage: {depth: {int: [1, 2]}, width: [16, 32, 64], group_w: 8}\n"
    )
    res = sample_space(space, 4, np.random.default_rng(0))
    for t in res.trials:
        assert t.values["bot_mul_1"] == t.values["bot_mul_2"] == t.values["bot_mul_3"]
        assert "bot_mul" not in t.values
        assert [t.values[f"width_{i}"] for i in (1, 2, 3)] == [16, 32, 64]


def test_train_distributions_do_not_change_architectures(make_space):
    plain = sample_space(make_space(TINY, "plain"), 8, np.random.default_rng(3))
    hp = make_space(TINY + "train:\n  epochs: 2\n  lr: {float: [0.05, 0.5], log: true}\n", "hp")
    res = sample_space(hp, 8, np.random.default_rng(3))
    assert [t.values for t in res.trials] == [t.values for t in plain.trials]
    assert all(0.05 <= t.hparams["lr"] <= 0.5 for t in res.trials)
    assert len({t.hparams["lr"] for t in res.trials}) == 8
    assert res.trials[0].fingerprint != plain.trials[0].fingerprint  # hparams are identity


def test_exclude_skips_known_fingerprints(make_space):
    space = make_space(TINY)
    first = sample_space(space, 5, np.random.default_rng(0))
    again = sample_space(space, 5, np.random.default_rng(0),
                         exclude={t.fingerprint for t in first.trials})
    assert not {t.fingerprint for t in first.trials} & {t.fingerprint for t in again.trials}
    assert again.rejected["duplicate"] >= 5


def test_probe_counts_exactly_and_never_raises(make_space):
    space = make_space(TINY.replace("flops: [null, 5M]", "flops: [1G, null]"), "tight")
    res = probe_space(space, 500, np.random.default_rng(0))
    assert (res.attempts, res.accepted) == (500, 0)


def test_given_values_become_a_trial_only_within_the_constraints(make_space):
    space = make_space(TINY)
    values = {"depth": 4, "w0": 16, "wa": 8.0, "wm": 2.0, "group_w": 2, "stem": "cifar",
              "resolution": 16, "in_channels": 1, "num_classes": 10}
    trial = Feasibility(space).check(values, {}, seed=5).trial
    assert trial is not None
    assert trial.origin == "refine" and trial.seed == 5 and trial.flops <= 5_000_000
    bad = Feasibility(space).check({**values, "w0": 32, "wa": 32.0, "depth": 6, "resolution": 224}, {},
                seed=5)
    assert not bad.feasible and bad.rule == "flops" and bad.trial is None


def test_bad_n_and_budget(make_space):
    space = make_space(TINY)
    with pytest.raises(SamplingError, match=r"key 'n': must be in \[1, 100000\], got 0"):
        sample_space(space, 0, np.random.default_rng(0))
    with pytest.raises(SamplingError, match="attempt budget"):
        sample_space(space, 1, np.random.default_rng(0), max_attempts=0)


# --- bounded input: family limits, the corner probe, candidates beyond the counters ---------

@pytest.mark.parametrize(("old", "new", "key", "rule"), [
    ("depth: {int: [2, 6]}", "depth: 1001", "params.depth", "must be at most 1000 (the largest "
     "depth nasx samples), got 1001"),
    ("depth: {int: [2, 6]}", "depth: {int: [2, 1000000000]}", "params.depth",
     "got {'int': [2, 1000000000]}"),
    ("resolution: 16", "resolution: {choice: [16, 8192]}", "input.resolution",
     "must be at most 4096"),
])
def test_check_space_limits_sizes_the_sampler_pays_for(make_space, old, new, key, rule):
    with pytest.raises(SpaceError) as err:
        check_space(make_space(TINY.replace(old, new)))
    assert f"key '{key}': " in str(err.value) and rule in str(err.value)


def test_check_space_limits_per_stage_depths(make_space):
    text = ("family: anynet\nstages: 2\nper_stage:\n  depth: [2, {int: [1, 5000]}]\n"
            "  width: 64\n  group_w: 8\n")
    with pytest.raises(SpaceError, match="key 'per_stage.depth.2': must be at most 1000"):
        check_space(make_space(text))


@pytest.mark.parametrize(("old", "new", "key", "rule"), [
    # a wrong type that a random draw meets only now and then
    ("stem: cifar", "stem: {choice: [cifar, cifar, cifar, cifar, cifar, cifar, cifar, 7]}",
     "stem", "must be one of imagenet, cifar, got 7"),
    ("wm: {float: [1.5, 3.0]}", "wm: {choice: [2.0, 2.0, 2.0, 2.0, x]}", "wm",
     "must be a number, got 'x'"),
    # an unknown quantity, known only once a candidate decodes
    ("flops: [null, 5M]", "flops: [null, 5M]\n  latency: [0, 1]", "constraints.latency",
     "unknown quantity to constrain"),
])
def test_check_space_finds_what_sampling_would_meet_later(make_space, old, new, key, rule):
    space = make_space(TINY.replace(old, new))
    with pytest.raises(SpaceError) as err:
        check_space(space)
    assert f"space.yaml: key '{key}': " in str(err.value) and rule in str(err.value)


@pytest.mark.parametrize(("text", "n_ok"), [
    ("family: efficientnet\nparams: {phi: {float: [0, 1000000000000000]}}\n", 0),  # alpha ** phi
    ("family: anynet\nstages: 4\nper_stage:\n  depth: 2\n  width: {choice: [64, "
     "1000000000000000]}\n  group_w: 8\n", None),  # flops beyond 1e18
    ("family: efficientnet\nparams: {depth_mult: {choice: [1.0, 100000.0]}}\n", None),  # blocks
])
def test_candidates_beyond_the_counters_are_rejected_not_crashed(make_space, text, n_ok):
    res = probe_space(make_space(text), 64, np.random.default_rng(0))
    assert res.rejected.get("out_of_range", 0) > 0
    assert res.accepted + sum(res.rejected.values()) == 64
    assert all(t.flops <= 10**18 for t in res.trials)
    if n_ok is not None:
        assert res.accepted == n_ok


def test_check_space_draws_nothing(make_space):
    """The corner probe uses no random numbers: a seed gives the trials it gave before."""
    space = make_space(TINY)
    a = sample_space(space, 5, np.random.default_rng(3))
    check_space(space)
    b = sample_space(space, 5, np.random.default_rng(3))
    assert [t.fingerprint for t in a.trials] == [t.fingerprint for t in b.trials]
    assert a.attempts == b.attempts


def test_an_exhausted_space_stops_early_with_the_default_budget(make_space, monkeypatch):
    import nasx.sample.sampler as sampler

    monkeypatch.setattr(sampler, "STALL", 100)
    two = TINY.replace("depth: {int: [2, 6]}", "depth: {choice: [2, 3]}").replace(
        "w0: {int: [8, 32], q: 8}", "w0: 16").replace("wa: {float: [4, 32], log: true}", "wa: 8.0"
    ).replace("wm: {float: [1.5, 3.0]}", "wm: 2.0").replace("group_w: {pow2: [1, 8]}", "group_w: 8")
    space = make_space(two)  # two distinct architectures
    with pytest.raises(SamplingError) as err:
        sample_space(space, 5, np.random.default_rng(0))  # default budget 10000: stops at 2048
    assert "found only 2 of 5 architectures in 2048 attempts" in str(err.value)
    assert "none new in the last 100 attempts" in str(err.value)
    with pytest.raises(SamplingError) as err:
        sample_space(space, 5, np.random.default_rng(0), max_attempts=4096)  # the user's: in full
    assert "in 4096 attempts" in str(err.value) and "none new" not in str(err.value)
