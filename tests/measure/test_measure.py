"""Latency and memory of ArchSpecs: ordering by size, agreement within the reported noise."""

from __future__ import annotations

import dataclasses

import pytest

from nasx.arch import zoo
from nasx.arch.spec import ArchSpec
from nasx.errors import TrainError
from nasx.measure import latency, measure_spec, train_memory
from nasx.measure.latency import backends_for
from nasx.measure.memory import MOMENTUM_SLOTS, counted_bytes
from nasx.models import build_model


def tiny() -> ArchSpec:
    """RegNetX-200MF cut to one narrow stage of depth 1 at 16x16: a few thousand multiply-adds."""
    big = zoo.get("RegNetX-200MF")
    stage = dataclasses.replace(big.stages[0], depth=1, width=8, groups=8)
    return dataclasses.replace(big, resolution=16, stages=(stage,),
                               stem=dataclasses.replace(big.stem, width=8))


def big() -> ArchSpec:
    """RegNetX-200MF at 96x96: thousands of times the tiny spec's compute."""
    return dataclasses.replace(zoo.get("RegNetX-200MF"), resolution=96)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_larger_model_is_slower(backend: str) -> None:
    small = latency(tiny(), backend, repeats=7, warmup=2)
    large = latency(big(), backend, repeats=7, warmup=2)
    # the compute ratio is in the thousands: 3x leaves room for any scheduling noise
    assert large.median > 3 * small.median
    assert small.key == f"latency_ms_b1_{backend}_cpu" and small.unit == "ms"
    assert (small.device, small.batch, small.threads, small.runs) == ("cpu", 1, 1, 7)


def test_same_spec_twice_agrees_within_reported_noise() -> None:
    spec = big()
    a = latency(spec, "torch", repeats=15, warmup=3)
    b = latency(spec, "torch", repeats=15, warmup=3)
    assert a.spread >= 0 and b.spread >= 0 and a.sessions == b.sessions == 3
    # within the noise each reports (5% slack: CI machines run other processes meanwhile)
    assert abs(a.median - b.median) <= a.spread + b.spread + 0.05 * max(a.median, b.median)


def test_counted_memory_is_its_parts_and_grows_with_batch() -> None:
    spec = big()
    m1 = train_memory(spec, batch=1)
    m4 = train_memory(spec, batch=4)
    assert m1.key == "memory_mib_b1_train_cpu" and m4.key == "memory_mib_b4_train_cpu"
    assert m1.spread == 0.0 and m4.median > m1.median  # activations scale with the batch
    import torch

    model = build_model(spec, init=True, seed=0).train()
    x = torch.randn(2, spec.in_channels, spec.resolution, spec.resolution)
    parts = counted_bytes(model, x, torch.zeros(2, dtype=torch.long))
    n = sum(p.numel() for p in model.parameters()) * 4
    assert parts["params"] == parts["grads"] == n and parts["optimizer"] == MOMENTUM_SLOTS * n
    assert parts["input"] == x.numel() * 4
    # at least the output of the stem conv is saved for its BN's backward pass
    stem_out = 2 * spec.stem.width * (spec.resolution // spec.stem.stride) ** 2 * 4
    assert parts["activations"] >= stem_out


def test_measure_spec_keys_and_devices() -> None:
    got = measure_spec(tiny(), batches=(1, 2), device="cpu", repeats=3, warmup=1)
    assert [m.key for m in got] == [
        "latency_ms_b1_torch_cpu", "latency_ms_b1_onnx_cpu", "memory_mib_b1_train_cpu",
        "latency_ms_b2_torch_cpu", "latency_ms_b2_onnx_cpu", "memory_mib_b2_train_cpu"]
    assert all(m.median > 0 for m in got)


def test_bad_device_and_absent_cuda() -> None:
    import torch

    with pytest.raises(TrainError, match="--device"):
        backends_for("tpu")
    assert ("torch", "cpu") in backends_for("auto")
    if not torch.cuda.is_available():
        with pytest.raises(TrainError, match="no CUDA"):
            backends_for("cuda")


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs CUDA")
def test_cuda_latency_and_memory() -> None:
    lat = latency(big(), ("torch", "cuda"), repeats=5, warmup=2)
    mem = train_memory(big(), batch=4, device="cuda")
    assert lat.key == "latency_ms_b1_torch_cuda" and lat.median > 0
    assert mem.key == "memory_mib_b4_train_cuda" and mem.median > 0
