"""Forward + backward on CPU, and torch.export of one network per family."""

from __future__ import annotations

import pytest
import torch
from models_registry import SPACES, families, representative, sampled_specs
from models_specs import HAND, small, tiny_mixed

from nasx.arch.spec import ArchSpec
from nasx.models import build_model


def _forward_backward(spec: ArchSpec, batch: int = 2) -> None:
    torch.manual_seed(0)
    model = build_model(spec, seed=0).train()
    x = torch.randn(batch, spec.in_channels, spec.resolution, spec.resolution)
    y = model(x)
    assert y.shape == (batch, spec.num_classes)
    y.logsumexp(1).mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.head.fc.weight.grad.abs().sum() > 0
    assert model.stem[0][0].weight.grad.abs().sum() > 0  # reaches the input layer


def _check_export(spec: ArchSpec) -> None:
    model = build_model(spec, seed=0).eval()
    x = torch.randn(2, spec.in_channels, spec.resolution, spec.resolution)
    program = torch.export.export(model, (x,))
    with torch.no_grad():
        assert torch.allclose(program.module()(x), model(x), atol=1e-5)


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_specs_forward_backward(name):
    spec = HAND[name][0]()
    _forward_backward(spec if spec.resolution <= 32 else small(spec))


@pytest.mark.parametrize("family", families())
def test_family_forward_backward_and_torch_export(family):
    """The cheapest zoo model (else a sample) of every family, at CIFAR size."""
    spec = representative(family)
    if spec is None:
        pytest.skip(f"no zoo model or space of family {family} yet")
    _forward_backward(spec)
    _check_export(spec)


@pytest.mark.parametrize("space", SPACES, ids=[p.name for p in SPACES])
def test_sampled_forward_backward(space):
    """Sampled models at their own resolution: three of a small-input (digits) space; for an
    ImageNet-sized space the cheapest of five samples, at batch 2 (a CPU pass of grouped and
    depthwise convs at 224 px and up costs seconds per model on a 2-core machine)."""
    from nasx.arch import complexity

    specs = sampled_specs(str(space), 5)
    if specs[0].resolution <= 64:
        chosen = list(specs[:3])
    else:
        chosen = [min(specs, key=lambda s: complexity(s).flops)]
    for spec in chosen:
        _forward_backward(spec)


def test_torch_export_every_block_kind():
    _check_export(tiny_mixed())
