"""The vectorised RegNet and AnyNet screens agree exactly with nasx.arch's decode + complexity."""

from __future__ import annotations

import numpy as np
import pytest

from nasx.arch.complexity import complexity
from nasx.arch.families import decode
from nasx.errors import InvalidSample
from nasx.sample.bind import bind
from nasx.sample.draw import draw_columns, to_rows
from nasx.sample.prefilter import SCREENS, Scratch, screen_regnet

WIDE = """
family: regnet
input: {resolution: {choice: [32, 64, 224]}, in_channels: {choice: [1, 3]}}
params:
  depth: {int: [1, 28]}
  w0: {int: [8, 256], q: 8, log: true}
  wa: {float: [0, 256]}
  wm: {float: [1.2, 3.0], log: true}
  group_w: {pow2: [1, 64]}
  bot_mul: {choice: [0.25, 0.5, 1, 2, 3, 4]}
  se_ratio: {choice: [0, 0.25]}
  stem: {choice: [imagenet, cifar]}
  stem_width: {int: [8, 64], q: 8}
"""

ANYNET = """
family: anynet
stages: 3
input: {resolution: {choice: [32, 64, 224]}, in_channels: {choice: [1, 3]}}
params:
  se_ratio: {choice: [0, 0.25]}
  stem: {choice: [imagenet, cifar]}
  stem_width: {int: [8, 64], q: 8}
per_stage:
  depth: {int: [1, 6]}
  width: {int: [8, 512], q: 8, log: true}
  bot_mul: {choice: [0.25, 0.5, 1, 2, 3, 4]}
  group_w: {pow2: [1, 64]}
"""

CONSTRAINTS = {
    "loose": "",
    "window": "constraints:\n  flops: [50M, 800M]\n  num_stages: [3, 5]\n",
    "all": "constraints:\n  params: [1M, 10M]\n  acts: [null, 5M]\n  flops: [100M, null]\n",
}


def _exact(family, values, constraints):
    """The reason nasx.arch gives (None = acceptable)."""
    try:
        spec = decode(family, values)
    except InvalidSample:
        return "invalid"
    q = {**complexity(spec).to_dict(), "num_stages": len(spec.stages)}
    for key, (lo, hi) in constraints.items():
        if (lo is not None and q[key] < lo) or (hi is not None and q[key] > hi):
            return key
    return None


@pytest.mark.parametrize("which", list(CONSTRAINTS))
@pytest.mark.parametrize("family", ["regnet", "anynet"])
def test_screen_verdicts_match_the_decoder(make_space, family, which):
    text = {"regnet": WIDE, "anynet": ANYNET}[family]
    space = make_space(text + CONSTRAINTS[which], f"{family}_{which}")
    bound = bind(space)
    cols = draw_columns(bound, np.random.default_rng(11), 1500)
    screen = SCREENS[family]()(cols, bound.family.defaults, 1500, space.constraints)
    assert screen is not None
    mismatches = []
    for i, values in enumerate(to_rows(cols)):
        exact = _exact(family, values, space.constraints)
        got = screen.reasons[i]
        # the screen may pass what it cannot judge, but must never reject an acceptable one
        if (got is None) != (exact is None) or (got == "invalid") != (exact == "invalid"):
            mismatches.append((values, got, exact))
    assert mismatches == []
    assert sum(r is None for r in screen.reasons) > 10  # the test is not vacuous


def test_screen_passes_what_it_cannot_read(make_space):
    space = make_space("family: regnet\nparams: {depth: {choice: [4, deep]}}\n")
    bound = bind(space)
    cols = draw_columns(bound, np.random.default_rng(0), 8)
    assert screen_regnet(cols, bound.family.defaults, 8, space.constraints) is None


def test_anynet_stage_count_constraint(make_space):
    space = make_space(ANYNET + "constraints:\n  num_stages: [4, 4]\n", "four")
    bound = bind(space)
    cols = draw_columns(bound, np.random.default_rng(0), 50)
    screen = SCREENS["anynet"]()(cols, bound.family.defaults, 50, space.constraints)
    assert screen is not None
    assert set(screen.reasons.tolist()) <= {"num_stages", None}
    assert sum(r == "num_stages" for r in screen.reasons) > 0


@pytest.mark.parametrize("relation", ["", "relations: {bot_mul: non_decreasing}\n"])
def test_fixed_values_keep_their_python_type(make_space, relation):
    """A fixed int beside drawn floats stays an int in the values (they are stored as written)."""
    space = make_space(
        "family: anynet\nstages: 2\nparams: {stem: cifar, se_ratio: 0}\n"
        "per_stage:\n  depth: [2, {int: [1, 3]}]\n  width: {int: [8, 64], q: 8}\n"
        "  bot_mul: [1, {float: [0.25, 1.0]}]\n  group_w: 8\n" + relation, "typed")
    rows = to_rows(draw_columns(bind(space), np.random.default_rng(0), 20))
    assert all(type(r["depth_1"]) is int and type(r["depth_2"]) is int for r in rows)
    assert all(type(r["group_w_1"]) is int and type(r["stem"]) is str for r in rows)
    assert all(type(r["se_ratio"]) is int for r in rows)
    # the fixed 1 stays an int wherever a relation moves it; the drawn values are floats
    assert all(sorted(type(r[f"bot_mul_{i}"]).__name__ for i in (1, 2)) == ["float", "int"]
               for r in rows)


def test_regnet_screen_reuses_its_buffers_cleanly(make_space):
    """A sampling pass keeps the screen's (blocks, candidates) buffers between batches: a
    shallow batch after a deep one (and the deep one again) gets the verdicts it gets alone."""
    deep = make_space(WIDE + CONSTRAINTS["window"], "deep")
    shallow = make_space(WIDE.replace("depth: {int: [1, 28]}", "depth: {int: [1, 5]}")
                         + CONSTRAINTS["window"], "shallow")
    batches = []
    for space, size in ((deep, 700), (shallow, 300), (deep, 700)):
        bound = bind(space)
        cols = draw_columns(bound, np.random.default_rng(3), size)
        batches.append((cols, bound.family.defaults, size, space.constraints))
    alone = [screen_regnet(*b).codes for b in batches]
    shared = Scratch()
    reused = [screen_regnet(*b, scratch=shared).codes for b in [*batches, *batches[::-1]]]
    assert all(np.array_equal(a, b) for a, b in zip(alone + alone[::-1], reused, strict=True))
    assert alone[0].tolist() == alone[2].tolist()
