"""The CUDA paths of the measurements on CPU (issue 24), with mocked torch.cuda functions:
latency synchronises the model's device and warms up for a time, not a count; training memory
is measured with the trial's autocast and layout, less what the process held before."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from nasx.measure import memory
from nasx.train import cuda_setup

latency_mod = importlib.import_module("nasx.measure.latency")  # nasx.measure.latency is the function
MIB = 2**20


class Clock:
    """A fake perf_counter: each model run takes 10 ms, nothing else takes time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.runs = 0

    def __call__(self) -> float:
        return self.now

    def run(self, x: object) -> None:
        self.runs += 1
        self.now += 0.010


def test_latency_on_cuda_n_syncs_that_device_and_warms_up_for_a_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[object] = []
    clock = Clock()
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: synced.append(device))
    monkeypatch.setattr(latency_mod, "time", SimpleNamespace(perf_counter=clock))
    x = SimpleNamespace(device=torch.device("cuda", 1))  # the input of a model on cuda:1
    runs = latency_mod._torch_runs(clock.run, x, warmup=5, repeats=6)  # type: ignore[arg-type]
    assert [len(r) for r in runs] == [2, 2, 2]
    assert all(t == pytest.approx(10.0) for r in runs for t in r)
    # every synchronize waited for cuda:1 (a bare one waits for the current device, cuda:0)
    assert synced and set(synced) == {torch.device("cuda", 1)}
    # each of the 3 sessions warmed up for CUDA_WARMUP_SECONDS (50 runs of 10 ms), not 5 runs
    per_session = round(latency_mod.CUDA_WARMUP_SECONDS / 0.010)
    assert clock.runs == 3 * per_session + 6


def test_latency_on_cpu_keeps_the_counted_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(latency_mod, "time", SimpleNamespace(perf_counter=clock))
    x = SimpleNamespace(device=torch.device("cpu"))
    latency_mod._torch_runs(clock.run, x, warmup=5, repeats=3)  # type: ignore[arg-type]
    assert clock.runs == 3 * 5 + 3


class Probe(nn.Module):
    """A small conv net that records, per forward pass, the input's layout and the autocast."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
        self.seen: list[tuple[bool, list[str]]] = []
        self.contexts: list[str] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((x.is_contiguous(memory_format=torch.channels_last),
                          list(self.contexts)))
        return self.body(x)


def test_cuda_memory_uses_the_trial_autocast_layout_and_a_baseline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = Probe()

    @contextlib.contextmanager
    def autocast(device: torch.device, amp: bool) -> Iterator[None]:
        model.contexts.append(f"autocast {device} amp={amp}")
        try:
            yield
        finally:
            model.contexts.pop()

    resets: list[object] = []
    monkeypatch.setattr(cuda_setup, "autocast_for", autocast)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: resets.append(device))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: 150 * MIB)
    x, y = torch.randn(2, 3, 8, 8), torch.tensor([0, 3])
    peaks = memory.cuda_peaks(model, x, y, "cuda:1", baseline=100 * MIB, repeats=3, amp=True,
                              channels_last=True)
    assert peaks == [50.0, 50.0, 50.0]  # the peak less what the process held before
    assert resets == [torch.device("cuda", 1)] * 3
    # 1 step creating the optimizer state + 3 measured, each channels_last under the autocast
    assert model.seen == [(True, ["autocast cuda:1 amp=True"])] * 4
    model.seen.clear()
    memory.cuda_peaks(model, x, y, "cuda:0", baseline=0, repeats=1, amp=False,
                      channels_last=False)
    assert model.seen == [(False, ["autocast cuda:0 amp=False"])] * 2
