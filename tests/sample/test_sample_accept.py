"""The one acceptance check: pinned verdicts, one decode per candidate, the sampler agrees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nasx.sample.accept as accept
from nasx.arch.complexity import complexity
from nasx.errors import SpaceError
from nasx.refine.feasible import Feasibility
from nasx.sample import Acceptance, Verdict, bind, check_space, sample_space
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
  depth: [3, 5]
  num_stages: [null, 2]
"""
OK = {"depth": 4, "w0": 16, "wa": 8.0, "wm": 2.0, "group_w": 2, "stem": "cifar",
      "resolution": 16, "in_channels": 1, "num_classes": 10}
BIG = {**OK, "w0": 32, "wa": 32.0, "resolution": 224}  # flops and num_stages out


@pytest.fixture
def acceptance(make_space):
    return Acceptance(bind(make_space(TINY)))


def test_an_accepted_candidate(acceptance):
    v = acceptance.check(OK)
    assert (v.accepted, v.feasible, v.rule, v.reason, v.violation) == (True, True, "", "", 0.0)
    assert v.spec is not None and v.counts == complexity(v.spec)
    assert (v.counts.flops, v.counts.params, v.counts.acts) == (423242, 10890, 22026)
    # numbers only (no 'stem'); the family's derived quantities; the counts
    assert dict(v.quantities) == {**{k: x for k, x in OK.items() if k != "stem"},
                                  "num_stages": 2.0, "flops": 423242, "params": 10890,
                                  "acts": 22026}


def test_every_violated_constraint_is_scored(acceptance):
    v = acceptance.check(BIG)
    assert not v.accepted and v.rule == "flops" and v.trial is None
    assert v.reason == "flops=2.21579e+08 outside [None, 5000000]; num_stages=3 outside [None, 2]"
    assert v.violation == pytest.approx((221578506 - 5e6) / 5e6 + 0.5)
    assert v.quantities["flops"] == 221578506 and v.counts is not None


def test_stop_at_first_scores_the_first_and_skips_the_decode(acceptance, monkeypatch):
    v = acceptance.check(BIG, stop_at_first=True)
    assert (v.rule, v.reason) == ("flops", "flops=2.21579e+08 outside [None, 5000000]")
    assert v.violation == pytest.approx((221578506 - 5e6) / 5e6)
    decodes = []
    monkeypatch.setattr(accept, "complexity", lambda spec: decodes.append(spec))
    v = acceptance.check({**OK, "depth": 6}, stop_at_first=True)  # a value constraint: no decode
    assert (v.rule, v.reason, v.violation, v.spec) == ("depth", "depth=6 outside [3, 5]",
                                                       pytest.approx(0.2), None)
    assert decodes == []


@pytest.mark.parametrize("stop_at_first", [False, True])
def test_values_without_a_network(acceptance, stop_at_first):
    v = acceptance.check({**OK, "wm": 1.5, "wa": 4.0, "w0": 8}, stop_at_first=stop_at_first)
    assert (v.accepted, v.rule, v.violation, dict(v.quantities)) == (False, "invalid", 1.0, {})
    assert v.reason.startswith("no valid network: regnet: quantisation gives 2 distinct widths")
    with pytest.raises(ValueError, match="makes no trial"):
        v.trial_for(OK, seed=0, hparams={}, origin="refine")


def test_a_network_beyond_the_counters(make_space):
    space = make_space("family: efficientnet\nparams: {depth_mult: 100000.0}\n")
    v = Acceptance(bind(space)).check({"depth_mult": 100000.0})
    assert (v.accepted, v.rule, v.violation) == (False, "out_of_range", 1.0)
    assert v.reason.startswith("out of range: more than 1e+18 flops, params or acts, or 10000")


def test_refine_decodes_and_counts_a_suggestion_once(make_space, monkeypatch):
    space = make_space(TINY)
    counted = []
    real = accept.complexity
    monkeypatch.setattr(accept, "complexity", lambda spec: counted.append(1) or real(spec))
    ok = Feasibility(space).check(OK, {}, seed=3)
    assert ok.feasible and ok.trial is not None and len(counted) == 1
    assert (ok.trial.flops, ok.trial.seed, ok.trial.origin) == (423242, 3, "refine")
    bad = Feasibility(space).check(BIG, {"lr": 0.1}, seed=3)
    assert not bad.feasible and bad.trial is None and len(counted) == 2
    assert isinstance(bad, Verdict) and bad.violation > 1


def test_sampled_trials_are_what_the_full_check_accepts():
    space = load_space(REPO / "spaces" / "regnet.yaml")
    res = sample_space(space, 20, np.random.default_rng(1))
    judge = Acceptance(bind(space))
    for t in res.trials:
        v = judge.check(t.values)
        assert v.accepted and v.counts is not None
        assert (v.counts.flops, v.counts.params, v.counts.acts) == (t.flops, t.params, t.acts)
        assert v.fingerprint(t.hparams) == t.fingerprint


@pytest.mark.parametrize("stem", ["cifar", "{choice: [imagenet, cifar]}"])
def test_a_constraint_on_a_value_that_is_no_number(make_space, stem):
    """Once a traceback from comparing 'cifar' with a bound; now the file's error."""
    space = make_space(TINY.replace("stem: cifar", f"stem: {stem}") + "  stem: [1, 2]\n")
    with pytest.raises(SpaceError) as err:
        check_space(space)
    assert str(err.value).startswith(f"{space.path}: key 'constraints.stem': a constraint needs "
                                     "a number, got ")
    with pytest.raises(SpaceError, match="constraints.stem"):
        sample_space(space, 2, np.random.default_rng(0))
