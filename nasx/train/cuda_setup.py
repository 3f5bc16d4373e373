"""Per-process CUDA settings of a training worker: memory share, autotuning, precision, errors.

Trials packed on one GPU (``--gpus-per-trial 1/k``, see ``nasx.execute.packing``) share its
memory with nothing but Ray's bookkeeping to keep them apart. :func:`setup_cuda` caps this
process's CUDA caching allocator at its share, so a trial that outgrows it gets a CUDA
out-of-memory error of its own (and ends ``failed``) instead of pushing a neighbour out.

It also turns on ``torch.backends.cudnn.benchmark``: cuDNN times its convolution algorithms the
first time it sees an input shape and keeps the fastest. The models of a population differ, so
each trial pays that search again for each of its conv shapes (a fraction of a second to a few
seconds, in its first steps) and the choices cached by earlier trials of a reused worker stay in
memory unused; over the hundreds to thousands of steps of even a short trial, the faster kernels
win that back. A trial feeds exactly two input shapes: its training batch (partial batches are
dropped) and one evaluation batch (``nasx.train.loop.evaluate`` pads the last partial batch of
validation and test to it and masks the padding out). A recipe with ``deterministic: true``
turns autotuning off and asks for deterministic kernels (:func:`determinism`).

The rest is policy that the training loop and the measurements share: the autocast dtype by
compute capability (:func:`amp_dtype`), the per-trial peak memory (:func:`peak_memory_metrics`)
and which CUDA errors poison the process (:func:`is_fatal_cuda_error`).

Everything here is a no-op on CPU.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from nasx.types import Scalar

MIB = 2**20
# The CUDA context and cuBLAS/cuDNN handles live outside torch's allocator (and so outside its
# cap): the allocator's share is the trial's share less this, so k packed trials fit together.
CONTEXT_BYTES = 512 * MIB
MIN_OF_SHARE = 0.5  # the allocator keeps at least half the share, however small the GPU
# Kept free across the whole GPU, outside every packed trial's share: a CUDA context larger than
# CONTEXT_BYTES (it grows with cuDNN/cuBLAS workspaces and lazily loaded kernels), the driver's
# own allocations, and the allocator's rounding beyond its cap. Without it k shares of 1/k add up
# to exactly the GPU, and one context above its estimate pushes a neighbour out of memory.
GPU_SLACK = 0.03
GIB = 2**30

# The caps set in this process, by device index, as (share, allocator fraction, total bytes):
# torch keeps the fraction per process too, but does not expose it; an OOM message reads it here.
_CAPS: dict[int, tuple[float, float, int]] = {}


@dataclass(frozen=True)
class CudaSetup:
    """What :func:`setup_cuda` did: the device, the allocator's memory fraction, cudnn.benchmark."""

    device: str
    memory_fraction: float | None  # None: not capped by this call
    benchmark: bool


def _cuda_device(device: torch.device | str) -> torch.device | None:
    """The CUDA device meant by ``device`` (auto, cuda, cuda:N), None for CPU or no usable CUDA.

    Never raises: an unusable device is reported by the trainer (``pick_device``), with its key.
    """
    import torch

    name = str(device)
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        return None
    if dev.type != "cuda" or not torch.cuda.is_available():
        return None
    index = dev.index if dev.index is not None else torch.cuda.current_device()
    if index >= torch.cuda.device_count():
        return None
    return torch.device("cuda", index)


def worker_device(device: str, gpus: float) -> str:
    """The device a trial names inside a Ray worker that Ray gave ``gpus`` GPUs.

    Ray shows such a worker only the GPU(s) it assigned (``CUDA_VISIBLE_DEVICES``), as ``cuda:0``:
    ``cuda:N`` (which GPU of the machine: see ``nasx.execute.ray_exec.local_ray_env``) becomes
    ``cuda``, the one visible. Anything else stays as it is.
    """
    if gpus > 0 and device.startswith("cuda:"):
        return "cuda"
    return device


def allocator_fraction(share: float, total_bytes: int, context_bytes: int = CONTEXT_BYTES) -> float:
    """Fraction of the GPU's memory torch's allocator may hold for a trial given ``share`` of it:
    the share less its part of ``GPU_SLACK`` and less the CUDA context (at least half the share)."""
    return max(share * (1 - GPU_SLACK) - context_bytes / total_bytes, MIN_OF_SHARE * share)


def setup_cuda(device: torch.device | str, share: float | None = None, *,
               benchmark: bool = True, context_bytes: int = CONTEXT_BYTES) -> CudaSetup:
    """Cap this process's CUDA allocator at its ``share`` of the GPU (when 0 < share < 1) and set
    ``cudnn.benchmark``; on CPU (or without usable CUDA) touch nothing.

    ``share`` None or >= 1 leaves the memory fraction as it is (so a trainer may call this with
    no share after the worker has set one). Idempotent: call it per trial or once per worker.
    """
    dev = _cuda_device(device)
    if dev is None:
        return CudaSetup(device=str(device), memory_fraction=None, benchmark=False)
    import torch

    fraction = None
    if share is not None and 0 < share < 1:
        total = torch.cuda.get_device_properties(dev).total_memory
        fraction = allocator_fraction(share, total, context_bytes)
        torch.cuda.set_per_process_memory_fraction(fraction, dev)
        _CAPS[dev.index or 0] = (share, fraction, total)
    torch.backends.cudnn.benchmark = benchmark
    return CudaSetup(device=str(dev), memory_fraction=fraction, benchmark=benchmark)


