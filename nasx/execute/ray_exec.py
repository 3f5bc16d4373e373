"""The Ray Tune executor: one Tune trial per nasx trial, lean settings, results written as they come.

Why these settings (each one removes per-trial overhead of a default Tune setup):
- a class Trainable with ``reuse_actors=True``: one worker process trains many trials in turn, so
  a trial costs no process start, no re-import of torch, and the DataCache stays warm;
- Tune's CSV/JSON/TensorBoard loggers off, no checkpoints, verbose 0, no log files;
- the trial config is the small TrialJob as JSON text; results come back as one Tune result.
A Tune Callback runs in the driver and writes the store on each event (start, result, worker lost,
given up), so killing the driver loses only the trials in flight.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ray
from ray import tune

from nasx.errors import TrainError
from nasx.execute.options import ExecOptions
from nasx.execute.recorder import Recorder
from nasx.execute.worker import (
    job_from_json,
    job_to_json,
    new_cache,
    resolve,
    result_from_payload,
    result_to_payload,
)
from nasx.store import RunStore
from nasx.train.job import TrialJob

RAY_DIR = "ray"  # Tune's scratch folder inside the run (git-ignored with runs/)
_QUIET_ENV = {
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",  # no CSV / JSON / TensorBoard files per trial
    "TUNE_GLOBAL_CHECKPOINT_S": "600",  # our store is the state; Tune's own snapshot is not needed
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
    "RAY_AIR_NEW_OUTPUT": "0",
}


class NasxTrainable(tune.Trainable):
    """Runs one TrialJob per Tune trial; reused across trials, keeping its DataCache."""

    def setup(self, config: dict[str, Any]) -> None:
        """Called once per worker process (reused trials go through reset_config)."""
        # The cache lives on the actor object: with reuse_actors it survives from trial to trial.
        self._cache: Any = None

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        """Accept the next trial's config (Tune has already set self.config)."""
        return True

    def step(self) -> dict[str, Any]:
        """Train the whole trial in one step and return its result (done=True)."""
        job = job_from_json(self.config["job"])
        fn = resolve(self.config["fn"])
        if self._cache is None:
            self._cache = new_cache()
        res = fn(job, self._cache)
        ctx = ray.get_runtime_context()
        res.metrics = {**(res.metrics or {}), "ray_node": ctx.get_node_id(), "pid": os.getpid()}
        payload, weights = result_to_payload(res)
        return {"done": True, "nasx": payload, "nasx_weights": weights}


def _tid(trial: Any) -> int:
    return int(json.loads(trial.config["job"])["trial_id"])


class StoreCallback(tune.Callback):
    """Driver-side hooks: every trial event becomes one store transaction."""

    def __init__(self, rec: Recorder, max_failures: int) -> None:
        self._rec = rec
        self._max_failures = max_failures

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its run config (callbacks included) into its scratch folder; the store
        # connection cannot be pickled and is never needed there (we never restore a Tuner).
        return {"_rec": None, "_max_failures": self._max_failures}

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        """pending -> running (counts an attempt)."""
        self._rec.started(_tid(trial))

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict,
                        **info: Any) -> None:
        """running -> final status; weights leave the result so Tune does not keep them."""
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
def _scoped_env(values: dict[str, str]) -> Iterator[None]:
    """Tune reads these switches from the environment; set them only while it runs."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


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


def connect(opts: ExecOptions) -> bool:
    """Join ``opts.address`` / ``$RAY_ADDRESS`` or start a local Ray on loopback.

    Returns whether this call started (and so must shut down) Ray.
    """
    if ray.is_initialized():
        return False
    # Ray's own warnings (auth token notice, worker deaths) would interleave with the progress
    # display; every trial event that matters is in the store.
    common: dict[str, Any] = {"log_to_driver": False, "configure_logging": True,
                              "logging_level": logging.ERROR}
    address = opts.address or os.environ.get("RAY_ADDRESS")
    try:
        if address:
            ray.init(address=address, **common)
        else:
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=opts.dashboard,
                     dashboard_host="127.0.0.1", _node_ip_address="127.0.0.1", **common)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = address or "a local Ray"
        raise TrainError(f"cannot start or join Ray at {where}: {exc}", key="address") from None
    return True


def _trial_name(trial: Any) -> str:
    return f"trial_{_tid(trial)}"


def run_ray(store: RunStore, jobs: dict[int, TrialJob], rec: Recorder, fn_path: str,
            opts: ExecOptions) -> None:
    """Train ``jobs`` as Tune trials; the callback writes the store as each one ends."""
    scratch = store.root / RAY_DIR
    shutil.rmtree(scratch, ignore_errors=True)  # leftovers of a killed driver (we hold the lock)
    started = connect(opts)
    try:
        gpus = opts.gpus_per_trial
        if gpus is None:  # a GPU box should not need a flag to use its GPUs
            gpus = 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
        trainable = tune.with_resources(NasxTrainable, {"cpu": opts.cpus_per_trial, "gpu": gpus})
        space = {"fn": fn_path,
                 "job": tune.grid_search([job_to_json(j) for j in jobs.values()])}
        tuner = tune.Tuner(
            trainable,
            param_space=space,
            tune_config=tune.TuneConfig(reuse_actors=True, num_samples=1,
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
        with _scoped_env(_QUIET_ENV), _quiet_analysis():
            try:
                tuner.fit()
            except tune.TuneError as exc:
                raise TrainError(f"Ray Tune stopped: {exc}") from None
    finally:
        if started:
            ray.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
