"""``train_run``: train every unfinished trial of a run with the chosen executor, resumably."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from nasx.errors import StoreError
from nasx.execute.executors import Batch, run_batch
from nasx.execute.options import ExecOptions
from nasx.execute.plan import (
    build_jobs,
    choose_recipe,
    record_population,
    reopen_failed,
    select_trials,
)
from nasx.execute.progress import ProgressView
from nasx.execute.pruning import EpochPruner, check_prunable
from nasx.execute.recorder import Recorder
from nasx.execute.weights import WeightKeeper
from nasx.execute.worker import TrialFn, fn_path
from nasx.store import RunStore
from nasx.train.job import TrialJob

RunCounts = dict[str, int]
LOCK_NAME = "driver.lock"


@contextmanager
def driver_lock(store: RunStore) -> Iterator[None]:
    """One driver per run: requeueing `running` trials is only safe when no other driver lives.

    flock is released by the kernel when the holder dies, even by SIGKILL.
    """
    path = store.root / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # a folder or an unwritable file where the lock should be
        raise StoreError(f"cannot open the driver lock ({exc.strerror})", where=str(path)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError("another nasx driver is training this run",
                             where=str(store.root)) from None
        yield
    finally:
        os.close(fd)


def best_done(store: RunStore) -> tuple[float, int] | None:
    """(error, id) of the best finished trial of any origin and recipe, if any."""
    done = store.finished(origins=None, any_recipe=True, stopped_early=True).trials
    scored = [(t.error, t.id) for t in done if t.error is not None]
    return min(scored) if scored else None


def _prepare_data(jobs: Iterable[TrialJob]) -> None:
    """Prepare every data store the jobs read, once, before any worker starts (nasx.data)."""
    from nasx.data.lookup import prepare_all

    prepare_all((j.recipe, j.spec.resolution, j.spec.in_channels) for j in jobs)


def train_run(store: RunStore, opts: ExecOptions, trial_ids: Iterable[int] | None = None,
              trial_fn: TrialFn | str | None = None, *, locked: bool = False,
              pruner: EpochPruner | None = None) -> RunCounts:
    """Train the run's unfinished trials (or only ``trial_ids``); returns the store's counts.

    Resumes: trials left ``running`` by a dead driver are queued again; ``done``, ``diverged``
    (and ``failed`` unless ``opts.retry_failed``) trials are never trained again. Only this
    process writes the store, one transaction per event, as each trial finishes.

    Recipe: the population's (recorded by the first call) unless ``opts.overrides`` change it on
    purpose (see :func:`~nasx.execute.plan.choose_recipe`; the CLI prints what differs).
    ``locked``: the caller (refine) already holds :func:`driver_lock` for the whole call.
    ``pruner``: asked after every validated epoch (both executors); the trials it stops end
    ``pruned``. Sampled-population trials are pruned only with ``opts.force_prune``.
    """
    path = fn_path(trial_fn)
    with contextlib.nullcontext() if locked else driver_lock(store):
        choice = choose_recipe(store, opts.overrides)  # validated before anything changes
        keeper = WeightKeeper(store, opts.keep_weights)  # a bad weights folder fails here too
        store.requeue_stale()
        trials = select_trials(store, trial_ids, opts.retry_failed)
        if pruner is not None:
            check_prunable(trials, opts.force_prune)
        reopen_failed(store, trials)
        jobs = build_jobs(store, trials, choice.overrides,
                          return_weights=opts.keep_weights > 0)
        if jobs:
            record_population(store, choice)
            if choice.note() and not locked:  # refine (locked) says it once per call itself
                print(f"nasx: note: {choice.note()}", file=sys.stderr)
        _prepare_data(jobs.values())  # before the live display: preparing prints its own
        with ProgressView(len(jobs), store.counts(), best_done(store), opts.progress) as view:
            rec = Recorder(store, keeper, view, pruner)
            rec.recipes = {tid: job.recipe for tid, job in jobs.items()}
            if jobs:
                fn = trial_fn if callable(trial_fn) else None
                run_batch(Batch(store, jobs, rec, path, fn, opts))
        return store.counts()
