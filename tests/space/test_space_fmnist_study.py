"""The six Fashion-MNIST study spaces (AnyNetX A-E, RegNet) differ only where the paper says."""

from __future__ import annotations

import pytest

from nasx.space import load_space

STEPS = ("anynet_a", "anynet_b", "anynet_c", "anynet_d", "anynet_e", "regnet")
# relations each AnyNetX step adds (DDS section 3): B shares b, C also g, D non-decreasing
# widths, E non-decreasing depths too
RELATIONS = {
    "anynet_a": {}, "anynet_b": {"bot_mul": "shared"},
    "anynet_c": {"bot_mul": "shared", "group_w": "shared"},
    "anynet_d": {"bot_mul": "shared", "group_w": "shared", "width": "non_decreasing"},
    "anynet_e": {"bot_mul": "shared", "group_w": "shared", "width": "non_decreasing",
                 "depth": "non_decreasing"},
}


@pytest.mark.parametrize("step", STEPS)
def test_one_input_stem_budget_and_recipe(step: str) -> None:
    """Same input, stem, flops budget and training recipe as A; three stages everywhere."""
    a, s = load_space("fmnist_anynet_a"), load_space(f"fmnist_{step}")
    assert {k: str(v) for k, v in s.input.items()} == {k: str(v) for k, v in a.input.items()}
    assert s.train_fixed == a.train_fixed and s.train_dists == a.train_dists
    assert s.constraints["flops"] == a.constraints["flops"]
    for key in ("stem", "stem_width", "se_ratio"):
        assert str(s.params[key]) == str(a.params[key])
    if step == "regnet":
        assert s.constraints["num_stages"] == (3, 3)
        assert str(s.params["bot_mul"]) == str(a.per_stage["bot_mul"][0])
        assert str(s.params["group_w"]) == str(a.per_stage["group_w"][0])
    else:
        assert s.stages == 3 and dict(s.relations) == RELATIONS[step]
        assert {k: [str(p) for p in v] for k, v in s.per_stage.items()} == \
            {k: [str(p) for p in v] for k, v in a.per_stage.items()}
