"""Worker-side helpers shared by the executors: find the trial function, (de)serialise results.

Torch-free at import; the trial function imports what it needs when called.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import asdict
from functools import lru_cache
from typing import Any

from nasx.errors import TrainError
from nasx.train.job import TrialJob, TrialResult

DEFAULT_TRIAL_FN = "nasx.train.trainer:train_trial"
TrialFn = Callable[..., TrialResult]  # (job, cache) -> TrialResult


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
    """Compact text form of a job: what travels to a Ray worker as the trial config."""
    return json.dumps(asdict(job), separators=(",", ":"))


def job_from_json(text: str) -> TrialJob:
    """Inverse of :func:`job_to_json`."""
    return TrialJob(**json.loads(text))


def result_to_payload(res: TrialResult) -> tuple[dict[str, Any], bytes | None]:
    """A result as (JSON-able dict, weights bytes)."""
    d = asdict(res)
    weights = d.pop("weights")
    return d, weights


def result_from_payload(d: dict[str, Any], weights: bytes | None) -> TrialResult:
    """Inverse of :func:`result_to_payload`."""
    return TrialResult(**{**d, "weights": weights})
