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
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import ray
from ray import tune
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from nasx.errors import TrainError
from nasx.execute.options import DASHBOARD_INSTALL, ExecOptions
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
from nasx.types import JSONObject, Scalar

RAY_DIR = "ray"  # Tune's scratch folder inside the run (git-ignored with runs/)
EPOCH_KEY, HOW_KEY = "nasx_epoch", "nasx_how"  # an epoch's record; how the trial runs
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
        """Train one more epoch (its record), or finish the trial (done, the weights as bytes)."""
        if self._steps is None:
            job = job_from_json(self.config["job"])
            fn = resolve(self.config["fn"])
            if self.config.get("gpu_share"):
                from nasx.train.cuda_setup import setup_cuda

                # this worker's memory cap on a shared GPU: a trial that outgrows it fails alone
                setup_cuda(job.recipe.device, self.config["gpu_share"])
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
            return {"done": True, "nasx": payload, "nasx_weights": weights}
        # JSON text: Tune flattens nested dicts of results for its scheduler
        return {EPOCH_KEY: json.dumps(record), HOW_KEY: self._how}


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
def _scoped_env(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables only for the duration of the block.

    Ray and Tune read their switches from the environment, and the Ray processes we start inherit
    it; the caller's environment is as it was afterwards.
    """
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def _restored_environ() -> Iterator[None]:
    """Undo every change to ``os.environ`` made while the block runs (by us or by ray.init)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for k in set(os.environ) - set(saved):
            del os.environ[k]
        for k, v in saved.items():
            if os.environ.get(k) != v:
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


def _token_auth_supported() -> bool:
    """Whether the installed Ray has token authentication (Ray >= 2.52)."""
    try:
        from ray._private.authentication import authentication_token_setup  # noqa: F401
        from ray._raylet import AuthenticationTokenLoader, Config  # noqa: F401
    except ImportError:
        return False
    return True


def _refresh_auth_state() -> None:
    """Make this process re-read RAY_AUTH_MODE / RAY_AUTH_TOKEN (Ray caches both in C++).

    Config first, then the token cache: the order of Ray's own test helper, so that a core-worker
    thread still draining never sees token mode without a token.
    """
    if not _token_auth_supported():
        return
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def loopback_env(token: str | None) -> dict[str, str | None]:
    """Environment of a private local Ray: every service on 127.0.0.1, token authentication.

    - ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: Ray processes that resolve "this node's address"
      themselves take the loopback address instead of the machine's outward one;
    - ``RAY_AUTH_MODE=token`` with a fresh random ``RAY_AUTH_TOKEN``: the token lives only in the
      environment of this Ray's processes (Ray's own default would write ``~/.ray/auth_token``);
    - ``RAY_AUTH_TOKEN_PATH`` unset, since the token variable is what this Ray must use.
    """
    env: dict[str, str | None] = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    if token is not None:
        env.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token,
                    "RAY_AUTH_TOKEN_PATH": None})
    return env


@contextmanager
def _loopback_node() -> Iterator[None]:
    """Keep ``_node_ip_address="127.0.0.1"`` as the node address while a local Ray starts.

    ray.init rewrites a loopback node address into the machine's outward IP (and the servers then
    bind every interface) unless Ray's "single machine" switch is on; the switch is read from this
    module attribute at call time (its environment variable only at import, long past here).
    """
    from ray._private import ray_constants

    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


