"""What a worker receives and returns: typed, serialisable, torch-free.

The driver (execute layer) builds a :class:`TrialJob` per trial; ``nasx.train.trainer.train_trial``
turns it into a :class:`TrialResult`. Only the driver writes to the run store. The JSON form that
travels to a Ray worker is made in one place (``nasx.execute.worker.job_to_json`` /
``job_from_json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from nasx.arch.spec import ArchSpec
from nasx.train.recipe import Recipe

FinalStatus = Literal["done", "failed", "diverged"]


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
    status: FinalStatus
    error: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    curves: list[dict[str, Any]] = field(default_factory=list)  # one dict per epoch
    device: str = ""
    host: str = ""
    seconds: float = 0.0
    message: str | None = None
    weights: bytes | None = None  # safetensors.torch.save(state_dict) when asked
