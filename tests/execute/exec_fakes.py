"""Trial functions for executor tests: importable by module path (Ray workers import them).

They use the recipe's ``data_dir`` as a scratch folder (the driver passes it as an override) for
their side-effect log and marker files, and ``lr`` as a sleep time in seconds.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from nasx.train.job import TrialJob, TrialResult


def _log(job: TrialJob, event: str) -> None:
    folder = Path(job.recipe.data_dir)
    with open(folder / "events.log", "a") as fh:  # O_APPEND: whole lines even from 2 processes
        fh.write(f"{event} {job.trial_id} {os.getpid()}\n")


def ok_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """Sleeps ``lr`` seconds; error = (id * 7) % 10 + 1; tiny fake weights."""
    _log(job, "start")
    time.sleep(float(job.recipe.lr))
    _log(job, "end")
    return TrialResult(trial_id=job.trial_id, status="done", error=float((job.trial_id * 7) % 10 + 1),
                       metrics={"cache_id": id(cache), "pid": os.getpid()},
                       curves=[{"epoch": 1}], device="cpu", host="fake", seconds=0.0,
                       weights=f"weights of {job.trial_id}".encode())


def kill_once_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """Even trials SIGKILL their own worker on their first attempt (a marker file remembers)."""
    marker = Path(job.recipe.data_dir) / f"killed_{job.trial_id}"
    if job.trial_id % 2 == 0 and not marker.exists():
        marker.write_text("x")
        _log(job, "kill")
        os.kill(os.getpid(), signal.SIGKILL)
    return ok_trial(job, cache)


def status_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """id % 3: 0 -> done, 1 -> diverged, 2 -> failed (as the trainer reports them)."""
    status = ("done", "diverged", "failed")[job.trial_id % 3]
    _log(job, "end")
    return TrialResult(trial_id=job.trial_id, status=status,
                       error=1.0 if status == "done" else None,
                       message=None if status == "done" else status)


def raising_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """Always raises (a broken custom trial function)."""
    _log(job, "raise")
    raise RuntimeError("boom")


def _curve_steps(job: TrialJob, cache: object = None):  # noqa: ANN202 - a generator
    """Epoch by epoch, ``lr`` seconds each: val_error = 10 * (id % 5) + 40 / epoch."""
    curves = []
    for epoch in range(1, job.recipe.epochs + 1):
        time.sleep(float(job.recipe.lr))
        record = {"epoch": epoch, "train_loss": 1.0, "train_error": 50.0, "val_loss": 1.0,
                  "val_error": 10.0 * (job.trial_id % 5) + 40.0 / epoch, "test_loss": None,
                  "test_error": None, "lr": 0.1, "seconds": float(job.recipe.lr)}
        curves.append(record)
        stop = yield dict(record)
        if stop:
            break
    return TrialResult(trial_id=job.trial_id, status="done", error=curves[-1]["val_error"],
                       metrics={"epochs": len(curves)}, curves=curves, device="cpu",
                       host="fake", seconds=0.0)


def curve_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """:func:`_curve_steps` in one go (executors that report epochs drive ``steps``)."""
    from nasx.train.job import drive

    return drive(_curve_steps(job, cache))


curve_trial.steps = _curve_steps  # type: ignore[attr-defined]


def cuda_fatal_once_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """Trial 2 raises CudaFatalError on its first attempt (as the trainer does after a
    device-side assert); every other attempt is ``ok_trial``."""
    from nasx.errors import CudaFatalError

    marker = Path(job.recipe.data_dir) / f"fatal_{job.trial_id}"
    if job.trial_id == 2 and not marker.exists():
        marker.write_text("x")
        _log(job, "fatal")
        raise CudaFatalError(f"trial {job.trial_id}: AcceleratorError: CUDA error: device-side "
                             "assert triggered; this process's CUDA context is unusable")
    return ok_trial(job, cache)
