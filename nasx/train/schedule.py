"""Learning-rate schedule of the short-training regime: half-period cosine with linear warm-up.

Torch-free and evaluated per optimizer step, so the trainer only writes a Python float into the
optimizer's param groups (no device tensors, no host synchronisation).
"""

from __future__ import annotations

import math


def lr_at(
    step: int, total_steps: int, base_lr: float, warmup_steps: int = 0, warmup_factor: float = 0.1
) -> float:
    """Learning rate at optimizer step ``step`` (0-based) of ``total_steps``.

    cosine: base_lr * 0.5 * (1 + cos(pi * step / total_steps)); during the first ``warmup_steps``
    steps it is multiplied by a factor rising linearly from ``warmup_factor`` to 1.
    """
    t = min(max(step, 0), total_steps) / max(total_steps, 1)
    lr = 0.5 * base_lr * (1.0 + math.cos(math.pi * t))
    if step < warmup_steps:
        alpha = step / warmup_steps
        lr *= warmup_factor * (1.0 - alpha) + alpha
    return lr


def warmup_steps_for(warmup_epochs: float, steps_per_epoch: int) -> int:
    """Warm-up length in steps for a (possibly fractional) number of epochs."""
    return int(round(warmup_epochs * steps_per_epoch))
