"""The driver's single writer: every trial event becomes one store transaction (and progress)."""

from __future__ import annotations

import logging

from nasx.execute.progress import ProgressView
from nasx.execute.pruning import EpochPruner
from nasx.execute.weights import WeightKeeper
from nasx.store import RunStore, TrialStatus
from nasx.train.job import EpochRecord, Metrics, TrialResult
from nasx.train.recipe import Recipe

log = logging.getLogger(__name__)


class Recorder:
    """Applies start / epoch / result / pruned / lost / crashed events of trials to the run store
    as they happen, and asks the pruner (if any) after each validated epoch."""

    def __init__(self, store: RunStore, keeper: WeightKeeper, view: ProgressView,
                 pruner: EpochPruner | None = None) -> None:
        self.store = store
        self.keeper = keeper
        self.view = view
        self.pruner = pruner
        self.recipes: dict[int, Recipe] = {}
        self.finished: dict[int, TrialStatus] = {}  # trial id -> final status of this session
        self.curves: dict[int, list[EpochRecord]] = {}  # epochs of the running attempt

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
        self.curves[trial_id] = []
        self.view.move(TrialStatus.PENDING, TrialStatus.RUNNING)

    def epoch(self, trial_id: int, record: EpochRecord) -> bool:
        """One trained epoch of a running trial, stored as it happens; True: prune the trial now.

        The pruner sees validated epochs only; a stop at the last epoch would cost nothing, so
        the trial completes (as Optuna's own "a stop after the last step" rule).
        """
        if trial_id in self.finished:
            return False
        self.curves.setdefault(trial_id, []).append(record)
        self.store.add_epoch(trial_id, record)
        recipe = self.recipes.get(trial_id)
        total = recipe.epochs if recipe is not None else 0
        epoch = int(record["epoch"])
        self.view.epoch(trial_id, epoch, total)
        value = record.get("val_error")
        if self.pruner is None or value is None:
            return False
        return self.pruner.report(trial_id, epoch, float(value)) and epoch < total

    def pruned(self, trial_id: int, how: Metrics | None = None) -> None:
        """running -> pruned: the pruner stopped the trial after its last stored epoch.

        Its error is that epoch's validation error (a partial-budget figure: a pruned trial is
        never a finished model); ``how`` adds the seed, threads and executor it ran with.
        """
        if trial_id in self.finished:
            return
        curve = self.curves.get(trial_id, [])
        validated = [r["val_error"] for r in curve if r.get("val_error") is not None]
        error = validated[-1] if validated else None
        name = self.pruner.name if self.pruner is not None else "pruner"
        metrics: Metrics = {**(how or {}), "epochs": len(curve), "pruner": name,
                            "val_error": error,
                            "best_val_error": min(validated) if validated else None}
        self.store.finish(trial_id, TrialStatus.PRUNED, error=error, metrics=metrics,
                          curves=curve, message=f"pruned by the {name} pruner after epoch "
                          f"{len(curve)}", train_seconds=sum(r["seconds"] for r in curve))
        self._ended(trial_id, TrialStatus.PRUNED, error)
        self.view.move(TrialStatus.RUNNING, TrialStatus.PRUNED, None, trial_id)

    def _ended(self, trial_id: int, status: TrialStatus, error: float | None) -> None:
        self.finished[trial_id] = status
        self.curves.pop(trial_id, None)
        if self.pruner is not None:
            self.pruner.ended(trial_id, status, error)

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
        self._ended(res.trial_id, status, res.error)
        if rel is not None and res.error is not None:
            self.keeper.admit(res.trial_id, res.error, rel)
        self.view.move(TrialStatus.RUNNING, status,
                       res.error if status is TrialStatus.DONE else None, res.trial_id)

    def lost(self, trial_id: int, message: str) -> None:
        """running -> pending: the worker died and the trial will be tried again."""
        self.store.mark_pending(trial_id, message=message)
        self.curves.pop(trial_id, None)
        self.view.move(TrialStatus.RUNNING, TrialStatus.PENDING, None, trial_id)

    def crashed(self, trial_id: int, message: str) -> None:
        """running -> failed: out of retries."""
        if trial_id in self.finished:
            return
        # the epochs it got through stay readable (what it did before it failed)
        self.store.finish(trial_id, TrialStatus.FAILED, message=message,
                          curves=self.curves.get(trial_id) or None)
        self._ended(trial_id, TrialStatus.FAILED, None)
        self.view.move(TrialStatus.RUNNING, TrialStatus.FAILED, None, trial_id)
