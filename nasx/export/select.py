"""Which trial to export: an explicit id, the lowest error, or the knee of the (error, flops) front.

Selection uses the store's ``error`` column, the validation error (runs made before validation
splits hold the test error there; the choice then says so). Only trials of the run's population
recipe compete, and, unless the export trains the chosen trial itself, only trials whose kept
weights can produce the asked formats. Torch-free: it reads only the run store.
"""

from __future__ import annotations

from dataclasses import dataclass

from nasx.errors import ExportError, StoreError
from nasx.pareto import pareto_front as front_of
from nasx.store.run_store import RunStore, TrialRecord
from nasx.train import population
from nasx.train.job import Metrics

OBJECTIVES = ("error", "pareto")
# Metric keys of the three parts of a data set (what the trainer stores per trial).
SPLIT_KEYS = {"validation": "val_error", "test": "test_error", "train": "train_error"}


@dataclass(frozen=True)
class Choice:
    """The trial picked for export and why (recorded in provenance.json)."""

    trial: TrialRecord
    rule: str
    objective: str | None = None  # None when the trial was named by id
    front: tuple[int, ...] = ()  # ids on the Pareto front (objective "pareto")
    selected_on: str | None = None  # "validation" or "test" (older runs); None when named by id
    left_out: tuple[str, ...] = ()  # why candidates did not compete, one line each
    candidates: int = 0  # trials that competed


def split_errors(t: TrialRecord) -> dict[str, float | None]:
    """The trial's validation, test and train error in percent (None where not measured).

    A trial of a run made before validation splits holds the test error in ``error`` and no
    ``val_error``: its validation error is None.
    """
    m: Metrics = t.metrics or {}
    out = {split: (float(v) if isinstance(v := m.get(k), int | float) else None)
           for split, k in SPLIT_KEYS.items()}
    if out["test"] is None and "val_error" not in m and t.error is not None:
        out["test"] = float(t.error)
    return out


def has_weights(store: RunStore, t: TrialRecord) -> bool:
    """Whether the run kept a weights file for the trial and it is still there."""
    return bool(t.weights) and (store.root / str(t.weights)).is_file()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def candidates(store: RunStore, *, needs_weights: bool
               ) -> tuple[list[TrialRecord], str, list[str]]:
    """(competing trials, the error they are ranked on, why others were left out).

    Done trials with an error, of the run's population recipe, with a validation error (when any
    trial has one) and, when ``needs_weights``, with their kept weights on disk.
    """
    # the store's query: every origin, pruned trials included, other recipes counted apart
    finished = store.finished(origins=None, stopped_early=True)
    pool, others = finished.trials, finished.other_recipe
    if not pool and not others:
        raise ExportError("the run has no finished trial with an error to choose from",
                          where=str(store.root), key="--best")
    left: list[str] = []
    if others:
        other = others[0]
        what = ", ".join(population.diff(finished.run_recipe or {}, other.stored_recipe or {},
                                         other.hparams))
        left.append(f"{_plural(len(others), 'trial')} trained with another recipe than "
                    f"the run's population ({what or 'recipe differs'}) left out")
    with_val = [t for t in pool if split_errors(t)["validation"] is not None]
    selected_on = "validation" if with_val else "test"
    if with_val and len(with_val) < len(pool):
        left.append(f"{_plural(len(pool) - len(with_val), 'trial')} without a validation error "
                    "(trained before validation splits) left out")
        pool = with_val
    if needs_weights:
        kept = [t for t in pool if has_weights(store, t)]
        if len(kept) < len(pool):
            top = min(pool, key=lambda t: (t.error, t.flops, t.id))
            among = "" if top in kept else f", trial {top.id} of the lowest error among them"
            left.append(f"{_plural(len(pool) - len(kept), 'trial')} without kept weights left "
                        f"out{among} (--train considers them and trains the chosen one)")
        pool = kept
    if not pool:
        raise ExportError("no trial can be chosen: " + "; ".join(left or ["none finished"]),
                          where=str(store.root), key="--best")
    return pool, selected_on, left


def pareto_front(trials: list[TrialRecord]) -> list[TrialRecord]:
    """Trials no other trial beats on both error and flops, by increasing flops."""
    # candidates() keeps only trials with an error
    return front_of(trials, lambda t: (t.flops, float(t.error or 0.0), t.id))


def knee(front: list[TrialRecord]) -> TrialRecord:
    """The front point farthest from the chord joining its two ends (both axes scaled to [0, 1]).

    With fewer than three points there is no knee and the lowest error wins.
    """
    lowest = min(front, key=lambda t: (t.error, t.flops, t.id))
    if len(front) < 3:
        return lowest
    f0, f1 = front[0].flops, front[-1].flops
    e0, e1 = float(front[0].error or 0), float(front[-1].error or 0)

    def distance(t: TrialRecord) -> float:
        x = (t.flops - f0) / ((f1 - f0) or 1)
        y = (float(t.error or 0) - e1) / ((e0 - e1) or 1)
        # The chord runs from (0, 1) to (1, 0): distance is proportional to 1 - x - y.
        return 1.0 - x - y

    best = max(front, key=lambda t: (distance(t), -float(t.error or 0), -t.id))
    return best if distance(best) > 1e-12 else lowest


def choose(store: RunStore, trial_id: int | None, *, best: bool, objective: str,
           needs_weights: bool = False) -> Choice:
    """The trial to export; ExportError for an unknown id, a bad objective or no candidate.

    ``needs_weights``: the asked formats need weights and the export will not train, so only
    trials with kept weights compete.
    """
    if (trial_id is None) == (not best):
        raise ExportError("give exactly one of a trial id or best=True", key="--trial/--best")
    if trial_id is not None:
        try:
            return Choice(store.get(trial_id), f"trial {trial_id} as asked")
        except StoreError:
            raise ExportError(f"no trial with id {trial_id} in this run", where=str(store.root),
                              key="--trial") from None
    if objective not in OBJECTIVES:
        raise ExportError(rule=f"must be one of {', '.join(OBJECTIVES)}", value=objective,
                          key="--objective")
    pool, on, left = candidates(store, needs_weights=needs_weights)
    among = (f"among {_plural(len(pool), 'done trial')} of the run's population recipe"
             + (" with kept weights" if needs_weights else ""))
    if objective == "error":
        t = min(pool, key=lambda t: (t.error, t.flops, t.id))
        return Choice(t, f"lowest {on} error {among} (ties: fewer flops, lower id)", "error",
                      selected_on=on, left_out=tuple(left), candidates=len(pool))
    front = pareto_front(pool)
    return Choice(knee(front), f"knee of the ({on} error, flops) Pareto front {among} (farthest "
                  "from the chord between its ends; lowest error when < 3 points)", "pareto",
                  tuple(t.id for t in front), selected_on=on, left_out=tuple(left),
                  candidates=len(pool))
