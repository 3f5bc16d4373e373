"""The registry of executors: how a driver trains its jobs. Adding one is one entry here.

An executor receives the jobs of one ``train_run`` call and reports every trial event to the
:class:`~nasx.execute.recorder.Recorder` (the store's single writer). Heavy libraries (ray) are
imported inside the executor that needs them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from nasx.execute.worker import TrialFn, resolve

if TYPE_CHECKING:
    from nasx.execute.options import ExecOptions
    from nasx.execute.recorder import Recorder
    from nasx.store import RunStore
    from nasx.train.job import TrialJob


@dataclass(frozen=True)
class Batch:
    """The jobs of one call and where their events go."""

    store: RunStore
    jobs: dict[int, TrialJob]
    rec: Recorder
    fn_path: str  # ``module:qualname`` of the trial function (what a remote worker imports)
    fn: TrialFn | None  # the same function when the caller passed a callable (in-process only)
    opts: ExecOptions


def _inline(batch: Batch) -> None:
    from nasx.execute.inline import run_inline

    fn = batch.fn if batch.fn is not None else resolve(batch.fn_path)
    run_inline(batch.jobs, batch.rec, fn, batch.opts.max_failures)


def _ray(batch: Batch) -> None:
    from nasx.execute.ray_exec import run_ray  # ray is imported only here

    run_ray(batch.store, batch.jobs, batch.rec, batch.fn_path, batch.opts)


EXECUTORS: Mapping[str, Callable[[Batch], None]] = MappingProxyType({
    "ray": _ray,  # Ray Tune: a local Ray on loopback or a cluster (the default)
    "inline": _inline,  # sequential, in this process (debugging, tests)
})


@contextlib.contextmanager
def executor_session(opts: ExecOptions) -> Iterator[None]:
    """Keep the executor's runtime up across several ``train_run`` calls (refine's rounds).

    With Ray, one Ray (local or joined) serves every call inside the block instead of a start
    and a shutdown per call; inline needs nothing.
    """
    if opts.executor != "ray":
        yield
        return
    from nasx.execute.ray_session import ray_session  # ray is imported only here

    with ray_session(opts):
        yield