@contextmanager
def ray_session(opts: ExecOptions) -> Iterator[None]:
    """Join ``opts.address`` / ``$RAY_ADDRESS``, or start a private local Ray on loopback.

    A local Ray listens on 127.0.0.1 only and uses token authentication with a token made for this
    run; its settings are in the environment (which its processes inherit) only while it lives,
    and what ray.init itself sets there is undone afterwards too. A cluster is joined as the user
    configured it (nothing forced). A Ray already initialised in this process (tests, notebooks)
    is used as it is and left running.
    """
    if ray.is_initialized():
        yield
        return
    # Ray's own warnings (auth token notice, worker deaths) would interleave with the progress
    # display; every trial event that matters is in the store.
    kwargs: dict[str, Scalar] = {"log_to_driver": False, "configure_logging": True,
                                 "logging_level": logging.ERROR}
    address = opts.address or os.environ.get("RAY_ADDRESS")
    token = None
    with ExitStack() as stack:  # unwinds last-in first-out: shutdown, environment, auth state
        if address:
            kwargs["address"] = address
            stack.enter_context(_restored_environ())
        else:
            token = secrets.token_hex(32) if _token_auth_supported() else None
            stack.callback(_refresh_auth_state)  # re-read the restored environment
            stack.enter_context(_restored_environ())
            stack.enter_context(_scoped_env(loopback_env(token)))
            _refresh_auth_state()
            stack.enter_context(_loopback_node())
            if opts.dashboard:
                _check_dashboard()
            # "local": a new Ray of our own even when another one runs on this machine (with no
            # address, ray.init would join the last Ray started here, e.g. another user's).
            kwargs.update(address="local", num_cpus=os.cpu_count() or 1,
                          include_dashboard=opts.dashboard,
                          dashboard_host="127.0.0.1", _node_ip_address="127.0.0.1")
        stack.callback(ray.shutdown)  # also stops a half-started Ray after a failed init
        try:
            context = ray.init(**kwargs)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            where = address or "a local Ray"
            raise TrainError(f"cannot start or join Ray at {where}: {exc}",
                             key="address") from None
        if opts.dashboard and not address:
            _announce_dashboard(getattr(context, "dashboard_url", None), token)
        yield


def _check_dashboard() -> None:
    """Ray's own test of its dashboard's imports (ExecOptions checked the known list already)."""
    from ray._private.utils import get_dashboard_dependency_error

    error = get_dashboard_dependency_error()
    if error is not None:
        raise TrainError(f"--dashboard needs Ray's dashboard packages ({error}); install them "
                         f"with: {DASHBOARD_INSTALL}", where="command line", key="dashboard")


def _announce_dashboard(url: str | None, token: str | None) -> None:
    """One line on stderr: where the dashboard is, and the token that opens it."""
    url = url or "127.0.0.1:8265"
    sign_in = f"; sign in with the token {token}" if token else ""
    print(f"Ray dashboard: http://{url}{sign_in}", file=sys.stderr, flush=True)


def _trial_name(trial: Any) -> str:
    return f"trial_{_tid(trial)}"


def run_ray(store: RunStore, jobs: dict[int, TrialJob], rec: Recorder, fn_path: str,
            opts: ExecOptions) -> None:
    """Train ``jobs`` as Tune trials; the callback writes the store as each one ends."""
    scratch = store.root / RAY_DIR
    shutil.rmtree(scratch, ignore_errors=True)  # leftovers of a killed driver (we hold the lock)
    try:
        with ray_session(opts):
            _fit(jobs, rec, fn_path, opts, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _fit(jobs: dict[int, TrialJob], rec: Recorder, fn_path: str, opts: ExecOptions,
         scratch: Path) -> None:
    """One Tune experiment over ``jobs`` on the connected Ray."""
    from nasx.execute.packing import choose_packing, local_gpu_bytes

    # A GPU box needs no flag to use its GPUs; small models are packed several to a GPU.
    cluster_gpus = ray.cluster_resources().get("GPU", 0)
    auto = opts.gpus_per_trial is None and cluster_gpus >= 1
    packing = choose_packing(opts.gpus_per_trial, jobs.values(), cluster_gpus=cluster_gpus,
                             gpu_bytes=local_gpu_bytes() if auto else None)
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
    with _scoped_env(_QUIET_ENV), _quiet_analysis():
        try:
            tuner.fit()
        except tune.TuneError as exc:
            raise TrainError(f"Ray Tune stopped: {exc}") from None
