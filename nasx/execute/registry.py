"""The executors, in one table: how a driver trains a batch of jobs. Adding one is one entry here.

An executor receives the jobs of one ``train_run`` call (a :class:`~nasx.execute.executors.Batch`)
and reports every trial event to the :class:`~nasx.execute.recorder.Recorder` (the store's single
writer). ``ExecOptions`` checks a name against this table, the CLI's ``--executor`` choices and
help are made from it, and the driver runs a batch with the entry's runner.

The table is plain data that imports nothing: an entry names its runner (and its session) by
``module:function``, imported when a batch runs (ray only then). The modules it names import
``options``, which reads this table, so naming them by import would close a circle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class ExecutorEntry:
    """One executor: what runs a batch, whether its trials run on Ray, its line of CLI help."""

    runner: str  # ``module:function`` taking a Batch: trains its jobs, reports to its Recorder
    help: str  # one line for ``--executor``'s help
    # trials run on Ray: --address, the cluster's GPUs and --dashboard apply
    uses_ray: bool = False
    # ``module:function`` of a context manager taking ExecOptions that keeps the executor's
    # runtime up across several calls (refine's rounds, fidelity's schedules); None: none needed
    session: str | None = None


EXECUTORS: Mapping[str, ExecutorEntry] = MappingProxyType({
    "ray": ExecutorEntry(
        runner="nasx.execute.ray_exec:run_batch",
        help="Ray Tune: a local Ray on loopback, or the cluster of --address / $RAY_ADDRESS",
        uses_ray=True, session="nasx.execute.ray_session:ray_session"),
    "inline": ExecutorEntry(
        runner="nasx.execute.inline:run_batch", help="sequential, in this process"),
})
DEFAULT_EXECUTOR = "ray"  # the CLI's and ExecOptions' default (the API's is inline)


def executor_help() -> str:
    """The ``--executor`` help: each executor's name with its line, e.g. ``inline (sequential...)``."""
    return " or ".join(f"{name} ({entry.help})" for name, entry in EXECUTORS.items())


def uses_ray(name: str) -> bool:
    """Whether the executor ``name`` runs trials on Ray (False for a name not in the table)."""
    entry = EXECUTORS.get(name)
    return entry is not None and entry.uses_ray
