"""The CUDA-only paths of training, run on CPU: torch.cuda functions mocked, or the device-free
logic they share with the CPU path (issue 24). Each test fails on the code before that issue."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import torch
from test_train_trial import SPEC, TinyCNN
from torch import nn

from nasx.data import DataCache
from nasx.data.base import Dataset, check_fits
from nasx.errors import CudaFatalError, DataError, TrainError
from nasx.train import cuda_setup, loop, trainer
from nasx.train.job import TrialJob
from nasx.train.recipe import Recipe
from nasx.train.trainer import train_trial

CUDA = torch.device("cuda", 0)
GIB = 2**30
MIB = 2**20


def fake_cuda(monkeypatch: pytest.MonkeyPatch, **funcs: Callable[..., Any]) -> None:
    """Replace torch.cuda functions (``is_available`` is True unless given)."""
    monkeypatch.setattr(torch.cuda, "is_available", funcs.pop("is_available", lambda: True))
    for name, fn in funcs.items():
        monkeypatch.setattr(torch.cuda, name, fn)


# --- autocast dtype by compute capability ------------------------------------------------------

@pytest.mark.parametrize(("capability", "dtype", "scaler"), [
    ((7, 0), torch.float16, True),  # V100: no bf16 convolutions in cuDNN
    ((7, 5), torch.float16, True),  # T4: is_bf16_supported() is True by emulation
    ((8, 0), torch.bfloat16, False),  # A100
    ((9, 0), torch.bfloat16, False),  # H100
])
def test_amp_dtype_follows_the_compute_capability(monkeypatch: pytest.MonkeyPatch,
                                                  capability: tuple[int, int],
                                                  dtype: torch.dtype, scaler: bool) -> None:
    fake_cuda(monkeypatch, get_device_capability=lambda device=None: capability,
              is_bf16_supported=lambda *a, **k: True)
    ctx = loop._autocast(CUDA, Recipe())  # what every training and evaluation step enters
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == dtype
    assert isinstance(cuda_setup.grad_scaler(CUDA, True), torch.amp.GradScaler) is scaler
    # amp off, or CPU: float32, no scaler
    assert cuda_setup.amp_dtype(CUDA, False) is None
    assert cuda_setup.amp_dtype(torch.device("cpu"), True) is None
    assert cuda_setup.grad_scaler(CUDA, False) is None


# --- one evaluation shape ----------------------------------------------------------------------

class ShapeLog(TinyCNN):
    """TinyCNN that records the input shape of every forward pass, by mode."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: dict[bool, set[tuple[int, ...]]] = {True: set(), False: set()}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.shapes[self.training].add(tuple(x.shape))
        return super().forward(x)


