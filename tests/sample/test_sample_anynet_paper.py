"""The shipped AnyNetX A..E spaces are the DDS paper's (section 3.1), read back from the run store.

Paper: every stage has depth d_i <= 16, width w_i <= 1024 (a multiple of 8), bottleneck ratio
b_i in {1, 2, 4} (inner width w_i / b_i) and group width g_i in {1, 2, 4, ..., 32}; B shares b,
C also g, D has non-decreasing widths, E also non-decreasing depths. nasx's bot_mul is 1 / b.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.store import RunStore

REPO = Path(__file__).resolve().parents[2]
# space -> the relations the paper adds over AnyNetX_A (each space keeps its predecessors')
RELATIONS = {
    "anynet_a": set(),
    "anynet_b": {"b shared"},
    "anynet_c": {"b shared", "g shared"},
    "anynet_d": {"b shared", "g shared", "w non-decreasing"},
    "anynet_e": {"b shared", "g shared", "w non-decreasing", "d non-decreasing"},
}


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    """``nasx sample spaces/anynet_X.yaml --n 50`` for the five spaces: name -> trial records."""
    root = tmp_path_factory.mktemp("anynet")
    runs = {}
    for name in RELATIONS:
        out = root / name
        assert main(["sample", f"{REPO}/spaces/{name}.yaml", "--n", "50", "--out", str(out),
                     "--no-progress"]) == 0
        with RunStore.open(out) as store:
            runs[name] = store.trials()
    return runs


@pytest.mark.parametrize("name", RELATIONS)
def test_every_block_has_the_papers_bottleneck_and_groups(sampled, name):
    trials = sampled[name]
    assert len(trials) == 50
    ratios_seen = set()
    for t in trials:
        spec = t.spec
        assert len(spec.stages) == 4 and 360e6 <= t.flops <= 400e6
        for i, stage in enumerate(spec.stages, start=1):
            b = 1 / t.values[f"bot_mul_{i}"]  # the paper's ratio
            assert b in (1, 2, 4)
            ratios_seen.add(b)
            assert stage.bottleneck * b == stage.width  # inner width w_i / b_i, exactly
            assert 1 <= stage.depth <= 16 and stage.width <= 1024 and stage.width % 8 == 0
        for block in spec.blocks():
            assert block.w_mid in (block.w_out, block.w_out // 2, block.w_out // 4)
            assert block.w_mid <= block.w_out  # never an inverted bottleneck
            assert block.w_mid % block.groups == 0  # the group width divides the inner width
            assert block.w_mid // block.groups <= 32
    assert ratios_seen == {1, 2, 4}  # 50 draws reach every ratio


@pytest.mark.parametrize("name", RELATIONS)
def test_the_papers_relations_hold(sampled, name):
    rel = RELATIONS[name]
    for t in sampled[name]:
        v = t.values
        b = [v[f"bot_mul_{i}"] for i in range(1, 5)]
        g = [v[f"group_w_{i}"] for i in range(1, 5)]
        w = [v[f"width_{i}"] for i in range(1, 5)]
        d = [v[f"depth_{i}"] for i in range(1, 5)]
        if "b shared" in rel:
            assert len(set(b)) == 1
        if "g shared" in rel:
            assert len(set(g)) == 1
        if "w non-decreasing" in rel:
            assert w == sorted(w)
        if "d non-decreasing" in rel:
            assert d == sorted(d)
    if name == "anynet_a":  # nothing shared: stages differ in b and g somewhere
        assert any(len({t.values[f"bot_mul_{i}"] for i in range(1, 5)}) > 1
                   for t in sampled[name])


def test_first_anynet_a_trial_is_pinned(sampled):
    t = sampled["anynet_a"][0]
    spec = t.spec
    assert [t.values[f"bot_mul_{i}"] for i in range(1, 5)] == [0.5, 0.5, 1.0, 1.0]
    assert [t.values[f"width_{i}"] for i in range(1, 5)] == [168, 16, 152, 104]
    assert [t.values[f"group_w_{i}"] for i in range(1, 5)] == [2, 16, 32, 32]
    # (depth, width, inner width, groups) after pycls's compatibility adjustment: stage 2's group
    # width 16 shrinks to its inner width 8; stages 3-4 round to multiples of the group width 32.
    assert [(s.depth, s.width, s.bottleneck, s.groups) for s in spec.stages] == [
        (1, 168, 84, 42), (8, 16, 8, 1), (14, 160, 160, 5), (3, 96, 96, 3)]
    assert t.flops == 396_462_312


def test_docs_quote_the_papers_definition():
    text = (REPO / "docs" / "spaces.md").read_text()
    assert "b_i in {1, 2, 4}" in text and "w_i / b_i" in text
    assert "bot_mul: {choice: [1, 2, 4]}" not in text
