"""Execution options for the public API: how trials run, checked once (the CLI's `train`, `run`,
`demo` and `refine` build theirs here too)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nasx.execute.options import ExecOptions


def check_device(device: str | None, executor: str, address: str | None, *,
                 source: str = "command line", key: str = "device") -> None:
    """TrainError when ``device`` asks for CUDA that this machine lacks and trials run here.

    Trials run here with the inline executor or a fresh local Ray; a cluster's workers (--address,
    $RAY_ADDRESS) may have GPUs the driver lacks, so those are not checked. Imports torch only
    for a cuda device.
    """
    import os

    from nasx.errors import TrainError
    from nasx.execute.registry import uses_ray

    if not device or not device.startswith("cuda"):
        return
    if uses_ray(executor) and (address or os.environ.get("RAY_ADDRESS")):
        return
    import torch

    if not torch.cuda.is_available():
        raise TrainError(rule="CUDA is not available on this machine (use --device cpu or auto)",
                         value=device, where=source, key=key)
    index = device.partition(":")[2]
    if index and int(index) >= torch.cuda.device_count():
        raise TrainError(rule=f"this machine has {torch.cuda.device_count()} CUDA devices",
                         value=device, where=source, key=key)


def _check_execution(cpus_per_trial: float, gpus_per_trial: float | None, max_failures: int,
                     keep_weights: int) -> None:
    """TrainError for an execution option outside its range (before anything is written)."""
    import math

    from nasx.errors import TrainError

    rules = [
        ("cpus_per_trial", cpus_per_trial, 0.0, 1024.0, False),
        ("gpus_per_trial", gpus_per_trial, 0.0, 64.0, True),
        ("max_failures", max_failures, 0, 1000, True),
        ("keep_weights", keep_weights, 0, 10**6, True),
    ]
    for key, value, lo, hi, closed in rules:
        if value is None:
            continue
        ok = math.isfinite(value) and (lo <= value if closed else lo < value) and value <= hi
        if not ok:
            raise TrainError(rule=f"must be in {'[' if closed else '('}{lo:g}, {hi:g}]",
                             value=value, where="command line", key=key)


RECIPE_KEYS = ("epochs", "batch_size", "lr", "data", "data_dir", "device", "threads")


def options_from(executor: str = "inline", address: str | None = None,
                 cpus_per_trial: float = 1.0, gpus_per_trial: float | None = None,
                 max_failures: int = 2, keep_weights: int = 3, retry_failed: bool = False,
                 prune: str | None = None, force_prune: bool = False, progress: bool = False,
                 dashboard: bool = False, **recipe: Any) -> ExecOptions:
    """ExecOptions, checked before anything is written: recipe overrides (``epochs``,
    ``batch_size``, ``lr``, ``data``, ``data_dir`` (made absolute for workers), ``device``,
    ``threads``) by type and range, execution options by range (TrainError naming the key and
    "command line"), and a CUDA device this machine does not have."""
    from nasx.execute.options import ExecOptions
    from nasx.train.recipe import Recipe

    unknown = sorted(set(recipe) - set(RECIPE_KEYS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; recipe overrides are"
                        f" {', '.join(RECIPE_KEYS)}")
    given = {k: v for k, v in recipe.items() if v is not None}
    if given.get("data_dir"):
        given["data_dir"] = str(Path(str(given["data_dir"])).resolve())
    # Against the defaults here; a rule between keys (warmup_epochs <= epochs) is checked again
    # with the space's train: block by `run`, and with the run's recipe by the driver.
    Recipe().override(given, source="command line")
    _check_execution(cpus_per_trial, gpus_per_trial, max_failures, keep_weights)
    check_device(given.get("device"), executor, address)  # type: ignore[arg-type]
    return ExecOptions(
        executor=executor, address=address, cpus_per_trial=cpus_per_trial,
        gpus_per_trial=gpus_per_trial, max_failures=max_failures, keep_weights=keep_weights,
        overrides=given, progress=progress, dashboard=dashboard, retry_failed=retry_failed,
        prune=prune, force_prune=force_prune)


