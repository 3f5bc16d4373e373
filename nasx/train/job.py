"""What a worker receives and returns: typed, serialisable, torch-free.

The driver (execute layer) builds a :class:`TrialJob` per trial; ``nasx.train.trainer.train_trial``
turns it into a :class:`TrialResult`. Only the driver writes to the run store. The JSON form that
travels to a Ray worker is made in one place (``nasx.execute.worker.job_to_json`` /
``job_from_json``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TypeAlias, TypedDict, TypeVar

from nasx.arch.spec import ArchSpec
from nasx.status import TrialStatus
from nasx.train.recipe import Recipe
from nasx.types import Scalar

# A trial's final measurements (errors, losses, images/s, and how it ran: seed, threads, executor,
# ...): flat key -> scalar, stored as the metrics cell. The keys are open: a trial function or an
# executor may add its own.
Metrics: TypeAlias = dict[str, Scalar]


class EpochRecord(TypedDict):
    """One epoch of a training curve (None where not evaluated; the test pair only at the end)."""

    epoch: int
    train_loss: float | None  # None: the loss was not finite
    train_error: float
    val_loss: float | None
    val_error: float | None
    test_loss: float | None
    test_error: float | None
    lr: float
    seconds: float


@dataclass(frozen=True)
class TrialJob:
    """One trial to train: its architecture, its resolved recipe, its seed."""

    trial_id: int
    spec: ArchSpec
    recipe: Recipe
    seed: int
    return_weights: bool = False  # ship the trained weights back (safetensors bytes)


@dataclass
class TrialResult:
    """What came of a trial.

    ``error`` is the selection error: the final *validation* top-1 error in percent (what
    pruning, narrowing, refinement and best-model choice compare; the store's ``error`` column).
    The test error of the final model is ``metrics["test_error"]`` (reported, never selected on),
    beside ``metrics["val_error"]`` (== ``error``) and ``metrics["train_error"]``.
    """

    trial_id: int
    status: TrialStatus  # one of TrialStatus.final() (a trainer never prunes: the driver does)
    error: float | None = None
    metrics: Metrics = field(default_factory=dict)
    curves: list[EpochRecord] = field(default_factory=list)  # one record per epoch
    device: str = ""
    host: str = ""
    seconds: float = 0.0
    message: str | None = None
    weights: bytes | None = None  # safetensors.torch.save(state_dict) when asked


# ``on_epoch(epoch, record) -> False`` stops a training after that epoch
OnEpoch = Callable[[int, EpochRecord], bool]
R = TypeVar("R")


def step_through(steps: Generator[EpochRecord, bool | None, R],
                 stop_after: Callable[[EpochRecord], bool], *, close: bool = False) -> R | None:
    """Run a step generator, sending back ``stop_after(record)`` after each record: the one loop
    over a training's steps. A stop lets the steps finish as they see fit, or with ``close``
    closes them and returns None (nothing more is wanted: no final test of a pruned model)."""
    stop: bool | None = None
    while True:
        try:
            record = steps.send(stop)
        except StopIteration as end:
            return end.value  # type: ignore[no-any-return]
        stop = bool(stop_after(record))
        if stop and close:
            steps.close()
            return None


def drive(steps: Generator[EpochRecord, bool | None, R], on_epoch: OnEpoch | None = None) -> R:
    """Run a step generator to its end; ``on_epoch(epoch, record)`` returning False stops it.

    ``on_epoch`` sees every validated epoch's record (``val_error`` set, the test pair None).
    """
    def stop_after(record: EpochRecord) -> bool:
        return (on_epoch is not None and record.get("val_error") is not None
                and on_epoch(int(record["epoch"]), record) is False)

    return step_through(steps, stop_after)  # type: ignore[return-value]  # never closed: an R
