"""Execution options: how `nasx train` runs the trials of a run (passed explicitly, never global)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

from nasx.errors import TrainError
from nasx.execute.registry import DEFAULT_EXECUTOR, EXECUTORS, uses_ray
from nasx.types import Scalar

# What Ray's dashboard imports (ray/dashboard/optional_deps.py): installed by ray[default], not by
# ray[tune], which is all that nasx needs.
DASHBOARD_MODULES = ("aiohttp", "aiohttp_cors", "grpc", "opencensus", "opentelemetry",
                     "prometheus_client")
DASHBOARD_INSTALL = 'pip install "ray[default]"'
# Optuna's pruners by nasx name (built in nasx.refine.prune; the names live here, Optuna-free).
PRUNERS = ("median", "asha", "hyperband")


def missing_dashboard_modules() -> list[str]:
    """The modules Ray's dashboard needs that are not installed (found without importing them)."""
    return [m for m in DASHBOARD_MODULES if importlib.util.find_spec(m) is None]


@dataclass(frozen=True)
class ExecOptions:
    """Executor choice, resources per trial, fault tolerance, and what to keep.

    ``address`` None means: ``$RAY_ADDRESS`` when set, else a fresh local Ray on loopback.
    ``gpus_per_trial`` may be a fraction to pack several trials on one GPU; None (the default)
    means: when the Ray cluster has GPUs, as many trials per GPU as the largest model's counted
    training memory allows (at most 8; see :mod:`nasx.execute.packing`), else none.
    ``retry_failed`` also trains trials whose status is ``failed`` (never ``done``/``diverged``).
    Torch threads per trial come from the recipe (``overrides["threads"]``), else
    ``$NASX_THREADS`` / ``$OMP_NUM_THREADS``, else 1 inline and ``cpus_per_trial`` with Ray.
    """

    executor: str = DEFAULT_EXECUTOR  # a name of the registry (nasx.execute.registry)
    address: str | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float | None = None
    max_failures: int = 2
    keep_weights: int = 3
    overrides: dict[str, Scalar] = field(default_factory=dict)
    progress: bool = True
    dashboard: bool = False
    retry_failed: bool = False
    prune: str | None = None  # one of PRUNERS: stop unpromising trials after an evaluated epoch
    force_prune: bool = False  # prune sampled-population trials too (their EDF is then unequal)

    def __post_init__(self) -> None:
        rules = [
            ("executor", self.executor in EXECUTORS, f"must be {' or '.join(EXECUTORS)}"),
            ("cpus_per_trial", self.cpus_per_trial > 0, "must be > 0"),
            ("gpus_per_trial", self.gpus_per_trial is None or self.gpus_per_trial >= 0,
             "must be >= 0"),
            ("max_failures", self.max_failures >= 0, "must be >= 0"),
            ("keep_weights", self.keep_weights >= 0, "must be >= 0"),
            ("prune", self.prune is None or self.prune in PRUNERS,
             f"must be one of {', '.join(PRUNERS)}"),
        ]
        for key, ok, rule in rules:
            if not ok:
                raise TrainError(rule=rule, value=getattr(self, key), where="command line",
                                 key=key)
        if self.gpus_per_trial is not None:
            from nasx.execute.packing import explicit_packing

            explicit_packing(self.gpus_per_trial)  # e.g. 1.5 GPUs: refused in one line
        # Checked here, before anything is sampled or started: Ray itself would fail only after
        # start-up, with "Cannot include dashboard with missing packages" and a traceback.
        if self.dashboard and uses_ray(self.executor):
            missing = missing_dashboard_modules()
            if missing:
                raise TrainError(f"--dashboard needs Ray's dashboard packages (missing: "
                                 f"{', '.join(missing)}); install them with: {DASHBOARD_INSTALL}",
                                 where="command line", key="dashboard")
