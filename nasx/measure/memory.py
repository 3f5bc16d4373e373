"""Peak memory of one training step (forward, backward, SGD-with-momentum update).

On CUDA it is measured: ``torch.cuda.max_memory_allocated`` after a reset of the peak counter,
less what the process held before the model was built, over a few steps (median, IQR), with the
training recipe's autocast dtype and memory layout (channels_last) as a trial trains. On CPU the process's resident size is no measure (allocator
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


def eval_bytes_per_image(model: nn.Module, x: torch.Tensor) -> float:
    """Counted bytes per image live at once in an evaluation pass (no_grad, eval mode): the
    largest input + output of one leaf module, plus the largest output of any module (a block's
    input stays alive for its shortcut while its branch runs). Float32 like the rest."""
    leaf, largest = 0, 0

    def hook(mod: nn.Module, inputs: tuple[object, ...], out: object) -> None:
        nonlocal leaf, largest
        size = _nbytes(out) if isinstance(out, torch.Tensor) else 0
        largest = max(largest, size)
        if not any(True for _ in mod.children()):
            inp = sum(_nbytes(t) for t in inputs if isinstance(t, torch.Tensor))
            leaf = max(leaf, inp + size)

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return (leaf + largest) / x.shape[0]


def train_memory(spec: ArchSpec, *, batch: int = 1, device: str = "cpu", repeats: int = 3,
                 threads: int = 1, amp: bool = True, channels_last: bool = True) -> Measurement:
    """Peak training memory (MiB) of one step of ``spec`` at ``batch``: measured on CUDA,
    counted on CPU (see the module docstring).

    On CUDA the step runs as a trial trains (``amp``: the recipe's autocast dtype by compute
    capability; ``channels_last``: its memory layout), and what the process held before the
    model was built (cached data sets, other models) is subtracted.
    """
    from nasx.models import build_model

    kind = "cuda" if device.startswith("cuda") else "cpu"
    key = f"memory_mib_b{batch}_train_{kind}"
    baseline = torch.cuda.memory_allocated(device) if kind == "cuda" else 0
    model = build_model(spec, init=True, seed=0).to(device).train()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, spec.in_channels, spec.resolution, spec.resolution,
                    generator=gen).to(device)
    y = torch.randint(0, spec.num_classes, (batch,), generator=gen).to(device)
    with torch_threads(threads):
        if kind == "cpu":
            total = sum(counted_bytes(model, x, y).values()) / MIB
            return Measurement(key=key, device=device, batch=batch, threads=threads,
                               method="counted: params+grads+momentum+input+saved tensors",
                               median=total, spread=0.0, unit="MiB", runs=1)
        peaks = cuda_peaks(model, x, y, device, baseline=baseline, repeats=repeats, amp=amp,
                           channels_last=channels_last)
    med, iqr = summarise(peaks) if len(peaks) > 1 else (statistics.median(peaks), 0.0)
    how = ", ".join(["autocast" if amp else "fp32"] + (["channels_last"] if channels_last else []))
    return Measurement(key=key, device=device, batch=batch, threads=threads,
                       method=f"torch.cuda.max_memory_allocated less the baseline, SGD momentum "
                              f"step ({how})",
                       median=med, spread=iqr, unit="MiB", runs=len(peaks))


def cuda_peaks(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: str, *,
               baseline: int, repeats: int, amp: bool, channels_last: bool) -> list[float]:
    """MiB above ``baseline`` at the peak of each of ``repeats`` training steps (after one that
    creates the optimizer state), with the trial's autocast and memory layout."""
    from nasx.train.cuda_setup import autocast_for

    dev = torch.device(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast_for(dev, amp):
            logits = model(x)
        torch.nn.functional.cross_entropy(logits.float(), y).backward()
        opt.step()

    step()  # the optimizer state exists from the first step on
    peaks = []
    for _ in range(max(1, repeats)):
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        step()
        torch.cuda.synchronize(dev)
        peaks.append((torch.cuda.max_memory_allocated(dev) - baseline) / MIB)
    return peaks
