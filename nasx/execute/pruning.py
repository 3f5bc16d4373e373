"""Early stopping seen from the executors: the pruner they consult, and when pruning is allowed.

The executors report every validated epoch of a trial to an :class:`EpochPruner` in the driver
(the inline executor between two epochs, the Ray executor from a Tune scheduler as each epoch's
result arrives) and abandon the trial when it says so; the Recorder then stores it ``pruned``.
The pruners themselves are Optuna's (``nasx.refine.prune``): this module stays Optuna-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from nasx.errors import TrainError
from nasx.store import Origin, TrialRecord, TrialStatus


class EpochPruner(Protocol):
    """What the driver asks after each validated epoch of a trial."""

    name: str  # median | asha | hyperband: said in the pruned trial's message

    def report(self, trial_id: int, epoch: int, value: float) -> bool:
        """Record ``value`` (validation error %) at ``epoch``; True when the trial should stop."""
        ...

    def ended(self, trial_id: int, status: TrialStatus, error: float | None) -> None:
        """The trial reached a final status (the store already holds it)."""
        ...


def population_pruning_error(what: str) -> TrainError:
    """The one-line refusal to prune ``what`` (e.g. "3 trials") of a sampled population."""
    return TrainError(
        f"pruning would stop {what} of the sampled population, whose EDF needs every model "
        "trained with the same budget; prune refine trials (nasx refine --prune) or pass "
        "--force-prune", where="command line", key="prune")


def check_prunable(trials: Iterable[TrialRecord], force: bool) -> None:
    """TrainError when pruning would stop trials of the sampled population (unless ``force``).

    A population sampled for an EDF must be trained with one budget: a pruned model has no
    full-budget error, and the survivors are a selection, not a random sample of the space.
    """
    sampled = [t.id for t in trials if t.origin is Origin.SAMPLED]
    if sampled and not force:
        raise population_pruning_error(f"{len(sampled)} trial(s)")
