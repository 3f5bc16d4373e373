"""Worker-side helpers shared by the executors: find the trial function, (de)serialise results.

Torch-free at import; the trial function imports what it needs when called.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Generator, Mapping
from dataclasses import asdict, replace
from functools import lru_cache
from typing import Any

from nasx.arch.spec import ArchSpec
from nasx.errors import TrainError
from nasx.status import TrialStatus
from nasx.train.job import EpochRecord, Metrics, TrialJob, TrialResult
from nasx.train.recipe import Recipe
from nasx.train.trainer import thread_count
from nasx.types import JSONObject

DEFAULT_TRIAL_FN = "nasx.train.trainer:train_trial"
TrialFn = Callable[..., TrialResult]  # (job, cache) -> TrialResult
# Torch threads of an inline trial unless the recipe or the environment says otherwise: one
# thread was fastest on small models, and under load from other processes 2 threads on 2 cores
# were several times slower (bench/RESULTS.md, "Threads per trial").
INLINE_THREADS = 1


def fn_path(fn: TrialFn | str | None) -> str:
    """``module:qualname`` of a trial function, so that a worker process can import it."""
    if fn is None:
        return DEFAULT_TRIAL_FN
    if isinstance(fn, str):
        return fn
    path = f"{fn.__module__}:{fn.__qualname__}"
    if "<" in path or fn.__module__ == "__main__":
        raise TrainError(f"trial function {path} must be importable by module path")
    return path


@lru_cache(maxsize=8)
def resolve(path: str) -> TrialFn:
    """Import ``module:qualname``."""
    module, _, name = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise TrainError(f"cannot import trial function {path}: {exc}") from None
    return obj


def new_cache() -> Any:
    """A DataCache for one worker (None when the data layer is unavailable)."""
    try:
        from nasx.data import DataCache
    except ImportError:
        return None
    return DataCache()


def job_to_json(job: TrialJob) -> str:
    """Compact text form of a job: what travels to a Ray worker as the trial config.

    The one conversion of a job to plain data (:func:`job_from_json` is the other way).
    """
    return json.dumps({"trial_id": job.trial_id, "spec": job.spec.to_dict(),
                       "recipe": job.recipe.to_dict(), "seed": job.seed,
                       "return_weights": job.return_weights}, separators=(",", ":"))


def job_from_json(text: str) -> TrialJob:
    """Inverse of :func:`job_to_json` (the recipe is validated again on the worker's side)."""
    d = json.loads(text)
    return TrialJob(trial_id=int(d["trial_id"]), spec=ArchSpec.from_dict(d["spec"]),
                    recipe=Recipe.from_dict(d["recipe"]), seed=int(d["seed"]),
                    return_weights=bool(d["return_weights"]))


def result_to_payload(res: TrialResult) -> tuple[JSONObject, bytes | None]:
    """A result as (its JSON form, what a Ray worker sends back; weights bytes)."""
    d = asdict(res)
    d["status"] = str(d["status"])  # plain data on the wire; TrialStatus again on the way back
    weights = d.pop("weights")
    return d, weights


def result_from_payload(d: JSONObject, weights: bytes | None) -> TrialResult:
    """Inverse of :func:`result_to_payload`."""
    # the payload is asdict() of a TrialResult made by nasx on the worker: its fields, as typed
    return TrialResult(**{**d, "status": TrialStatus(str(d["status"])),  # type: ignore[arg-type]
                          "weights": weights})


def trial_threads(recipe: Recipe, default: int,
                  environ: Mapping[str, str] | None = None) -> int | None:
    """Torch threads of a trial by the trainer's rule (:func:`~nasx.train.trainer.thread_count`)
    with this executor's ``default``; None when an environment value is not a positive integer:
    the trainer then fails the trial with the message that names the variable."""
    try:
        return thread_count(recipe, environ, default=default)
    except TrainError:
        return None

TrialSteps = Generator[EpochRecord, bool | None, TrialResult]


def run_steps(fn: TrialFn, job: TrialJob, cache: Any, executor: str,
              default_threads: int) -> TrialSteps:
    """Run one trial with its thread count resolved here, epoch by epoch when ``fn`` can.

    A trial function with a ``steps`` attribute (a generator function of (job, cache), as
    ``train_trial`` has) yields each epoch's record and takes True back to stop; any other runs
    in one go and reports no epochs. The result's metrics record how it ran: on CPU results
    depend on the thread count only through the order of floating-point sums, so the seed, the
    thread count (resolved, never 0) and the executor are kept with every trial. On CUDA the
    same seed reproduces a trial only with the recipe's ``deterministic`` flag (autotuned and
    atomic-add kernels are not bitwise reproducible otherwise).
    """
    how = run_how(job, executor, default_threads)
    threads = how["threads"]
    if isinstance(threads, int) and job.recipe.threads != threads:
        job = replace(job, recipe=replace(job.recipe, threads=threads))
    steps = getattr(fn, "steps", None)
    res = (yield from steps(job, cache)) if steps is not None else fn(job, cache)
    res.metrics = {**(res.metrics or {}), **how}
    return res


def run_how(job: TrialJob, executor: str, default_threads: int) -> Metrics:
    """How a trial runs: its seed, its thread count (resolved; None when the environment's is
    not a positive integer) and the executor (kept with every trial, pruned ones too)."""
    return {"seed": job.seed, "threads": trial_threads(job.recipe, default_threads),
            "executor": executor}
