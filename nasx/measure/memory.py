"""Peak memory of one training step (forward, backward, SGD-with-momentum update).

On CUDA it is measured: ``torch.cuda.max_memory_allocated`` after a reset of the peak counter,
over a few steps (median, IQR). On CPU the process's resident size is no measure (allocator
caching, other threads, the ``ru_maxrss`` high-water mark never falls), so it is counted:
parameters + their gradients + the optimizer's state (one momentum buffer per parameter) + the
input + every tensor autograd saves for the backward pass, recorded by
``torch.autograd.graph.saved_tensors_hooks`` and counted once per storage (parameters excluded,
they are counted already). That is the memory that must be live at the start of the backward
pass, a lower bound of the true peak (no workspace, no allocator slack); it is deterministic, so
its spread is 0.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

import torch

from nasx.measure.latency import torch_threads
from nasx.measure.result import Measurement, summarise

if TYPE_CHECKING:
    from torch import nn

    from nasx.arch.spec import ArchSpec

MIB = 2**20
MOMENTUM_SLOTS = 1  # SGD with momentum keeps one buffer per parameter


def _nbytes(t: torch.Tensor) -> int:
    return t.untyped_storage().nbytes()


def _step(model: nn.Module, x: torch.Tensor, y: torch.Tensor, opt: torch.optim.Optimizer) -> None:
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()


def counted_bytes(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, int]:
    """Bytes of parameters, gradients, optimizer state, input and saved activations."""
    params = [p for p in model.parameters() if p.requires_grad]
    own = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in own:
            saved[ptr] = _nbytes(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    p_bytes = sum(p.numel() * p.element_size() for p in params)
    return {"params": p_bytes, "grads": p_bytes, "optimizer": MOMENTUM_SLOTS * p_bytes,
            "input": _nbytes(x), "activations": sum(saved.values())}


def train_memory(spec: ArchSpec, *, batch: int = 1, device: str = "cpu", repeats: int = 3,
                 threads: int = 1) -> Measurement:
    """Peak training memory (MiB) of one step of ``spec`` at ``batch``: measured on CUDA,
    counted on CPU (see the module docstring)."""
    from nasx.models import build_model

    model = build_model(spec, init=True, seed=0).to(device).train()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, spec.in_channels, spec.resolution, spec.resolution,
                    generator=gen).to(device)
    y = torch.randint(0, spec.num_classes, (batch,), generator=gen).to(device)
    kind = "cuda" if device.startswith("cuda") else "cpu"
    key = f"memory_mib_b{batch}_train_{kind}"
    with torch_threads(threads):
        if kind == "cpu":
            total = sum(counted_bytes(model, x, y).values()) / MIB
            return Measurement(key=key, device=device, batch=batch, threads=threads,
                               method="counted: params+grads+momentum+input+saved tensors",
                               median=total, spread=0.0, unit="MiB", runs=1)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        _step(model, x, y, opt)  # the optimizer state exists from the first step on
        peaks = []
        for _ in range(max(1, repeats)):
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            _step(model, x, y, opt)
            torch.cuda.synchronize(device)
            peaks.append(torch.cuda.max_memory_allocated(device) / MIB)
    med, iqr = summarise(peaks) if len(peaks) > 1 else (statistics.median(peaks), 0.0)
    return Measurement(key=key, device=device, batch=batch, threads=threads,
                       method="torch.cuda.max_memory_allocated, SGD momentum step",
                       median=med, spread=iqr, unit="MiB", runs=len(peaks))
