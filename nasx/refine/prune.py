"""Per-epoch pruning: a trial function for the inline executor that reports to Optuna.

``train_trial``'s ``on_epoch(epoch, record) -> bool`` hook receives each evaluated epoch's record;
this function reports its ``val_error`` to the trial's Optuna trial and stops the training when
the study's pruner says so (the store then holds the trial as ``done`` with ``stopped_early``, and
refine tells Optuna it was PRUNED). Only the inline executor calls the object itself; a Ray worker
would need to reach the Optuna storage from the worker, which refine does not do (hence
``--prune`` requires ``--executor inline``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna

from nasx.train.job import TrialJob, TrialResult


class PruningTrialFn:
    """``(job, cache) -> TrialResult`` that trains with ``train_trial`` and an Optuna pruner."""

    def __init__(self, trials: Mapping[int, optuna.trial.Trial]) -> None:
        self.trials = dict(trials)  # nasx trial id -> its running Optuna trial
        self.pruned: set[int] = set()
        # train_run names its trial function by module path (for Ray workers); inline it calls
        # this object directly, so the class path is only a label here.
        self.__qualname__ = type(self).__qualname__

    def on_epoch_for(self, trial_id: int) -> Any:
        """The ``on_epoch`` hook of one nasx trial."""
        trial = self.trials.get(trial_id)

        def on_epoch(epoch: int, record: Mapping[str, Any]) -> bool:
            """Report the epoch's validation error; False (stop) when the pruner says so."""
            # Records written before the validation split carry only test_error.
            error = record.get("val_error", record.get("test_error"))
            if trial is None or error is None:
                return True
            trial.report(float(error), step=int(epoch))
            if trial.should_prune():
                self.pruned.add(trial_id)
                return False
            return True

        return on_epoch

    def __call__(self, job: TrialJob, cache: Any = None) -> TrialResult:
        """Train ``job``, reporting every evaluated epoch."""
        from nasx.train.trainer import train_trial  # torch: only when a trial really trains

        return train_trial(job, cache, on_epoch=self.on_epoch_for(job.trial_id))
