"""The executors' CUDA paths on CPU (issue 24): a Ray worker's device and memory cap with mocked
torch.cuda, the local Ray's GPU for ``cuda:N``, and an inline run stopped by a fatal CUDA error."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from exec_helpers import TINY

from nasx.errors import CudaFatalError
from nasx.execute.inline import run_inline
from nasx.execute.ray_exec import local_ray_env, worker_job
from nasx.execute.worker import job_to_json
from nasx.train import cuda_setup
from nasx.train.job import TrialJob, TrialResult
from nasx.train.recipe import Recipe
from nasx.train.trainer import pick_device

GIB = 2**30


def job(i: int, device: str = "cpu") -> TrialJob:
    return TrialJob(i, TINY, Recipe(device=device, threads=1), seed=i)


def test_a_ray_worker_trains_cuda_n_on_the_gpu_ray_shows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray shows a worker one GPU (cuda:0): a trial for cuda:1 must use it, capped at its share,
    instead of failing with 'only 1 CUDA device(s)' and skipping the cap."""
    caps: list[tuple[float, object]] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)  # what Ray lets the worker see
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda device=None: SimpleNamespace(total_memory=80 * GIB))
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction",
                        lambda fraction, device=None: caps.append((fraction, device)))
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", torch.backends.cudnn.benchmark)
    monkeypatch.setattr(cuda_setup, "_CAPS", {})
    got = worker_job({"job": job_to_json(job(4, "cuda:1")), "gpu_share": 0.25})
    assert got.recipe.device == "cuda" and got.trial_id == 4
    assert pick_device(got.recipe.device) == torch.device("cuda")
    assert len(caps) == 1 and caps[0][1] == torch.device("cuda", 0)
    assert caps[0][0] == pytest.approx(cuda_setup.allocator_fraction(0.25, 80 * GIB))
    # no GPU from Ray (--gpus-per-trial 0): the device stays as the user gave it, no cap
    caps.clear()
    same = worker_job({"job": job_to_json(job(5, "cpu")), "gpu_share": 0})
    assert same.recipe.device == "cpu" and caps == []


@pytest.mark.parametrize(("device", "environ", "address", "expected"), [
    ("cuda:1", {}, None, {"CUDA_VISIBLE_DEVICES": "1"}),
    ("cuda:1", {"CUDA_VISIBLE_DEVICES": "4,5"}, None, {"CUDA_VISIBLE_DEVICES": "5"}),
    ("cuda:0", {}, None, {"CUDA_VISIBLE_DEVICES": "0"}),
    ("cuda", {}, None, {}),  # Ray spreads trials over every GPU
    ("auto", {}, None, {}),
    ("cuda:1", {}, "10.0.0.1:6379", {}),  # a cluster's GPUs are its own
    ("cuda:1", {"RAY_ADDRESS": "10.0.0.1:6379"}, None, {}),
])
def test_a_local_ray_for_cuda_n_sees_that_gpu(device: str, environ: dict[str, str],
                                              address: str | None,
                                              expected: dict[str, str]) -> None:
    assert local_ray_env([job(1, device), job(2, device)], address, environ) == expected


class Rec:
    """The Recorder calls the inline executor makes, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        def record(tid: Any, *args: Any, **kw: Any) -> bool:
            self.calls.append((name, tid if isinstance(tid, int) else tid.trial_id))
            return False

        return record


def test_inline_run_stops_at_a_fatal_cuda_error() -> None:
    def fn(job: TrialJob, cache: object = None) -> TrialResult:
        if job.trial_id == 2:
            raise CudaFatalError("trial 2: AcceleratorError: CUDA error: an illegal memory "
                                 "access was encountered; this process's CUDA context is unusable")
        return TrialResult(trial_id=job.trial_id, status="done", error=1.0)

    rec = Rec()
    jobs = {i: job(i) for i in (1, 2, 3)}
    with pytest.raises(CudaFatalError) as err:
        run_inline(jobs, rec, fn, max_failures=2)  # type: ignore[arg-type]
    text = str(err.value)
    assert "\n" not in text and "illegal memory access" in text and "the run stopped" in text
    # trial 2 failed once (no retry in this poisoned process); trial 3 never started
    assert rec.calls == [("started", 1), ("result", 1), ("started", 2), ("crashed", 2)]


def test_inline_still_retries_other_errors() -> None:
    tries: list[int] = []

    def fn(job: TrialJob, cache: object = None) -> TrialResult:
        tries.append(job.trial_id)
        raise RuntimeError("boom")

    rec = Rec()
    run_inline({1: job(1)}, rec, fn, max_failures=1)  # type: ignore[arg-type]
    assert tries == [1, 1] and rec.calls[-1] == ("crashed", 1)


def test_a_local_ray_starts_with_that_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU choice reaches ray.init (Ray reads its GPUs from CUDA_VISIBLE_DEVICES there, and
    the raylet inherits it) and leaves this process's environment as it was."""
    import ray

    from nasx.execute import ExecOptions
    from nasx.execute.ray_session import ray_session

    seen: list[str | None] = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: seen.append(
        os.environ.get("CUDA_VISIBLE_DEVICES")) or SimpleNamespace())
    monkeypatch.setattr(ray, "shutdown", lambda: None)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    env = local_ray_env([job(1, "cuda:1")], None)
    with ray_session(ExecOptions(executor="ray", progress=False), env):
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "4,5"
    assert seen == ["5"]
