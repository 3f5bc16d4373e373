"""Optimizers of the recipe: SGD with Nesterov momentum (default) or AdamW.

Weight decay applies to conv and linear weights only (parameters with 2+ dimensions); batch-norm
scales/shifts and all biases (1-D parameters) are not decayed, as is usual for short schedules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from nasx.train.recipe import Recipe


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, object]]:
    """Two groups: decayed (ndim >= 2) and not decayed (ndim <= 1: BN and biases)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    groups: list[dict[str, object]] = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def build_optimizer(
    model: torch.nn.Module, recipe: Recipe, device: torch.device
) -> torch.optim.Optimizer:
    """The recipe's optimizer over ``model``; fused kernels on CUDA."""
    import torch

    groups = param_groups(model, recipe.weight_decay)
    fused = device.type == "cuda"  # one kernel for all parameters; CPU keeps the default path
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(
            groups, lr=recipe.lr, weight_decay=recipe.weight_decay, fused=fused
        )
    return torch.optim.SGD(
        groups,
        lr=recipe.lr,
        momentum=recipe.momentum,
        nesterov=recipe.nesterov and recipe.momentum > 0,  # torch refuses Nesterov without momentum
        weight_decay=recipe.weight_decay,
        fused=fused,
    )
