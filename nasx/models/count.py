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


def count_flops(spec: ArchSpec) -> int:
    """Multiply-adds of one forward at batch 1, measured by FlopCounterMode on the meta device.

    FlopCounterMode counts 2 FLOPs per multiply-add and ignores biases, so this equals the
    analytic flops minus :func:`bias_flops`.
    """
    with torch.device("meta"):
        model = build_model(spec, init=False).eval()
        x = torch.empty(1, spec.in_channels, spec.resolution, spec.resolution)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    total = counter.get_total_flops()
    return int(total) // 2


def bias_flops(spec: ArchSpec) -> int:
    """Flops the analytic counter gives to biases: FC outputs plus both SE convs' outputs (1x1)."""
    se = sum(b.w_se + b.w_mid for b in spec.blocks() if b.w_se)
    return spec.num_classes + se
