"""Cosine schedule with linear warm-up, pinned values; optimizer param groups; thread choice."""

from __future__ import annotations

import math

import pytest
import torch

from nasx.errors import TrainError
from nasx.train.optim import build_optimizer, param_groups
from nasx.train.recipe import Recipe
from nasx.train.schedule import lr_at, warmup_steps_for
from nasx.train.trainer import thread_count


@pytest.mark.parametrize(
    ("step", "total", "base", "warm", "factor", "expected"),
    [
        (0, 100, 0.1, 0, 0.1, 0.1),
        (50, 100, 0.1, 0, 0.1, 0.05),
        (75, 100, 0.2, 0, 0.1, 0.1 * (1 - math.sqrt(0.5))),  # 0.0292893...
        (100, 100, 0.1, 0, 0.1, 0.0),
        (0, 100, 0.1, 10, 0.1, 0.01),  # warm-up starts at base * warmup_factor
        (5, 100, 0.1, 10, 0.1, 0.054661429366366296),
        (10, 100, 0.1, 10, 0.1, 0.09755282581475769),  # warm-up over: plain cosine
    ],
)
def test_lr_at_pinned(
    step: int, total: int, base: float, warm: int, factor: float, expected: float
) -> None:
    assert lr_at(step, total, base, warm, factor) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_lr_monotone_after_warmup() -> None:
    lrs = [lr_at(s, 40, 0.4, 8, 0.1) for s in range(41)]
    assert lrs[:9] == sorted(lrs[:9]) and lrs[8:] == sorted(lrs[8:], reverse=True)
    assert warmup_steps_for(0.5, 11) == 6 and warmup_steps_for(0, 11) == 0


def test_no_weight_decay_on_bn_and_bias() -> None:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4, 2)
    )
    groups = param_groups(model, 5e-4)
    decayed = {id(p) for p in groups[0]["params"]}  # type: ignore[union-attr]
    assert decayed == {id(model[0].weight), id(model[3].weight)}
    assert groups[1]["weight_decay"] == 0.0
    assert len(groups[1]["params"]) == 4  # type: ignore[arg-type]
    sgd = build_optimizer(model, Recipe(), torch.device("cpu"))
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["nesterov"]
    adamw = build_optimizer(model, Recipe(optimizer="adamw", lr=1e-3), torch.device("cpu"))
    assert isinstance(adamw, torch.optim.AdamW)


def test_thread_count() -> None:
    assert thread_count(Recipe(threads=3), {}) == 3
    assert thread_count(Recipe(), {"NASX_THREADS": "2", "OMP_NUM_THREADS": "5"}) == 2
    assert thread_count(Recipe(), {"OMP_NUM_THREADS": "1"}) == 1
    assert 1 <= thread_count(Recipe(), {}) <= 4
    with pytest.raises(TrainError, match="NASX_THREADS"):
        thread_count(Recipe(), {"NASX_THREADS": "many"})
