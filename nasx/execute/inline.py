"""The inline executor: trials one after another in the driver process, one DataCache for all."""

from __future__ import annotations

import socket

from nasx.execute.recorder import Recorder
from nasx.execute.worker import INLINE_THREADS, TrialFn, new_cache, run_job
from nasx.train.job import TrialJob


def run_inline(jobs: dict[int, TrialJob], rec: Recorder, fn: TrialFn, max_failures: int) -> None:
    """Train every job sequentially; an exception out of ``fn`` is retried ``max_failures`` times."""
    cache = new_cache()
    host = socket.gethostname()
    for tid, job in jobs.items():
        for attempt in range(max_failures + 1):
            rec.started(tid, device=job.recipe.device, host=host)
            try:
                res = run_job(fn, job, cache, "inline", INLINE_THREADS)
            except Exception as exc:  # the trainer never raises; a custom trial function might
                msg = f"{type(exc).__name__}: {exc}"
                if attempt < max_failures:
                    rec.lost(tid, msg)
                    continue
                rec.crashed(tid, msg)
                break
            rec.result(res)
            break