def tiny_data(n_train: int, n_val: int, n_test: int) -> Dataset:
    gen = torch.Generator().manual_seed(0)

    def part(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(n, 1, 8, 8, generator=gen), torch.randint(0, 10, (n,), generator=gen)

    (xt, yt), (xv, yv), (xs, ys) = part(n_train), part(n_val), part(n_test)
    return Dataset(name="tiny", x_train=xt, y_train=yt, x_val=xv, y_val=yv, x_test=xs,
                   y_test=ys, num_classes=10, in_channels=1, resolution=8, flip=False,
                   crop=False)


def test_a_trial_feeds_one_training_and_one_evaluation_shape() -> None:
    """cudnn.benchmark autotunes per input shape: validation (37 images) and test (90) are both
    evaluated at one padded batch of 90, and training drops its partial batch."""
    model = ShapeLog()
    recipe = Recipe(epochs=3, batch_size=32, threads=1)
    out = loop.fit(model, tiny_data(100, 37, 90), recipe, seed=0, device=torch.device("cpu"))
    assert out.status == "done"
    assert model.shapes[True] == {(32, 1, 8, 8)}
    assert model.shapes[False] == {(90, 1, 8, 8)}


def test_padded_evaluation_equals_the_unpadded_one() -> None:
    torch.manual_seed(0)
    model = TinyCNN()
    model.train()(torch.randn(64, 1, 8, 8))  # batch-norm statistics that are not the identity
    data = tiny_data(1, 1, 70)
    cpu, recipe = torch.device("cpu"), Recipe()
    whole = loop.evaluate(model, data.x_test, data.y_test, recipe, cpu, batch=70)
    padded = loop.evaluate(model, data.x_test, data.y_test, recipe, cpu, batch=32)  # 32+32+6
    assert padded[0] == pytest.approx(whole[0], rel=1e-5) and padded[1] == whole[1]
    assert loop.eval_batch_size(37, 90) == 90 and loop.eval_batch_size(5000, 10000) == 1024


# --- torch.compile: a fresh dynamo cache per trial ---------------------------------------------

def test_compile_resets_dynamo_for_every_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch._dynamo

    calls: list[str] = []
    monkeypatch.setattr(torch._dynamo, "reset", lambda: calls.append("reset"))
    monkeypatch.setattr(torch, "compile", lambda m, **k: calls.append("compile") or m)
    model = TinyCNN()
    for _ in range(10):  # past dynamo's recompile limit (8) if the cache were kept
        assert loop.compiled(model, Recipe(compile=True), CUDA) is model
    assert calls == ["reset", "compile"] * 10
    calls.clear()
    assert loop.compiled(model, Recipe(compile=True), torch.device("cpu")) is model
    assert loop.compiled(model, Recipe(compile=False), CUDA) is model
    assert calls == []


# --- memory: the process's cap, the cache, the per-trial peak ----------------------------------

def test_check_fits_uses_the_process_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker packed 4 to an 80 GiB GPU may hold ~20 GiB, not the 60 GiB the device has free."""
    fraction = {"value": 0.25}
    fake_cuda(monkeypatch, mem_get_info=lambda device=None: (60 * GIB, 80 * GIB),
              get_per_process_memory_fraction=lambda device=None: fraction["value"],
              memory_allocated=lambda device=None: 0, memory_reserved=lambda device=None: 0)
    n = 16 * GIB // (3 * 64 * 64 * 4)  # 16 GiB of float32 3x64x64 images
    with pytest.raises(DataError) as err:
        check_fits(n, 3, 64, CUDA, "synthetic")
    assert "within this process's share of the GPU" in str(err.value)
    assert "only 20.0 GiB" in str(err.value) and "\n" not in str(err.value)
    fraction["value"] = 1.0  # no cap: the device's free memory decides, and 16 < 0.75 * 60
    check_fits(n, 3, 64, CUDA, "synthetic")


def test_data_cache_evicts_before_it_loads() -> None:
    cache = DataCache(max_items=1)
    held: list[int] = []

    def load(name: str) -> Callable[[], Any]:
        def inner() -> Any:
            held.append(len(cache))  # data sets still referenced by the cache while loading
            return name

        return inner

    cache.get_or_load(("a",), load("a"))
    cache.get_or_load(("b",), load("b"))
    assert held == [0, 0] and len(cache) == 1
    assert cache.get_or_load(("b",), load("x")) == "b" and cache.hits == 1


def test_peak_memory_metrics_on_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    reset: list[object] = []
    fake_cuda(monkeypatch, reset_peak_memory_stats=lambda device=None: reset.append(device),
              max_memory_allocated=lambda device=None: 300 * MIB,
              max_memory_reserved=lambda device=None: 512 * MIB)
    cuda_setup.reset_peak_memory(CUDA)
    assert reset == [CUDA]
    assert cuda_setup.peak_memory_metrics(CUDA) == {"peak_memory_mb": 300.0,
                                                    "peak_reserved_mb": 512.0}
    assert cuda_setup.peak_memory_metrics(torch.device("cpu")) == {}


def test_fit_reports_the_peak_memory_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[torch.device] = []

    def metrics(device: torch.device) -> dict[str, float]:
        seen.append(device)
        return {"peak_memory_mb": 12.5}

    monkeypatch.setattr(loop, "peak_memory_metrics", metrics)
    out = loop.fit(TinyCNN(), tiny_data(64, 16, 16), Recipe(epochs=1, batch_size=32),
                   seed=0, device=torch.device("cpu"))
    assert out.metrics["peak_memory_mb"] == 12.5 and seen == [torch.device("cpu")]


# --- sticky CUDA errors ------------------------------------------------------------------------

class Raises(nn.Module):
    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise self.exc


RECIPE = Recipe(data="digits", epochs=1, batch_size=64, threads=1)


@pytest.mark.parametrize("text", ["CUDA error: device-side assert triggered",
                                  "CUDA error: an illegal memory access was encountered"])
def test_fatal_cuda_errors_leave_the_trial(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(trainer, "_build_model",
                        lambda spec, seed: Raises(torch.AcceleratorError(text)))
    with pytest.raises(CudaFatalError) as err:
        train_trial(TrialJob(5, SPEC, RECIPE, seed=0), DataCache())
    msg = str(err.value)
    assert msg.startswith("trial 5: ") and text in msg and "\n" not in msg
    assert torch.get_num_threads() >= 1  # the finally block ran (threads restored)


def test_other_errors_still_fail_only_the_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    for exc in (RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"),
                RuntimeError("shape mismatch"), ValueError("device-side assert")):
        monkeypatch.setattr(trainer, "_build_model", lambda spec, seed, e=exc: Raises(e))
        res = train_trial(TrialJob(5, SPEC, RECIPE, seed=0), DataCache())
        assert res.status == "failed" and str(exc) in (res.message or "")


# --- determinism -------------------------------------------------------------------------------

def test_deterministic_sets_and_restores_the_cuda_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    cudnn = torch.backends.cudnn
    monkeypatch.setattr(cudnn, "benchmark", False)
    monkeypatch.setattr(cudnn, "deterministic", False)
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    with cuda_setup.determinism(CUDA, True):
        assert torch.are_deterministic_algorithms_enabled()
        assert (cudnn.benchmark, cudnn.deterministic) == (False, True)
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == cuda_setup.CUBLAS_WORKSPACE
    assert not torch.are_deterministic_algorithms_enabled()
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ and not cudnn.deterministic
    with cuda_setup.determinism(CUDA, False):  # the default: autotuning
        assert cudnn.benchmark and not torch.are_deterministic_algorithms_enabled()
    assert not cudnn.benchmark


class FlagLog(TinyCNN):
    def __init__(self) -> None:
        super().__init__()
        self.flags: set[bool] = set()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.flags.add(torch.are_deterministic_algorithms_enabled())
        return super().forward(x)


def test_a_deterministic_trial_trains_deterministically(monkeypatch: pytest.MonkeyPatch) -> None:
    models: list[FlagLog] = []
    monkeypatch.setattr(trainer, "_build_model",
                        lambda spec, seed: models.append(FlagLog()) or models[-1])
    recipe = Recipe(data="digits", epochs=1, batch_size=64, threads=1, deterministic=True)
    a, b = (train_trial(TrialJob(1, SPEC, recipe, seed=3), DataCache()) for _ in range(2))
    assert a.status == b.status == "done" and a.error == b.error
    assert a.metrics["train_error"] == b.metrics["train_error"]
    assert [m.flags for m in models] == [{True}, {True}]
    assert not torch.are_deterministic_algorithms_enabled()  # restored after the trial
    with pytest.raises(TrainError, match="deterministic"):
        Recipe().override({"deterministic": "yes"})


# --- a Ray worker's device ---------------------------------------------------------------------

def test_worker_device_maps_cuda_n_to_the_gpu_ray_shows() -> None:
    assert cuda_setup.worker_device("cuda:1", 0.25) == "cuda"
    assert cuda_setup.worker_device("cuda:3", 1.0) == "cuda"
    assert cuda_setup.worker_device("cuda:1", 0.0) == "cuda:1"  # no GPU from Ray: as given
    for name in ("cuda", "auto", "cpu"):
        assert cuda_setup.worker_device(name, 0.5) == name

