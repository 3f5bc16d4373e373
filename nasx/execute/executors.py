"""Run a batch of jobs with the executor an ExecOptions names (the table is ``registry``).

An executor receives the jobs of one ``train_run`` call and reports every trial event to the
:class:`~nasx.execute.recorder.Recorder` (the store's single writer). Heavy libraries (ray) are
imported inside the executor that needs them: its runner is imported only when a batch runs.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nasx.execute.registry import EXECUTORS
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

    def trial_fn(self) -> TrialFn:
        """The trial function: the callable passed in, else the one ``fn_path`` names."""
        return self.fn if self.fn is not None else resolve(self.fn_path)


def _load(path: str) -> Any:
    """The function a registry entry names (``module:function``)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def run_batch(batch: Batch) -> None:
    """Train ``batch`` with the runner of its options' executor."""
    runner: Callable[[Batch], None] = _load(EXECUTORS[batch.opts.executor].runner)
    runner(batch)


@contextlib.contextmanager
def executor_session(opts: ExecOptions) -> Iterator[None]:
    """Keep the executor's runtime up across several ``train_run`` calls (refine's rounds).

    With Ray, one Ray (local or joined) serves every call inside the block instead of a start
    and a shutdown per call; an executor without a session (inline) needs nothing.
    """
    path = EXECUTORS[opts.executor].session
    if path is None:
        yield
        return
    session: Callable[[ExecOptions], contextlib.AbstractContextManager[Any]] = _load(path)
    with session(opts):
        yield
