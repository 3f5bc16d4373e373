"""The Ray Tune executor: one Tune trial per nasx trial, one Tune step per epoch, lean settings.

Why these settings (each one removes per-trial overhead of a default Tune setup):
- a class Trainable with ``reuse_actors=True``: one worker process trains many trials in turn, so
  a trial costs no process start, no re-import of torch, and the DataCache stays warm;
- Tune's CSV/JSON/TensorBoard loggers off, no checkpoints, verbose 0, no log files;
- the trial config is the small TrialJob as JSON text; each epoch's record comes back as a Tune
  result (a scheduler in the driver stores it and may stop the trial: pruning), the last step
  brings the TrialResult.
A Tune Callback runs in the driver and writes the store on each event (start, result, worker lost,
given up), so killing the driver loses only the trials in flight.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray import tune
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from nasx.errors import TrainError
from nasx.execute.options import ExecOptions
from nasx.execute.ray_session import ray_session, scoped_env
from nasx.execute.raylog import one_line_failures
from nasx.execute.recorder import Recorder
from nasx.execute.worker import (
    TrialSteps,
    job_from_json,
    job_to_json,
    new_cache,
    resolve,
    result_from_payload,
    result_to_payload,
    run_how,
    run_steps,
)
from nasx.store import RunStore
from nasx.train.job import TrialJob
from nasx.types import JSONObject

if TYPE_CHECKING:
    from nasx.execute.executors import Batch

RAY_DIR = "ray"  # Tune's scratch folder inside the run (git-ignored with runs/)
EPOCH_KEY, HOW_KEY = "nasx_epoch", "nasx_how"  # an epoch's record; how the trial runs
TUNE_DONE = "done"  # Ray Tune's own result key that ends a trial (not a nasx trial status)
_QUIET_ENV: dict[str, str | None] = {
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",  # no CSV / JSON / TensorBoard files per trial
    "TUNE_GLOBAL_CHECKPOINT_S": "600",  # our store is the state; Tune's own snapshot is not needed
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
    "RAY_AIR_NEW_OUTPUT": "0",
    # Ctrl-C raises KeyboardInterrupt here, as in the inline executor (the CLI then says
    # "interrupted" and exits 130); Tune's own handler would end fit() as if all went well.
    # Trials in flight stay `running` in the store and are queued again on the next train.
    "TUNE_DISABLE_SIGINT_HANDLER": "1",
    # one result per step reaches the driver before the next step runs: a pruned trial stops
    # after the epoch the pruner judged, never some epochs later
    "TUNE_RESULT_BUFFER_LENGTH": "1",
}


class NasxTrainable(tune.Trainable):
    """Runs one TrialJob per Tune trial, one Tune step per epoch; reused across trials.

    Each step trains the next epoch of the trial (its record goes back as the step's result,
    so the driver stores it at once and its scheduler may stop the trial there); the last step
    returns the TrialResult with ``done``. A trial function without ``steps`` runs in one step.
    """

    def setup(self, config: JSONObject) -> None:
        """Called once per worker process (reused trials go through reset_config)."""
        # The cache lives on the actor object: with reuse_actors it survives from trial to trial.
        self._cache: Any = None
        self._steps: TrialSteps | None = None

    def reset_config(self, new_config: JSONObject) -> bool:
        """Accept the next trial's config (Tune has already set self.config)."""
        self._abandon()
        return True

    def cleanup(self) -> None:
        """The actor stops: abandon a trial the scheduler stopped mid-way."""
        self._abandon()

    def _abandon(self) -> None:
        if self._steps is not None:
            self._steps.close()  # restores the thread count, frees the model
            self._steps = None

    def step(self) -> dict[str, object]:
        """Train one more epoch (its record), or finish the trial (done, the weights as bytes).

        A CUDA error that poisons the process (``CudaFatalError``) is not caught: Tune then
        retires this actor (an errored trial's actor is never reused) and retries the trial on a
        fresh one.
        """
        if self._steps is None:
            job = worker_job(self.config)
            fn = resolve(self.config["fn"])
            if self._cache is None:
                self._cache = new_cache()
            self._steps = run_steps(fn, job, self._cache, "ray", self.config["threads"])
            self._how = json.dumps(run_how(job, "ray", self.config["threads"]))
        try:
            record = next(self._steps)
        except StopIteration as end:
            self._steps = None
            res = end.value
            ctx = ray.get_runtime_context()
            res.metrics = {**(res.metrics or {}), "ray_node": ctx.get_node_id(),
                           "pid": os.getpid()}
            payload, weights = result_to_payload(res)
            return {TUNE_DONE: True, "nasx": payload, "nasx_weights": weights}
        # JSON text: Tune flattens nested dicts of results for its scheduler
        return {EPOCH_KEY: json.dumps(record), HOW_KEY: self._how}


