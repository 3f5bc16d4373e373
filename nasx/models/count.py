"""Measured complexity, to cross-check the analytic counter (nasx.arch.complexity) in tests."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nasx.arch.spec import ArchSpec
from nasx.models.net import build_model


def count_params(module: nn.Module) -> int:
    """Number of parameters (BN running statistics are buffers, not counted)."""
    return sum(p.numel() for p in module.parameters())


def _drop_batchnorm(module: nn.Module) -> None:
    """Replace every BatchNorm2d by Identity, in place.

    BN has no multiply-adds for FlopCounterMode, but its meta kernel is a slow Python
    decomposition (about 2/3 of a counted forward), so the counting forward goes without it.
    """
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, nn.Identity())
        else:
            _drop_batchnorm(child)


def count_flops(spec: ArchSpec, model: nn.Module | None = None) -> int:
    """Multiply-adds of one forward at batch 1, measured by FlopCounterMode on the meta device.

    FlopCounterMode counts 2 FLOPs per multiply-add and ignores biases, so this equals the
    analytic flops minus :func:`bias_flops`. ``model``: the spec's network already built on the
    meta device (it is modified: its BNs are dropped); built here when not given.
    """
    with torch.device("meta"):
        if model is None:
            model = build_model(spec, init=False)
        x = torch.empty(1, spec.in_channels, spec.resolution, spec.resolution)
    model.eval()
    _drop_batchnorm(model)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return int(counter.get_total_flops()) // 2


def bias_flops(spec: ArchSpec) -> int:
    """Flops the analytic counter gives to biases: FC outputs plus both SE convs' outputs (1x1)."""
    se = sum(b.w_se + b.w_mid for b in spec.blocks() if b.w_se)
    return spec.num_classes + se
