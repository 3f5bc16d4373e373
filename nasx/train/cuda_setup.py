"""Per-process CUDA settings of a training worker: its memory share and cuDNN autotuning.

Trials packed on one GPU (``--gpus-per-trial 1/k``, see ``nasx.execute.packing``) share its
memory with nothing but Ray's bookkeeping to keep them apart. :func:`setup_cuda` caps this
process's CUDA caching allocator at its share, so a trial that outgrows it gets a CUDA
out-of-memory error of its own (and ends ``failed``) instead of pushing a neighbour out.

It also turns on ``torch.backends.cudnn.benchmark``: cuDNN times its convolution algorithms the
first time it sees an input shape and keeps the fastest. The models of a population differ, so
each trial pays that search again for each of its conv shapes (a fraction of a second to a few
seconds, in its first steps) and the choices cached by earlier trials of a reused worker stay in
memory unused; over the hundreds to thousands of steps of even a short trial, the faster kernels
win that back. Evaluation with another batch size is one more shape. Training is not bitwise
deterministic either way on a GPU.

Everything here is a no-op on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

MIB = 2**20
# The CUDA context and cuBLAS/cuDNN handles live outside torch's allocator (and so outside its
# cap): the allocator's share is the trial's share less this, so k packed trials fit together.
CONTEXT_BYTES = 512 * MIB
MIN_OF_SHARE = 0.5  # the allocator keeps at least half the share, however small the GPU
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


def allocator_fraction(share: float, total_bytes: int, context_bytes: int = CONTEXT_BYTES) -> float:
    """Fraction of the GPU's memory torch's allocator may hold for a trial given ``share`` of it."""
    return max(share - context_bytes / total_bytes, MIN_OF_SHARE * share)


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
