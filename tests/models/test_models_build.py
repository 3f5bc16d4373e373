"""build_model on hand-built specs: exact counts, init, meta device, bad specs."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
from models_specs import HAND, efficientnet_b0, regnetx_200mf, regnety_32gf, tiny_mixed
from torch import nn

from nasx.arch.complexity import complexity
from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.errors import NasxError
from nasx.models import ArchError, bias_flops, build_model, count_flops, count_params
from nasx.models.blocks import Block, MBConv


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_specs_match_analytic_and_pinned(name):
    make, flops, params = HAND[name]
    spec = make()
    with torch.device("meta"):
        model = build_model(spec)
    c = complexity(spec)
    assert (c.flops, c.params) == (flops, params)
    assert count_params(model) == c.params
    assert count_flops(spec) == c.flops - bias_flops(spec)


def test_bias_flops_counts_fc_and_se():
    # EfficientNet-B0: FC 1000 + every SE block's (w_se + w_mid)
    assert bias_flops(efficientnet_b0()) == 10340
    assert bias_flops(regnetx_200mf()) == 1000


def test_meta_build_of_32gf_is_shape_only():
    spec = regnety_32gf()
    with torch.device("meta"):
        model = build_model(spec)
    assert all(p.is_meta for p in model.parameters())
    assert count_params(model) == complexity(spec).params == 145046770
    assert count_flops(spec) + bias_flops(spec) == complexity(spec).flops == 32279583362


def test_init_follows_reference():
    spec = tiny_mixed()
    model = build_model(spec, seed=0)
    blocks = [m for m in model.modules() if isinstance(m, Block)]
    assert len(blocks) == 6
    for b in blocks:
        gamma = b.final_bn().weight
        assert torch.all(gamma == 0) if b.residual else torch.all(gamma == 1)
    # stride-2 mbconv (no skip) keeps gamma 1; the stride-1 equal-width ones are zeroed
    assert [b.residual for b in blocks if isinstance(b, MBConv)] == [False, True, True]
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and m.bias is not None:
            assert torch.all(m.bias == 0)  # SE convs
        if isinstance(m, nn.Linear):
            assert torch.all(m.bias == 0)
            assert abs(m.weight.std().item() - 0.01) < 0.002


def test_he_fan_out_std():
    spec = ArchSpec("t", StemSpec(256, kernel=3, stride=1), (), HeadSpec(10), resolution=8,
                    in_channels=64)
    model = build_model(spec, seed=1)
    w = model.stem[0][0].weight
    assert abs(w.std().item() - math.sqrt(2.0 / (9 * 256))) < 0.001
    assert w.mean().abs().item() < 0.001


def test_seed_is_deterministic_and_init_false_keeps_torch_defaults():
    a = build_model(tiny_mixed(), seed=3).state_dict()
    b = build_model(tiny_mixed(), seed=3).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = build_model(tiny_mixed(), seed=4).state_dict()
    assert not torch.equal(a["head.fc.weight"], c["head.fc.weight"])
    raw = build_model(tiny_mixed(), init=False)
    assert all(torch.all(b.final_bn().weight == 1) for b in raw.modules() if isinstance(b, Block))


def test_state_dict_names_are_stable():
    keys = list(build_model(tiny_mixed(), init=False).state_dict())
    assert keys[:3] == ["stem.0.0.weight", "stem.0.1.weight", "stem.0.1.bias"]
    assert "stages.1.0.se.reduce.bias" in keys and "stages.1.0.proj.0.weight" in keys
    assert keys[-2:] == ["head.fc.weight", "head.fc.bias"]


def test_bad_groups_is_one_line_nasx_error():
    stage = StageSpec("bottleneck", 1, 32, 2, bottleneck=24, groups=5)
    spec = ArchSpec("regnet", StemSpec(16), (stage,), HeadSpec(10), name="bad")
    with pytest.raises(ArchError, match=r"bad: key 'groups': block 0 \(bottleneck\): groups must"
                       r" divide widths 24 and 24, got 5") as err:
        build_model(spec)
    assert isinstance(err.value, NasxError) and "\n" not in str(err.value)


def test_zero_width_is_rejected():
    spec = ArchSpec("x", StemSpec(0), (), HeadSpec(10), name="zero")
    with pytest.raises(ArchError, match="key 'stem.width': must be >= 1, got 0"):
        build_model(spec)


def test_unknown_activation_is_rejected():
    spec = ArchSpec("x", StemSpec(8, act="gelu"), (), HeadSpec(10), name="act")  # type: ignore[arg-type]
    with pytest.raises(ArchError, match="key 'stem.act': must be one of relu, silu, relu6"):
        build_model(spec)


def test_models_layer_imports_no_search_code():
    code = ("import sys, nasx.models; bad = [m for m in sys.modules if m.split('.')[:2] in "
            "(['nasx', 'space'], ['nasx', 'sample'], ['nasx', 'store'], ['nasx', 'execute'])"
            " or m in ('ray', 'optuna')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