def worker_job(config: JSONObject) -> TrialJob:
    """The trial's job as a Ray worker runs it: its device as Ray shows the worker its GPU
    (``cuda:N`` -> ``cuda``), and this process's memory cap set on a shared GPU."""
    from nasx.train.cuda_setup import setup_cuda, worker_device

    job = job_from_json(str(config["job"]))
    share = config.get("gpu_share")
    gpus = float(share) if isinstance(share, (int, float)) else 0.0
    device = worker_device(job.recipe.device, gpus)
    if device != job.recipe.device:
        job = replace(job, recipe=replace(job.recipe, device=device))
    if gpus > 0:
        # this worker's memory cap on a shared GPU: a trial that outgrows it fails alone
        setup_cuda(device, gpus)
    return job


def local_ray_env(jobs: Iterable[TrialJob], address: str | None,
                  environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """What a local Ray must see to run trials on ``cuda:N``: that one GPU (CUDA_VISIBLE_DEVICES).

    Ray shows each worker only the GPU it assigns, as ``cuda:0``; a local Ray started with GPU N
    alone assigns N. Nothing for a cluster (its GPUs are its own), CPU or a plain ``cuda``.
    """
    env = os.environ if environ is None else environ
    devices = {j.recipe.device for j in jobs}
    if address or env.get("RAY_ADDRESS") or len(devices) != 1:
        return {}
    index = gpu_index(devices.pop())
    if index is None:
        return {}
    visible = [v.strip() for v in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    return {"CUDA_VISIBLE_DEVICES": visible[index] if index < len(visible) else str(index)}


def gpu_index(device: str) -> int | None:
    """N of ``cuda:N``; None for any other device."""
    kind, _, index = device.partition(":")
    return int(index) if kind == "cuda" and index.isdigit() else None


class EpochScheduler(FIFOScheduler):
    """Driver-side: stores each epoch result as it arrives and stops a trial the pruner stops.

    The decision is taken here, in the driver, from the Optuna study (through the Recorder), so
    both executors prune the same way; Tune then stops the trial's worker mid-training.
    """

    def __init__(self, rec: Recorder) -> None:
        super().__init__()
        self._rec = rec

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_rec"] = None  # never pickled with its store connection (see StoreCallback)
        return state

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
        """CONTINUE, or STOP when the pruner says so (the trial is then stored ``pruned``)."""
        text = result.get(EPOCH_KEY)
        if not isinstance(text, str):
            return TrialScheduler.CONTINUE
        tid = _tid(trial)
        if self._rec.epoch(tid, json.loads(text)):
            self._rec.pruned(tid, json.loads(result[HOW_KEY]))
            return TrialScheduler.STOP
        return TrialScheduler.CONTINUE


def _tid(trial: Any) -> int:
    return int(json.loads(trial.config["job"])["trial_id"])


class StoreCallback(tune.Callback):
    """Driver-side hooks: every trial event becomes one store transaction."""

    def __init__(self, rec: Recorder, max_failures: int) -> None:
        self._rec = rec
        self._max_failures = max_failures

    def __getstate__(self) -> dict[str, object]:
        # Tune pickles its run config (callbacks included) into its scratch folder; the store
        # connection cannot be pickled and is never needed there (we never restore a Tuner).
        return {"_rec": None, "_max_failures": self._max_failures}

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        """pending -> running (counts an attempt)."""
        self._rec.started(_tid(trial))

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict,
                        **info: Any) -> None:
        """running -> final status; weights leave the result so Tune does not keep them.

        Epoch results were stored by the EpochScheduler (it sees each result first).
        """
        payload = result.pop("nasx", None)
        weights = result.pop("nasx_weights", None)
        if payload is not None:
            self._rec.result(result_from_payload(payload, weights))

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        """A worker died or raised: the trial goes back to pending and Tune retries it."""
        self._rec.lost(_tid(trial), f"worker failed (failure {trial.num_failures} of at most "
                                    f"{self._max_failures + 1}); retrying")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        """Out of retries: the trial is failed."""
        self._rec.crashed(_tid(trial), f"worker failed {trial.num_failures} times; "
                                       f"see {trial.error_file or 'the Ray logs'}")


@contextmanager
def _quiet_analysis() -> Iterator[None]:
    """fit() ends by reading per-trial result files that we chose not to write: mute its warning."""
    log = logging.getLogger("ray.tune.analysis.experiment_analysis")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _trial_name(trial: Any) -> str:
    return f"trial_{_tid(trial)}"


def run_batch(batch: Batch) -> None:
    """The registry's runner: :func:`run_ray` over the batch's jobs."""
    run_ray(batch.store, batch.jobs, batch.rec, batch.fn_path, batch.opts)


def run_ray(store: RunStore, jobs: dict[int, TrialJob], rec: Recorder, fn_path: str,
            opts: ExecOptions) -> None:
    """Train ``jobs`` as Tune trials; the callback writes the store as each one ends."""
    scratch = store.root / RAY_DIR
    shutil.rmtree(scratch, ignore_errors=True)  # leftovers of a killed driver (we hold the lock)
    try:
        with ray_session(opts, local_ray_env(jobs.values(), opts.address)):
            _place_data(jobs)
            _fit(jobs, rec, fn_path, opts, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _place_data(jobs: dict[int, TrialJob]) -> None:
    """Every node that can run a trial gets the prepared data sets first (one task per node)."""
    from nasx.data.lookup import prepare_all
    from nasx.execute.placement import place_stores

    wanted = prepare_all((j.recipe, j.spec.resolution, j.spec.in_channels) for j in jobs.values())
    if wanted:
        place_stores(wanted.values())


def _fit(jobs: dict[int, TrialJob], rec: Recorder, fn_path: str, opts: ExecOptions,
         scratch: Path) -> None:
    """One Tune experiment over ``jobs`` on the connected Ray."""
    from nasx.execute.packing import choose_packing, local_gpu_bytes

    # A GPU box needs no flag to use its GPUs; small models are packed several to a GPU.
    cluster_gpus = ray.cluster_resources().get("GPU", 0)
    auto = opts.gpus_per_trial is None and cluster_gpus >= 1
    index = gpu_index(next(iter(jobs.values())).recipe.device) if jobs else None
    packing = choose_packing(opts.gpus_per_trial, jobs.values(), cluster_gpus=cluster_gpus,
                             gpu_bytes=local_gpu_bytes(index or 0) if auto else None)
    gpus = packing.gpus_per_trial
    if gpus > 0:
        print(f"nasx: GPUs: {packing.reason}", file=sys.stderr, flush=True)
    trainable = tune.with_resources(NasxTrainable, {"cpu": opts.cpus_per_trial, "gpu": gpus})
    # A trial's threads default to its CPUs (Ray also sets OMP_NUM_THREADS so in the worker).
    space = {"fn": fn_path, "threads": max(1, int(opts.cpus_per_trial)), "gpu_share": gpus,
             "job": tune.grid_search([job_to_json(j) for j in jobs.values()])}
    tuner = tune.Tuner(
        trainable,
        param_space=space,
        tune_config=tune.TuneConfig(reuse_actors=True, num_samples=1,
                                    scheduler=EpochScheduler(rec),
                                    trial_name_creator=_trial_name,
                                    trial_dirname_creator=_trial_name),
        run_config=tune.RunConfig(
            name=f"train-{int(time.time())}",
            storage_path=str(scratch.resolve()),
            verbose=0,
            callbacks=[StoreCallback(rec, opts.max_failures)],
            failure_config=tune.FailureConfig(max_failures=opts.max_failures),
            checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False),
            sync_config=tune.SyncConfig(sync_artifacts=False),
            log_to_file=False,
        ),
    )
    with scoped_env(_QUIET_ENV), _quiet_analysis(), one_line_failures():
        try:
            tuner.fit()
        except tune.TuneError as exc:
            raise TrainError(f"Ray Tune stopped: {exc}") from None
