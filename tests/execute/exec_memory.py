"""A real trial function that also reports its worker's private memory (Ray workers import it).

Private memory is Private_Clean + Private_Dirty of /proc/self/smaps_rollup: what this process
holds alone (shared page-cache pages of a memory-mapped store are not in it).
"""

from __future__ import annotations

import threading
from pathlib import Path

from nasx.train.job import TrialJob, TrialResult
from nasx.train.trainer import train_trial


def private_mb() -> float:
    """Private_Clean + Private_Dirty of this process, in MB."""
    total = 0
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total / 1024.0


def memory_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """train_trial, with the peak private memory sampled every 20 ms in metrics."""
    peak = [private_mb()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], private_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        result = train_trial(job, cache)  # type: ignore[arg-type]
    finally:
        stop.set()
        thread.join()
    peak[0] = max(peak[0], private_mb())
    result.metrics["private_peak_mb"] = peak[0]
    return result


def placed_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """train_trial on a node whose cache must already hold the store (placed, not prepared).

    Records the node's cache folder and the store header's inode before and after training:
    equal inodes mean the worker used the placed copy as it was.
    """
    import os

    from nasx.data.lookup import recipe_spec, store_folder

    spec = recipe_spec(job.recipe, job.spec.resolution, job.spec.in_channels)
    header = store_folder(spec) / "header.json"
    before = header.stat().st_ino if header.exists() else -1
    result = train_trial(job, cache)  # type: ignore[arg-type]
    result.metrics.update(node_cache=os.environ.get("NASX_CACHE", ""), inode_before=before,
                          inode_after=header.stat().st_ino if header.exists() else -2)
    return result


def slow_placed_trial(job: TrialJob, cache: object = None) -> TrialResult:
    """placed_trial after a 3 s pause, marking its start (in marks/ beside the data folder)."""
    import os
    import time

    marks = Path(str(job.recipe.data_dir)).parent / "marks"
    if marks.is_dir():
        Path(marks, f"{job.trial_id}-{os.getpid()}").write_text(os.environ.get("NASX_CACHE", ""))
    time.sleep(3)
    return placed_trial(job, cache)
