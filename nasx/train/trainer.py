"""``train_trial``: one TrialJob in, one TrialResult out, never an exception.

Resolves the recipe and the ArchSpec, seeds, picks the device, loads (or reuses) the data, builds
the model and runs :func:`nasx.train.loop.fit`. A NaN/inf loss ends the trial ``diverged``; any
error (user error or a crash inside the model) ends it ``failed`` with a one-line message, except
a CUDA error that poisons the process (a device-side assert, an illegal memory access): that one
is raised as :class:`~nasx.errors.CudaFatalError`, so that Ray replaces the worker and the inline
executor stops the run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nasx.arch.spec import ArchSpec
from nasx.errors import CudaFatalError, DataError, NasxError, TrainError
from nasx.status import TrialStatus
from nasx.train.job import EpochRecord, TrialJob, TrialResult, drive
from nasx.train.recipe import Recipe

if TYPE_CHECKING:
    from collections.abc import Generator

    import torch

    from nasx.data.base import DataCache
    from nasx.train.job import OnEpoch

MAX_MESSAGE = 500


def pick_device(name: str) -> torch.device:
    """``auto`` -> cuda if available else cpu; an unavailable CUDA device is a TrainError."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise TrainError(
            rule="not a device (auto, cpu, cuda, cuda:N)", value=name, key="device"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainError(
                rule=f"CUDA is not available on {socket.gethostname()}", value=name, key="device"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise TrainError(
                rule=f"only {torch.cuda.device_count()} CUDA device(s)", value=name, key="device"
            )
    elif dev.type != "cpu":
        raise TrainError(
            rule="unsupported device type (auto, cpu, cuda, cuda:N)", value=name, key="device"
        )
    return dev


def describe_device(dev: torch.device) -> str:
    """'cpu' or e.g. 'cuda:0 NVIDIA H100 80GB HBM3'."""
    import torch

    if dev.type != "cuda":
        return dev.type
    index = dev.index if dev.index is not None else torch.cuda.current_device()
    return f"cuda:{index} {torch.cuda.get_device_name(index)}"


THREAD_VARS = ("NASX_THREADS", "OMP_NUM_THREADS")  # Ray sets OMP_NUM_THREADS to a trial's CPUs


def thread_count(recipe: Recipe, environ: Mapping[str, str] | None = None,
                 default: int | None = None) -> int:
    """CPU threads of a trial: recipe.threads, $NASX_THREADS, $OMP_NUM_THREADS, else ``default``
    (an executor's; min(4, cores) when None). TrainError naming a variable that is not a
    positive integer. The one thread rule: executors resolve a trial's count with it too."""
    if recipe.threads > 0:
        return recipe.threads
    env = os.environ if environ is None else environ
    for var in THREAD_VARS:
        value = env.get(var)
        if value:
            try:
                n = int(value)
            except ValueError:
                raise TrainError(rule="must be a positive integer", value=value, key=var) from None
            if n < 1:
                raise TrainError(rule="must be a positive integer", value=value, key=var)
            return n
    return max(1, default if default is not None else min(4, os.cpu_count() or 1))


def _build_model(spec: ArchSpec, seed: int) -> torch.nn.Module:
    """The seam to the models layer (tests substitute tiny modules here)."""
    from nasx.models import build_model

    return build_model(spec, init=True, seed=seed)


def _one_line(exc: BaseException) -> str:
    text = (
        " ".join(f"{type(exc).__name__}: {exc}".split())
        if not isinstance(exc, NasxError)
        else str(exc)
    )
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def _weights(model: torch.nn.Module) -> bytes:
    """safetensors bytes of the state dict (CPU, contiguous, unshared copies)."""
    from safetensors.torch import save

    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    return save(state)


def train_trial(
    job: TrialJob, cache: DataCache | None = None, on_epoch: OnEpoch | None = None
) -> TrialResult:
    """Train one trial; ``on_epoch(epoch, record) -> False`` stops it early (status done).

    Raises only :class:`~nasx.errors.CudaFatalError` (see the module docstring).
    """
    return drive(train_steps(job, cache), on_epoch)


def train_steps(job: TrialJob, cache: DataCache | None = None) -> Generator[EpochRecord, bool | None, TrialResult]:
    """:func:`train_trial` one epoch at a time (what an executor that reports epochs drives).

    Yields a copy of each epoch's record as soon as it is trained (and validated when due);
    True sent back stops the training there. Returns the TrialResult. Closing the generator at a
    yield abandons the trial and still restores the thread count and frees the model.
    """
    start = time.perf_counter()
    result = TrialResult(trial_id=job.trial_id, status=TrialStatus.FAILED, host=socket.gethostname())
    model: Any = None
    threads_before: int | None = None
    try:
        import torch

        from nasx.data import load_dataset
        from nasx.train.loop import fit_steps

        recipe, spec = _checked(job)
        device = pick_device(recipe.device)
        result.device = describe_device(device)
        # The thread count is process-wide: set it for this trial, restore it afterwards.
        threads_before = torch.get_num_threads()
        torch.set_num_threads(thread_count(recipe))
        data = load_dataset(recipe, spec.resolution, spec.in_channels, device, cache)
        if spec.num_classes != data.num_classes:
            raise DataError(
                f"the spec has num_classes {spec.num_classes} but data '{data.name}' has "
                f"{data.num_classes} classes",
                key="num_classes",
            )
        # Weights come from the builder's own seeded generator; dropout uses the global one.
        torch.manual_seed(job.seed)
        model = _build_model(spec, job.seed).to(device)
        outcome = yield from fit_steps(model, data, recipe, seed=job.seed, device=device)
        result.status = outcome.status
        result.curves, result.metrics = outcome.curves, outcome.metrics
        result.message = outcome.message
        if outcome.status is TrialStatus.DONE:
            # The selection error is the validation error; the test error stays in the metrics.
            result.error = outcome.metrics.get("val_error")
            if job.return_weights:
                result.weights = _weights(model)
    except Exception as exc:  # noqa: BLE001 - a trial must never take its worker down...
        from nasx.train.cuda_setup import is_fatal_cuda_error, oom_hint

        if is_fatal_cuda_error(exc):  # ...unless its CUDA context is gone: then it must go
            raise CudaFatalError(
                f"trial {job.trial_id}: {_one_line(exc)[:200]}; this process's CUDA context is "
                "unusable (every later CUDA call in it fails)"
            ) from exc

        result.status = TrialStatus.FAILED
        hint = oom_hint(exc)  # a trial that outgrew its share of a shared GPU says so
        result.message = _one_line(exc) if hint is None else (
            hint + "; " + _one_line(exc))[:MAX_MESSAGE]
    finally:
        del model
        _release(threads_before)
    result.seconds = time.perf_counter() - start
    return result


def _checked(job: TrialJob) -> tuple[Recipe, ArchSpec]:
    """The job's recipe (validated) and spec; a job is typed, but a custom caller may build one
    by hand: TrainError for what arrived otherwise."""
    recipe, spec = job.recipe, job.spec
    if not isinstance(recipe, Recipe):
        raise TrainError(f"not a Recipe ({type(recipe).__name__})", key="recipe")
    if not isinstance(spec, ArchSpec):
        raise TrainError(f"not an ArchSpec ({type(spec).__name__})", key="spec")
    recipe.validate("recipe")
    return recipe, spec


def _release(threads_before: int | None) -> None:
    """Restore the thread count; return cached CUDA blocks so the next trial starts clean."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        return
    if threads_before is not None:
        torch.set_num_threads(threads_before)
    if torch.cuda.is_available():
        with contextlib.suppress(RuntimeError):  # a poisoned CUDA context fails this call too
            torch.cuda.empty_cache()


# Executors that report epochs (and can prune) drive a trial function's ``steps`` when it has one.
train_trial.steps = train_steps  # type: ignore[attr-defined]
