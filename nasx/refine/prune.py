"""Optuna's pruners behind the executors' :class:`~nasx.execute.pruning.EpochPruner`.

Both executors report every validated epoch of a trial to the driver, which asks the Optuna
study's pruner (``trial.report`` then ``trial.should_prune``); a trial it stops ends ``pruned``
in the store and PRUNED in the study, so the study is the one record of what was pruned and why
(Optuna's own tools read it). :class:`StudyPruner` serves refine's study (refine tells Optuna
how each trial ended, from the store); :func:`train_pruning` gives ``nasx train/run --prune`` a
study of its own in the run's ``optuna.db`` (one Optuna trial per nasx trial, told as it ends).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import optuna
from optuna.trial import TrialState

from nasx.errors import RefineError
from nasx.store import RunStore, TrialStatus


def make_pruner(kind: str, epochs: int | None) -> optuna.pruners.BasePruner:
    """Optuna's pruner for a nasx name; ``epochs`` is the full budget (hyperband's max resource).

    median: stop a trial whose best error so far is worse than the median of the completed
    trials at the same epoch (after 5 completed trials). asha: asynchronous successive halving
    (Li et al. 2020) keeping the best third at each rung, the first rung at a quarter of the
    budget (rungs r, 3r, 9r, ... with r = max(1, epochs // 4)): on the short schedules nasx
    trains, the first epoch's validation error ranks models poorly (bench/RESULTS.md: rungs
    from epoch 1 lost 0.5% of best error on digits; from epoch 2 they matched within noise with
    half the epochs). hyperband: several successive-halving brackets from 1 up to ``epochs``.
    """
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5)
    if kind == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(1, (epochs or 4) // 4),
                                                      reduction_factor=3)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs or "auto",
                                              reduction_factor=3)
    raise RefineError(rule="must be median, asha or hyperband", value=kind, where="command line",
                      key="prune")


class StudyPruner:
    """An EpochPruner over running Optuna trials: nasx trial id -> its Optuna trial."""

    def __init__(self, name: str, trials: Mapping[int, optuna.trial.Trial],
                 reported: Mapping[int, Iterable[int]] | None = None) -> None:
        self.name = name
        self.trials = dict(trials)
        # steps the study already holds (a trial trained again after a killed driver reports the
        # same epochs again; Optuna would warn and ignore them)
        self.reported = {tid: set((reported or {}).get(tid, ())) for tid in self.trials}
        self.pruned: set[int] = set()

    def report(self, trial_id: int, epoch: int, value: float) -> bool:
        """Report the epoch's validation error; True when the study's pruner says stop."""
        trial = self.trials.get(trial_id)
        if trial is None:
            return False
        seen = self.reported.setdefault(trial_id, set())
        if epoch not in seen:
            trial.report(value, step=epoch)
            seen.add(epoch)
        if trial.should_prune():
            self.pruned.add(trial_id)
            return True
        return False

    def ended(self, trial_id: int, status: TrialStatus, error: float | None) -> None:
        """Nothing here: refine tells the study from the store after each round."""


def tell_status(study: optuna.Study, trial: optuna.trial.Trial | int, status: TrialStatus,
                error: float | None) -> None:
    """Tell Optuna how a trial ended: done -> COMPLETE, pruned -> PRUNED, else FAIL."""
    if status is TrialStatus.DONE and error is not None:
        study.tell(trial, error)
    elif status is TrialStatus.PRUNED:
        study.tell(trial, state=TrialState.PRUNED)
    else:
        study.tell(trial, state=TrialState.FAIL)


class _SessionPruner(StudyPruner):
    """``nasx train --prune``: asks an Optuna trial per nasx trial and tells it as it ends."""

    def __init__(self, name: str, study: optuna.Study, store: RunStore) -> None:
        super().__init__(name, {})
        self.study = study
        for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            tid = frozen.user_attrs.get("nasx_id")
            rec = store.get(int(tid)) if isinstance(tid, int) else None
            if rec is None:
                study.tell(frozen.number, state=TrialState.FAIL)
            elif rec.status in TrialStatus.final():  # ended while its driver was killed
                tell_status(study, frozen.number, rec.status, rec.error)
            else:  # trained again now: the same Optuna trial goes on
                self.trials[int(tid)] = optuna.trial.Trial(study, frozen._trial_id)
                self.reported[int(tid)] = set(frozen.intermediate_values)

    def _trial(self, trial_id: int) -> optuna.trial.Trial:
        if trial_id not in self.trials:
            trial = self.study.ask()
            trial.set_user_attr("nasx_id", trial_id)
            self.trials[trial_id] = trial
            self.reported[trial_id] = set()
        return self.trials[trial_id]

    def report(self, trial_id: int, epoch: int, value: float) -> bool:
        """Ask (once) the nasx trial's Optuna trial, then as :meth:`StudyPruner.report`."""
        self._trial(trial_id)
        return super().report(trial_id, epoch, value)

    def ended(self, trial_id: int, status: TrialStatus, error: float | None) -> None:
        """Tell the study how the trial ended (after the store holds it)."""
        tell_status(self.study, self._trial(trial_id), status, error)
        self.trials.pop(trial_id, None)


@contextmanager
def train_pruning(store: RunStore, kind: str) -> Iterator[StudyPruner]:
    """The pruner of ``nasx train/run --prune KIND``: a study ``<run>-prune-<kind>`` in the run.

    Its trials are the nasx trials trained under it (user attr ``nasx_id``); a second call, or
    one after a killed driver, continues it (trials the store finished meanwhile are told so).
    """
    recipe = store.run_recipe() or {}
    epochs = recipe.get("epochs")
    storage = f"sqlite:///{(store.root / 'optuna.db').resolve()}"
    name = f"{store.meta().get('name') or store.root.name}-prune-{kind}"
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per pruned trial
    try:
        study = optuna.create_study(storage=storage, study_name=name, direction="minimize",
                                    pruner=make_pruner(kind, epochs if isinstance(epochs, int)
                                                       else None), load_if_exists=True)
        yield _SessionPruner(kind, study, store)
    finally:
        optuna.logging.set_verbosity(level)
