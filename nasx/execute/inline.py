"""The inline executor: trials one after another in the driver process, one DataCache for all."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from nasx.errors import CudaFatalError
from nasx.execute.recorder import Recorder
from nasx.execute.worker import INLINE_THREADS, TrialFn, new_cache, run_how, run_steps
from nasx.train.job import TrialJob, step_through

if TYPE_CHECKING:
    from nasx.execute.executors import Batch


def run_inline(jobs: dict[int, TrialJob], rec: Recorder, fn: TrialFn, max_failures: int) -> None:
    """Train every job sequentially; an exception out of ``fn`` is retried ``max_failures`` times.

    A :class:`~nasx.errors.CudaFatalError` (this process's CUDA context is gone) fails its trial
    and stops the run with that one line: every later trial here would fail the same way.
    """
    cache = new_cache()
    host = socket.gethostname()
    for tid, job in jobs.items():
        for attempt in range(max_failures + 1):
            rec.started(tid, device=job.recipe.device, host=host)
            try:
                steps = run_steps(fn, job, cache, "inline", INLINE_THREADS)
                # every epoch is stored as it comes; a pruned trial's steps are closed (None)
                res = step_through(steps, lambda r, t=tid: rec.epoch(t, r), close=True)
            except CudaFatalError as exc:  # this process cannot use CUDA again: stop the run
                rec.crashed(tid, str(exc))
                raise CudaFatalError(f"{exc}; the run stopped (run the same command again to "
                                     "go on in a new process; --retry-failed retrains this "
                                     "trial)") from None
            except Exception as exc:  # the trainer never raises; a custom trial function might
                msg = f"{type(exc).__name__}: {exc}"
                if attempt < max_failures:
                    rec.lost(tid, msg)
                    continue
                rec.crashed(tid, msg)
                break
            if res is None:
                rec.pruned(tid, run_how(job, "inline", INLINE_THREADS))
            else:
                rec.result(res)
            break


def run_batch(batch: Batch) -> None:
    """The registry's runner: :func:`run_inline` over the batch's jobs."""
    run_inline(batch.jobs, batch.rec, batch.trial_fn(), batch.opts.max_failures)
