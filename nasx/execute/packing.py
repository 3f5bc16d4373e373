"""GPU packing: how much of a GPU each Ray trial asks for (``--gpus-per-trial``).

Ray's GPU fractions are logical: ``gpu: 0.25`` lets Ray start four trials on one GPU and sets
``CUDA_VISIBLE_DEVICES`` for each, nothing more. Whether four trials fit is decided here, from an
estimate of the largest trial's peak memory; each worker then caps its own CUDA allocator at its
share (``nasx.train.cuda_setup.setup_cuda``), so a trial that outgrows it fails alone.

* A value the user gave (:func:`explicit_packing`): 0 (no GPU), a fraction in (0, 1], or a whole
  number of GPUs; a fraction above 1 is refused (Ray refuses it too, later and less clearly).
* No value (:func:`auto_packing`, :func:`choose_packing`): ``1/k`` with ``k`` trials per GPU, the
  most that fit ``safety * (training peak) + data set + CUDA context`` each, capped at
  ``MAX_PER_GPU``.

Torch is imported only inside the functions that count memory or ask CUDA (never at import).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nasx.errors import TrainError

# Per process, outside torch's allocator (so outside its cap): the CUDA context, cuBLAS/cuDNN
# handles and their default workspaces; ~300-600 MiB on recent GPUs. Torch-free module.
from nasx.train.cuda_setup import CONTEXT_BYTES, GPU_SLACK
from nasx.train.loop import EVAL_BATCH  # the largest evaluation batch of a trial (torch-free)

if TYPE_CHECKING:
    from nasx.arch.spec import ArchSpec
    from nasx.train.job import TrialJob
    from nasx.train.recipe import Recipe

GIB = 2**30
MIB = 2**20
MAX_PER_GPU = 8  # more small trials per GPU mostly queue on the same SMs and CPU launch threads
# Margin on the counted training peak. The CPU count (nasx.measure.memory.counted_bytes) is what is
# live when the backward pass starts: it omits the backward's transient buffers (the gradient of
# the largest activation, about one more layer output), cuDNN workspaces (cudnn.benchmark may pick
# faster algorithms that need more), the caching allocator's rounding and fragmentation (~10-30%)
# and torch.compile's buffers. It counts activations in float32 where bf16 autocast keeps many in
# bf16, which leaves slack the other way; 1.5x covers the omissions on the model sizes of the
# design spaces here (to be confirmed on a GPU: bench/bench_train.py --packing).
SAFETY = 1.5
# nasx.data.base.check_fits refuses a data set above 3/4 of the free GPU memory when it loads:
# a worker's data set must pass that check within its share too.
DATA_SHARE = 0.75
COUNT_BATCH = 2  # images of the one counted step (2: batch norm needs > 1 value per channel)
FLOAT_BYTES = 4  # data sets sit on the device as float32 images and int64 labels
LABEL_BYTES = 8


@dataclass(frozen=True)
class Packing:
    """The GPU share of a trial: the Tune resource, trials per GPU, the estimate, and why."""

    gpus_per_trial: float  # what Tune is asked for (0: no GPU)
    trials_per_gpu: int  # 0 when a trial gets no GPU; 1 for one or more whole GPUs
    trial_bytes: int | None  # estimated GPU memory of the largest trial (None: not estimated)
    reason: str  # one line for the user

    @property
    def memory_share(self) -> float | None:
        """Fraction of one GPU's memory a trial may use (None: no cap, whole GPUs or none)."""
        return self.gpus_per_trial if 0 < self.gpus_per_trial < 1 else None


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def _refuse(value: object, rule: str) -> TrainError:
    return TrainError(rule=rule, value=value, where="command line", key="gpus_per_trial")


