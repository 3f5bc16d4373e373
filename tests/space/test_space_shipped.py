"""Every file in spaces/ loads, fits its family and recipe, and samples inside its constraints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasx.api.spaces import check_train_block
from nasx.sample import bind, sample_space
from nasx.space import load_space, within

REPO = Path(__file__).resolve().parents[2]
SPACES = sorted((REPO / "spaces").glob("*.yaml"))


def test_the_documented_spaces_are_shipped():
    names = {p.stem for p in SPACES}
    assert {"regnet", "anynet_a", "anynet_b", "anynet_c", "anynet_d", "anynet_e", "resnext",
            "efficientnet", "efficientnet_grid", "regnet_digits", "anynet_digits"} <= names
    docs = (REPO / "docs" / "spaces.md").read_text()
    assert all(f"`{p.name}`" in docs for p in SPACES)


@pytest.mark.parametrize("path", SPACES, ids=[p.stem for p in SPACES])
def test_shipped_space_samples_inside_its_constraints(path):
    space = load_space(path)
    assert space.name == path.stem
    bind(space)
    check_train_block(space)
    res = sample_space(space, 3, np.random.default_rng(0))
    assert len({t.fingerprint for t in res.trials}) == 3
    for t in res.trials:
        quantities = {**t.values, "flops": t.flops, "params": t.params, "acts": t.acts,
                      "num_stages": len(t.spec.stages)}
        for key, bounds in space.constraints.items():
            if key in quantities:
                assert within(quantities[key], bounds), (key, quantities[key])
