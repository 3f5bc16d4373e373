"""The driver's single writer: every trial event becomes one store transaction (and progress)."""

from __future__ import annotations

import logging

from nasx.execute.progress import ProgressView
from nasx.execute.weights import WeightKeeper
from nasx.store import RunStore, TrialStatus
from nasx.train.job import TrialResult
from nasx.train.recipe import Recipe

log = logging.getLogger(__name__)


class Recorder:
    """Applies start / result / lost / crashed events of trials to the run store as they happen."""

    def __init__(self, store: RunStore, keeper: WeightKeeper, view: ProgressView) -> None:
        self.store = store
        self.keeper = keeper
        self.view = view
        self.recipes: dict[int, Recipe] = {}
        self.finished: dict[int, TrialStatus] = {}  # trial id -> final status of this session

    def started(self, trial_id: int, device: str = "", host: str | None = None) -> None:
        """pending -> running (one more attempt)."""
        recipe = self.recipes.get(trial_id)
        device = device or (recipe.device if recipe is not None else "")
        status = self.store.get(trial_id).status
        if status is not TrialStatus.PENDING:  # e.g. a duplicate start event: never count an attempt twice
            log.warning("ignoring start of trial %s: it is %s, not pending", trial_id, status)
            return
        # a store that cannot be written now (corrupt, locked) is an error, not a duplicate
        self.store.mark_running(trial_id, recipe, device, host)
        self.view.move(TrialStatus.PENDING, TrialStatus.RUNNING)

    def result(self, res: TrialResult) -> None:
        """running -> done | failed | diverged; a winner's weights are on disk before it is done.

        Order (each step survives a SIGKILL after it): write the weights file of a best-K trial,
        then one transaction marks the trial done *and* names the file, then evict the losers.
        """
        if res.trial_id in self.finished:
            return
        rel = None
        status = TrialStatus(res.status)
        if status is TrialStatus.DONE:
            rel = self.keeper.prepare(res.trial_id, res.error, res.weights)
        try:
            self.store.finish(res.trial_id, status, error=res.error, metrics=res.metrics,
                              curves=res.curves, device=res.device or None,
                              host=res.host or None, message=res.message,
                              train_seconds=res.seconds, weights=rel)
        except BaseException:
            if rel is not None:
                self.keeper.discard(rel)
            raise
        self.finished[res.trial_id] = status
        if rel is not None and res.error is not None:
            self.keeper.admit(res.trial_id, res.error, rel)
        self.view.move(TrialStatus.RUNNING, status,
                       res.error if status is TrialStatus.DONE else None, res.trial_id)

    def lost(self, trial_id: int, message: str) -> None:
        """running -> pending: the worker died and the trial will be tried again."""
        self.store.mark_pending(trial_id, message=message)
        self.view.move(TrialStatus.RUNNING, TrialStatus.PENDING)

    def crashed(self, trial_id: int, message: str) -> None:
        """running -> failed: out of retries."""
        if trial_id in self.finished:
            return
        self.store.finish(trial_id, TrialStatus.FAILED, message=message)
        self.finished[trial_id] = TrialStatus.FAILED
        self.view.move(TrialStatus.RUNNING, TrialStatus.FAILED)
