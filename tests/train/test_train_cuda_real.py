"""The CUDA paths on a real GPU (skipped without one; bench/gpu_first_run.sh runs them first)."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from test_train_trial import RECIPE, SPEC

from nasx.data import DataCache
from nasx.train.job import TrialJob
from nasx.train.trainer import train_trial

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_cuda_trial_reports_its_peak_memory_and_amp() -> None:
    recipe = dataclasses.replace(RECIPE, device="cuda", epochs=1)
    res = train_trial(TrialJob(1, SPEC, recipe, seed=0), DataCache())
    assert res.status == "done", res.message
    assert res.device.startswith("cuda:")
    assert 0 < res.metrics["peak_memory_mb"] <= res.metrics["peak_reserved_mb"]


def test_cuda_deterministic_trials_agree() -> None:
    recipe = dataclasses.replace(RECIPE, device="cuda", epochs=1, deterministic=True)
    cache = DataCache()
    a, b = (train_trial(TrialJob(1, SPEC, recipe, seed=3), cache) for _ in range(2))
    assert a.status == b.status == "done"
    assert (a.error, a.metrics["train_error"]) == (b.error, b.metrics["train_error"])