def oom_hint(exc: BaseException) -> str | None:
    """One line for a CUDA out-of-memory error in a process capped by :func:`setup_cuda`, saying
    that the trial outgrew its share and what to do (None for any other error or no cap)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None or not isinstance(exc, torch.cuda.OutOfMemoryError) or not _CAPS:
        return None
    share, fraction, total = max(_CAPS.values())
    return (f"CUDA out of memory within this trial's share of the GPU (--gpus-per-trial "
            f"{share:g}: its allocator is capped at {fraction * total / GIB:.1f} GiB of "
            f"{total / GIB:.1f} GiB); pack fewer trials per GPU with a larger --gpus-per-trial")


def amp_dtype(device: torch.device, amp: bool) -> torch.dtype | None:
    """The autocast dtype of a trial: bf16 on compute capability >= 8 (Ampere and later), fp16
    (trained with a GradScaler) below; None (float32) on CPU or with ``amp`` off.

    ``torch.cuda.is_bf16_supported()`` is true on older cards through emulation, where cuDNN has
    no bf16 convolutions: the compute capability is the rule, not that call.
    """
    if device.type != "cuda" or not amp:
        return None
    import torch

    major, _ = torch.cuda.get_device_capability(device)
    return torch.bfloat16 if major >= 8 else torch.float16


def autocast_for(device: torch.device, amp: bool) -> contextlib.AbstractContextManager[object]:
    """Autocast with :func:`amp_dtype` on CUDA; nothing on CPU or with ``amp`` off."""
    dtype = amp_dtype(device, amp)
    if dtype is None:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type="cuda", dtype=dtype)


def grad_scaler(device: torch.device, amp: bool) -> object | None:
    """A ``torch.amp.GradScaler`` when the trial's autocast is fp16 (compute capability < 8: the
    loss is scaled so that small fp16 gradients do not flush to zero), else None."""
    import torch

    if amp_dtype(device, amp) != torch.float16:
        return None
    return torch.amp.GradScaler("cuda")


# cuBLAS needs a fixed workspace for deterministic results (CUDA >= 10.2, PyTorch's docs on
# reproducibility); without it use_deterministic_algorithms makes cuBLAS calls raise.
CUBLAS_WORKSPACE = ":4096:8"


@contextlib.contextmanager
def determinism(device: torch.device, deterministic: bool) -> Iterator[None]:
    """The block trains with cuDNN autotuning (the default) or, ``deterministic``, with
    deterministic kernels and no autotuning; every flag is restored afterwards (process-wide).

    Deterministic: ``torch.use_deterministic_algorithms(True, warn_only=True)`` (an op without a
    deterministic kernel warns instead of failing the trial), ``cudnn.deterministic``, no
    ``cudnn.benchmark`` and ``CUBLAS_WORKSPACE_CONFIG``. On CPU only the first applies.
    """
    import torch

    cudnn = torch.backends.cudnn
    saved = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(), cudnn.benchmark,
             cudnn.deterministic, os.environ.get("CUBLAS_WORKSPACE_CONFIG"))
    try:
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        if device.type == "cuda":
            cudnn.benchmark, cudnn.deterministic = not deterministic, deterministic
            if deterministic:
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        cudnn.benchmark, cudnn.deterministic = saved[2], saved[3]
        if saved[4] is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = saved[4]


def reset_peak_memory(device: torch.device) -> None:
    """Start counting a trial's peak memory (CUDA; nothing on CPU)."""
    if device.type == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_metrics(device: torch.device) -> dict[str, Scalar]:
    """``peak_memory_mb`` (the most torch's allocator held in tensors since
    :func:`reset_peak_memory`, the trial's data set included) and ``peak_reserved_mb`` (the most
    it reserved from the GPU: what the per-process cap limits), in MiB; empty on CPU."""
    if device.type != "cuda":
        return {}
    import torch

    return {"peak_memory_mb": torch.cuda.max_memory_allocated(device) / MIB,
            "peak_reserved_mb": torch.cuda.max_memory_reserved(device) / MIB}


# Errors after which every later CUDA call of the process fails the same way (the context is
# poisoned); CUDA's own texts, as torch reports them ("CUDA error: ...").
FATAL_CUDA = ("device-side assert", "illegal memory access", "an illegal instruction",
              "misaligned address", "unspecified launch failure", "illegal address")


def is_fatal_cuda_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a CUDA error that leaves this process's CUDA context unusable."""
    if not isinstance(exc, RuntimeError) or "torch" not in sys.modules:
        return False
    text = str(exc)
    return "CUDA" in text and any(s in text for s in FATAL_CUDA)