def explicit_packing(value: float) -> Packing:
    """The packing of a ``--gpus-per-trial`` the user gave; TrainError when Ray could not use it.

    0 trains on CPU; ``f`` in (0, 1] packs ``floor(1/f)`` trials per GPU (Ray's rule: a trial
    never spans GPUs), each capped at ``f`` of the GPU's memory; a whole number ``n >= 1``
    reserves ``n`` GPUs per trial, of which nasx uses one (a trial trains on one device).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(value, "must be a number of GPUs")
    if not math.isfinite(value) or value < 0:
        raise _refuse(value, "must be 0, a fraction in (0, 1] or a whole number of GPUs")
    if value == 0:
        return Packing(0.0, 0, None, "no GPU per trial (--gpus-per-trial 0): trials train on CPU")
    if value > 1:
        if not float(value).is_integer():
            raise _refuse(value, "must be a fraction in (0, 1] or a whole number of GPUs (Ray "
                                 "cannot split a trial across a fraction of a second GPU)")
        n = int(value)
        return Packing(float(n), 1, None,
                       f"{n} GPUs reserved per trial; each trial trains on one of them "
                       f"(nasx trains a trial on one device), the others stay idle")
    k = math.floor(1 / value + 1e-9)  # Ray packs while the shares sum to <= 1
    left = 1 - k * value
    unused = f" ({left:.2f} of each GPU stays unused)" if left > 1e-6 else ""
    if k == 1:
        return Packing(float(value), 1, None, f"one trial per GPU (--gpus-per-trial {value:g})"
                                              f"{unused}")
    return Packing(float(value), k, None,
                   f"packing {k} trials per GPU (--gpus-per-trial {value:g}), each capped at "
                   f"{value:.0%} of the GPU's memory{unused}")


def auto_packing(trial_bytes: int, gpu_bytes: int, *, safety: float = SAFETY,
                 context_bytes: int = CONTEXT_BYTES, data_bytes: int = 0,
                 max_per_gpu: int = MAX_PER_GPU) -> Packing:
    """``1/k``: ``k`` the largest power of two of trials (at most ``max_per_gpu``) that fit in
    the GPU less ``GPU_SLACK`` of it.

    A trial needs ``max(safety * trial_bytes + data_bytes, data_bytes / DATA_SHARE) +
    context_bytes``: its counted training peak with the margin and its data set (on the GPU in
    every worker, which loads only into DATA_SHARE of the memory it finds free), and the CUDA
    context (outside torch's allocator).
    """
    if gpu_bytes <= 0 or trial_bytes < 0 or data_bytes < 0 or safety < 1 or max_per_gpu < 1:
        raise ValueError(f"bad packing inputs: trial {trial_bytes}, gpu {gpu_bytes}, data "
                         f"{data_bytes}, safety {safety}, max {max_per_gpu}")
    model = int(safety * trial_bytes)
    need = max(model + data_bytes, math.ceil(data_bytes / DATA_SHARE)) + context_bytes
    fit = int(gpu_bytes * (1 - GPU_SLACK)) // need  # GPU_SLACK of the GPU stays free
    # A power of two: 1/k is then exact in binary and in Ray's 4-decimal fixed point, so k
    # shares add up to exactly 1 (1/7 rounded up would let only 6 trials onto a GPU).
    k = 1 << (max(1, min(max_per_gpu, fit)).bit_length() - 1)
    data = f", data {_gib(data_bytes)}" if data_bytes else ""
    if model + data_bytes < math.ceil(data_bytes / DATA_SHARE):
        data += f" loaded within {DATA_SHARE:.0%} of free memory"
    what = (f"largest trial needs ~{_gib(need)} of {_gib(gpu_bytes)} (model {_gib(trial_bytes)}"
            f" x {safety:g} margin{data}, CUDA context {_gib(context_bytes)})")
    if fit < 1:
        reason = f"one trial per GPU, which may run out of memory: {what}"
    elif k == 1:
        reason = f"one trial per GPU: {what}"
    else:
        capped = f" (the most allowed; {fit} would fit)" if fit > max_per_gpu else ""
        reason = f"packing {k} trials per GPU{capped}: {what}"
    return Packing(1.0 / k, k, need, reason)


def dataset_bytes(recipe: Recipe, resolution: int, in_channels: int) -> int | None:
    """Device bytes of the recipe's whole data set (float32 images, int64 labels); None: unknown.

    The image count is the data set's entry's (:mod:`nasx.data.sets`: a number, a rule of the
    recipe, or None for sets counted only when read). A ``train_fraction`` below 1 adds the
    trial's subset copy of the training images.
    """
    from nasx.data.sets import find

    entry = find(recipe.data)
    n = entry.image_count(recipe) if entry is not None else None
    if n is None:
        return None
    per_image = in_channels * resolution * resolution * FLOAT_BYTES + LABEL_BYTES
    total = n * per_image
    if recipe.train_fraction < 1:
        total += int(n * recipe.train_fraction) * per_image
    return total


def _optimizer_slots(recipe: Recipe) -> int:
    """State tensors per parameter: AdamW keeps two moments, SGD one momentum buffer (or none)."""
    if recipe.optimizer == "adamw":
        return 2
    return 1 if recipe.momentum > 0 else 0


def rough_bytes(spec: ArchSpec, batch_size: int, slots: int = 1) -> int:
    """Analytic float32 training memory: params, grads, optimizer state, ~2 saved tensors per
    conv output (its BN and activation inputs). Only for ranking specs: cheap, torch-free."""
    from nasx.arch.complexity import complexity

    c = complexity(spec)
    return FLOAT_BYTES * ((2 + slots) * c.params + 2 * c.acts * batch_size)


def estimate_train_bytes(spec: ArchSpec, batch_size: int, *, optimizer_slots: int = 1,
                         eval_batch: int = EVAL_BATCH) -> int:
    """Peak bytes of a trial of ``spec`` at ``batch_size``, counted on CPU from one small step.

    ``nasx.measure.memory.counted_bytes`` at ``COUNT_BATCH`` images splits the step into a part
    that does not depend on the batch (params, grads, optimizer state) and one that grows with it
    (input, saved activations): the latter is scaled linearly to ``batch_size``. Evaluation runs
    at ``eval_batch`` images (nasx.train.loop: up to 1024) while the fixed part stays allocated:
    its input and the activations live at once (``eval_bytes_per_image``) count too, and the
    larger of the two phases is the peak. Float32 counts, without the margin of ``SAFETY``
    (applied by :func:`auto_packing`).
    """
    import torch

    from nasx.measure.latency import torch_threads
    from nasx.measure.memory import MOMENTUM_SLOTS, counted_bytes, eval_bytes_per_image
    from nasx.models import build_model

    model = build_model(spec, init=True, seed=0).train()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(COUNT_BATCH, spec.in_channels, spec.resolution, spec.resolution,
                    generator=gen)
    y = torch.randint(0, spec.num_classes, (COUNT_BATCH,), generator=gen)
    with torch_threads(1):
        parts = counted_bytes(model, x, y)
        per_eval = x[0].numel() * FLOAT_BYTES + eval_bytes_per_image(model, x)
    per_image = (parts["input"] + parts["activations"]) / COUNT_BATCH
    fixed = parts["params"] + parts["grads"] + parts["optimizer"] // MOMENTUM_SLOTS * optimizer_slots
    return int(fixed + max(per_image * batch_size, per_eval * eval_batch))


def largest_job(jobs: Iterable[TrialJob]) -> TrialJob:
    """The job of the largest training memory by :func:`rough_bytes` (ties: the first)."""
    best: TrialJob | None = None
    best_bytes = -1
    for job in jobs:
        n = rough_bytes(job.spec, job.recipe.batch_size, _optimizer_slots(job.recipe))
        if n > best_bytes:
            best, best_bytes = job, n
    if best is None:
        raise ValueError("no jobs to pack")
    return best


def local_gpu_bytes(index: int = 0) -> int | None:
    """Total memory of this machine's CUDA device ``index``; None without it."""
    import torch

    if not torch.cuda.is_available() or index >= torch.cuda.device_count():
        return None
    return int(torch.cuda.get_device_properties(index).total_memory)


def choose_packing(value: float | None, jobs: Iterable[TrialJob], *, cluster_gpus: float,
                   gpu_bytes: int | None, max_per_gpu: int = MAX_PER_GPU) -> Packing:
    """The GPU share of the trials of one Ray experiment.

    ``value``: the user's ``--gpus-per-trial`` (None: choose). ``cluster_gpus``: Ray's GPU count.
    ``gpu_bytes``: memory of one GPU (None: unknown, e.g. a cluster whose GPUs the driver cannot
    see; then one trial per GPU). Counts one model (the largest) on CPU: well under a second for
    the CIFAR-sized spaces, a few seconds for ImageNet-sized ones.
    """
    if value is not None:
        return explicit_packing(value)
    if cluster_gpus < 1:
        return Packing(0.0, 0, None, "the Ray cluster has no GPU: trials train on CPU")
    if gpu_bytes is None:
        return Packing(1.0, 1, None, "one trial per GPU: the GPUs' memory is unknown here "
                                     "(pass --gpus-per-trial 1/k to pack k trials per GPU)")
    jobs = list(jobs)
    job = largest_job(jobs)
    peak = estimate_train_bytes(job.spec, job.recipe.batch_size,
                                optimizer_slots=_optimizer_slots(job.recipe))
    data = [dataset_bytes(j.recipe, j.spec.resolution, j.spec.in_channels) for j in jobs]
    known = [d for d in data if d is not None]
    packing = auto_packing(peak, gpu_bytes, data_bytes=max(known, default=0),
                           max_per_gpu=max_per_gpu)
    if len(known) < len(data):
        packing = Packing(packing.gpus_per_trial, packing.trials_per_gpu, packing.trial_bytes,
                          packing.reason + "; the data set's size is unknown and not counted")
    return packing
