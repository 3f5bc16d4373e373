"""GPU packing without a GPU: the share rule, the counted memory estimate, the CPU no-op setup."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import pytest

from nasx.arch import zoo
from nasx.arch.spec import ArchSpec
from nasx.errors import TrainError
from nasx.execute.packing import (
    COUNT_BATCH,
    DATA_SHARE,
    EVAL_BATCH,
    GIB,
    MAX_PER_GPU,
    MIB,
    SAFETY,
    Packing,
    auto_packing,
    choose_packing,
    dataset_bytes,
    estimate_train_bytes,
    explicit_packing,
    largest_job,
)
from nasx.train import cuda_setup
from nasx.train.cuda_setup import (
    CONTEXT_BYTES,
    GPU_SLACK,
    allocator_fraction,
    oom_hint,
    setup_cuda,
)
from nasx.train.job import TrialJob
from nasx.train.recipe import Recipe


def spec(width: int = 8, resolution: int = 16) -> ArchSpec:
    """RegNetX-200MF cut to one stage of depth 1 and ``width`` channels at ``resolution``."""
    big = zoo.get("RegNetX-200MF")
    stage = dataclasses.replace(big.stages[0], depth=1, width=width, groups=8)
    return dataclasses.replace(big, resolution=resolution, stages=(stage,),
                               stem=dataclasses.replace(big.stem, width=8))


def job(i: int, s: ArchSpec, **recipe: object) -> TrialJob:
    return TrialJob(i, s, Recipe(**recipe), seed=i)  # type: ignore[arg-type]


# --- the share chosen when the user gave none ------------------------------------------------

@pytest.mark.parametrize(("trial_bytes", "gpu_bytes", "data_bytes", "per_gpu"), [
    (16 * MIB, 80 * GIB, 0, 8),  # tiny model on 80 GiB: capped at MAX_PER_GPU
    (100 * GIB, 80 * GIB, 0, 1),  # larger than the GPU: one per GPU (and a warning)
    (30 * GIB, 80 * GIB, 0, 1),  # 45.5 GiB with the margin: only one fits
    (10 * GIB, 80 * GIB, 0, 4),  # 15.5 GiB each: 5 fit, the power of two below is 4
    (2 * GIB, 16 * GIB, 0, 4),  # 3.5 GiB each: 4 fit exactly
    (2 * GIB, 16 * GIB, 1 * GIB, 2),  # the data set in every worker: 4.5 GiB each, 3 fit -> 2
    (0, 24 * GIB, 0, 8),  # nothing but the CUDA context: 48 would fit, capped
    (4 * GIB, 80 * GIB, 34 * GIB, 1),  # 224 px data in every worker: it loads into 3/4 of free
])
def test_auto_share_is_one_over_a_power_of_two_that_fits(
        trial_bytes: int, gpu_bytes: int, data_bytes: int, per_gpu: int) -> None:
    p = auto_packing(trial_bytes, gpu_bytes, data_bytes=data_bytes)
    assert p.trials_per_gpu == per_gpu and p.gpus_per_trial == 1 / per_gpu
    need = max(int(SAFETY * trial_bytes) + data_bytes, math.ceil(data_bytes / DATA_SHARE))
    assert p.trial_bytes == need + CONTEXT_BYTES
    assert per_gpu == 1 or per_gpu * p.trial_bytes <= gpu_bytes  # packed trials fit together
    assert "\n" not in p.reason and p.reason.startswith(
        "packing" if per_gpu > 1 else "one trial per GPU")


def test_auto_reason_is_pinned() -> None:
    assert auto_packing(int(0.4 * GIB), 80 * GIB).reason == (
        "packing 8 trials per GPU (the most allowed; 70 would fit): largest trial needs ~1.1 GiB"
        " of 80.0 GiB (model 0.4 GiB x 1.5 margin, CUDA context 0.5 GiB)")
    assert auto_packing(100 * GIB, 80 * GIB).reason.startswith(
        "one trial per GPU, which may run out of memory: largest trial needs ~150.5 GiB")
    assert auto_packing(4 * GIB, 80 * GIB, data_bytes=34 * GIB).reason == (
        "one trial per GPU: largest trial needs ~45.8 GiB of 80.0 GiB (model 4.0 GiB x 1.5 margin,"
        " data 34.0 GiB loaded within 75% of free memory, CUDA context 0.5 GiB)")


@pytest.mark.parametrize("max_per_gpu", [1, 2, 6, 16])
def test_auto_cap(max_per_gpu: int) -> None:
    p = auto_packing(MIB, 80 * GIB, max_per_gpu=max_per_gpu)
    assert p.trials_per_gpu == 1 << (max_per_gpu.bit_length() - 1)  # 6 -> 4


# --- a share the user gave ---------------------------------------------------------------------

@pytest.mark.parametrize(("value", "gpus", "per_gpu", "cap", "words"), [
    (0, 0.0, 0, None, "trials train on CPU"),
    (0.125, 0.125, 8, 0.125, "packing 8 trials per GPU"),
    (0.25, 0.25, 4, 0.25, "packing 4 trials per GPU (--gpus-per-trial 0.25), each capped at 25%"),
    (0.3, 0.3, 3, 0.3, "(0.10 of each GPU stays unused)"),
    (1 / 3, 1 / 3, 3, 1 / 3, "packing 3 trials per GPU"),
    (0.6, 0.6, 1, 0.6, "one trial per GPU (--gpus-per-trial 0.6) (0.40 of each GPU"),
    (1, 1.0, 1, None, "one trial per GPU (--gpus-per-trial 1)"),
    (2.0, 2.0, 1, None, "2 GPUs reserved per trial; each trial trains on one of them"),
])
def test_explicit_share(value: float, gpus: float, per_gpu: int, cap: float | None,
                        words: str) -> None:
    p = explicit_packing(value)
    assert (p.gpus_per_trial, p.trials_per_gpu, p.memory_share) == (gpus, per_gpu, cap)
    assert words in p.reason and "\n" not in p.reason


@pytest.mark.parametrize(("value", "rule"), [
    (1.5, "must be a fraction in (0, 1] or a whole number of GPUs"),
    (2.25, "must be a fraction in (0, 1] or a whole number of GPUs"),
    (-0.5, "must be 0, a fraction in (0, 1] or a whole number of GPUs"),
    (math.nan, "must be 0, a fraction in (0, 1] or a whole number of GPUs"),
    (math.inf, "must be 0, a fraction in (0, 1] or a whole number of GPUs"),
    (True, "must be a number of GPUs"),
    ("0.5", "must be a number of GPUs"),
])
def test_invalid_share_is_a_one_line_train_error(value: object, rule: str) -> None:
    with pytest.raises(TrainError) as err:
        explicit_packing(value)  # type: ignore[arg-type]
    text = str(err.value)
    assert err.value.key == "gpus_per_trial" and "\n" not in text
    assert text.startswith("command line: key 'gpus_per_trial': ") and rule in text
    assert f"got {value!r}" in text


def test_choose_packing_by_case() -> None:
    jobs = [job(1, spec(8)), job(2, spec(64))]
    given = choose_packing(0.5, jobs, cluster_gpus=4, gpu_bytes=80 * GIB)
    assert given == explicit_packing(0.5)
    assert choose_packing(None, jobs, cluster_gpus=0, gpu_bytes=None).gpus_per_trial == 0.0
    unknown = choose_packing(None, jobs, cluster_gpus=2, gpu_bytes=None)
    assert (unknown.gpus_per_trial, unknown.trial_bytes) == (1.0, None)
    assert "--gpus-per-trial 1/k" in unknown.reason
    small = choose_packing(None, jobs, cluster_gpus=1, gpu_bytes=80 * GIB)
    assert (small.gpus_per_trial, small.trials_per_gpu) == (1 / MAX_PER_GPU, MAX_PER_GPU)
    peak = estimate_train_bytes(spec(64), 128)  # the wider model is the one counted
    data = dataset_bytes(Recipe(), 16, 3)
    assert small.trial_bytes == int(SAFETY * peak) + data + CONTEXT_BYTES
    tight = choose_packing(None, jobs, cluster_gpus=1, gpu_bytes=small.trial_bytes * 3)
    assert tight.trials_per_gpu == 2
    folder = [job(1, spec(8), data="imagefolder", data_dir="/nowhere")]
    assert choose_packing(None, folder, cluster_gpus=1, gpu_bytes=80 * GIB).reason.endswith(
        "; the data set's size is unknown and not counted")


# --- the memory estimate -----------------------------------------------------------------------

def test_estimate_grows_with_batch_and_width() -> None:
    # eval_batch=0: the training step alone (evaluation is tested below)
    by_batch = [estimate_train_bytes(spec(16), b, eval_batch=0) for b in (2, 16, 128)]
    by_width = [estimate_train_bytes(spec(w), 32, eval_batch=0) for w in (8, 32, 128)]
    assert by_batch == sorted(set(by_batch)) and by_width == sorted(set(by_width))
    # linear in the batch: the step from 2 to 16 images is 14 per-image parts, 16 -> 128 is 112
    assert (by_batch[2] - by_batch[1]) == pytest.approx(8 * (by_batch[1] - by_batch[0]), rel=1e-6)
    # counted, deterministic
    assert estimate_train_bytes(spec(16), COUNT_BATCH, eval_batch=0) == 291828


def test_estimate_counts_evaluation_at_its_batch() -> None:
    """A trial evaluates at up to EVAL_BATCH (1024) images while its parameters, gradients and
    optimizer state stay allocated: at a small training batch that is the trial's peak."""
    s = spec(16)
    train_only = estimate_train_bytes(s, 8, eval_batch=0)
    with_eval = estimate_train_bytes(s, 8)  # the default: evaluation at EVAL_BATCH
    fixed = estimate_train_bytes(s, 0, eval_batch=0)  # params, grads, momentum
    input_bytes = s.in_channels * s.resolution ** 2 * 4
    # at least the 1024 float32 input images, plus one layer's output per image
    assert with_eval >= fixed + EVAL_BATCH * (input_bytes + 8 * (s.resolution // 2) ** 2 * 4)
    assert with_eval > 10 * train_only
    # at a large training batch the training step is the peak again
    assert estimate_train_bytes(s, 4096) == estimate_train_bytes(s, 4096, eval_batch=0)


def test_estimate_matches_a_direct_count_and_the_optimizer() -> None:
    import torch

    from nasx.measure.memory import counted_bytes
    from nasx.models import build_model

    s = spec(32, resolution=24)
    model = build_model(s, init=True, seed=0).train()
    x = torch.randn(16, s.in_channels, s.resolution, s.resolution)
    direct = sum(counted_bytes(model, x, torch.zeros(16, dtype=torch.long)).values())
    # Scaled from 2 images: exact but for batch norm's per-channel saved statistics.
    assert estimate_train_bytes(s, 16, eval_batch=0) == pytest.approx(direct, rel=0.01)
    params = sum(p.numel() * 4 for p in model.parameters())
    sgd, adamw = (estimate_train_bytes(s, 16, optimizer_slots=n) for n in (1, 2))
    assert adamw - sgd == params  # one more state tensor per parameter


def test_largest_job_and_dataset_bytes() -> None:
    jobs = [job(1, spec(8)), job(2, spec(128)), job(3, spec(16))]
    assert largest_job(jobs).trial_id == 2
    assert largest_job([job(1, spec(8)), job(2, spec(8), batch_size=1024)]).trial_id == 2
    assert dataset_bytes(Recipe(data="digits"), 8, 1) == 1797 * (64 * 4 + 8)
    synth = Recipe(data="synthetic", synthetic_train=1000, synthetic_test=200)
    assert dataset_bytes(synth, 32, 3) == 1200 * (3 * 32 * 32 * 4 + 8)
    half = dataclasses.replace(synth, train_fraction=0.5)
    assert dataset_bytes(half, 32, 3) == 1800 * (3 * 32 * 32 * 4 + 8)
    assert dataset_bytes(Recipe(data="imagefolder"), 32, 3) is None


def test_packing_imports_no_torch() -> None:
    code = ("import sys, nasx.execute.packing, nasx.train.cuda_setup; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- the worker's CUDA setup -------------------------------------------------------------------

@pytest.mark.parametrize("device", ["cpu", "auto", "cuda", "cuda:3", "not-a-device"])
@pytest.mark.parametrize("share", [None, 0.25, 1.0])
def test_cuda_setup_is_a_noop_without_cuda(device: str, share: float | None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    if torch.cuda.is_available() and device != "cpu":
        pytest.skip("this machine has CUDA")
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    calls: list[object] = []
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction",
                        lambda *a: calls.append(a))
    done = setup_cuda(device, share)
    assert done == cuda_setup.CudaSetup(device=device, memory_fraction=None, benchmark=False)
    assert torch.backends.cudnn.benchmark is False and calls == []


@pytest.mark.parametrize(("share", "total", "fraction"), [
    (0.25, 80 * GIB, 0.25 * (1 - GPU_SLACK) - 0.5 / 80),
    (0.125, 80 * GIB, 0.125 * (1 - GPU_SLACK) - 0.5 / 80),
    (0.5, 1 * GIB, 0.25),  # the context would eat the share: half of it is kept
])
def test_allocator_fraction_leaves_room_for_each_context(share: float, total: int,
                                                         fraction: float) -> None:
    assert allocator_fraction(share, total) == pytest.approx(fraction)
    k = round(1 / share)
    if fraction > share / 2:  # k capped allocators and k contexts fit in the GPU together
        assert k * (fraction * total + CONTEXT_BYTES) <= total * (1 + 1e-9)


@pytest.mark.parametrize("k", [2, 4, 8])
def test_packed_shares_leave_slack_across_the_gpu(k: int) -> None:
    """k capped allocators and k contexts of the estimated size leave GPU_SLACK of the GPU free:
    a context larger than estimated does not push a neighbour out of memory at once."""
    total = 80 * GIB
    used = k * (allocator_fraction(1 / k, total) * total + CONTEXT_BYTES)
    assert total - used == pytest.approx(GPU_SLACK * total)
    assert GPU_SLACK * total >= 2 * GIB  # room for one context 4x its estimate on 80 GiB
    # the automatic choice counts the same slack: 8 trials of exactly 10 GiB do not fit 80 GiB
    assert auto_packing(int((10 * GIB - CONTEXT_BYTES) / SAFETY), total).trials_per_gpu == 4


def test_oom_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    oom = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    monkeypatch.setattr(cuda_setup, "_CAPS", {})
    assert oom_hint(oom) is None  # not capped here
    monkeypatch.setattr(cuda_setup, "_CAPS", {0: (0.25, allocator_fraction(0.25, 80 * GIB),
                                                  80 * GIB)})
    assert oom_hint(ValueError("x")) is None
    assert oom_hint(oom) == (
        "CUDA out of memory within this trial's share of the GPU (--gpus-per-trial 0.25: its "
        "allocator is capped at 18.9 GiB of 80.0 GiB); pack fewer trials per GPU with a larger "
        "--gpus-per-trial")


def test_packing_is_frozen() -> None:
    p = Packing(0.5, 2, None, "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.gpus_per_trial = 1.0  # type: ignore[misc]
