"""Which trial to export: an explicit id, the lowest error, or the knee of the (error, flops) front.

Torch-free: it reads only the run store.
"""

from __future__ import annotations

from dataclasses import dataclass

from nasx.errors import ExportError, StoreError
from nasx.store.run_store import RunStore, TrialRecord

OBJECTIVES = ("error", "pareto")


@dataclass(frozen=True)
class Choice:
    """The trial picked for export and why (recorded in provenance.json)."""

    trial: TrialRecord
    rule: str
    objective: str | None = None  # None when the trial was named by id
    front: tuple[int, ...] = ()  # ids on the Pareto front (objective "pareto")


def _done(store: RunStore) -> list[TrialRecord]:
    done = [t for t in store.trials("done") if t.error is not None]
    if not done:
        raise ExportError("the run has no finished trial with an error to choose from",
                          file=str(store.root), key="--best")
    return done


def pareto_front(trials: list[TrialRecord]) -> list[TrialRecord]:
    """Trials no other trial beats on both error and flops, by increasing flops."""
    front: list[TrialRecord] = []
    best_error = float("inf")
    # Sorted by flops (then error): a trial is on the front when it beats every cheaper error.
    for t in sorted(trials, key=lambda t: (t.flops, t.error, t.id)):
        assert t.error is not None  # _done() keeps only trials with an error
        if t.error < best_error:
            front.append(t)
            best_error = t.error
    return front


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


def choose(store: RunStore, trial_id: int | None, *, best: bool, objective: str) -> Choice:
    """The trial to export; ExportError for an unknown id, a bad objective or no candidate."""
    if (trial_id is None) == (not best):
        raise ExportError("give exactly one of a trial id or best=True", key="--trial/--best")
    if trial_id is not None:
        try:
            return Choice(store.get(trial_id), f"trial {trial_id} as asked")
        except StoreError:
            raise ExportError(f"no trial with id {trial_id} in this run", file=str(store.root),
                              key="--trial") from None
    if objective == "error":
        t = min(_done(store), key=lambda t: (t.error, t.flops, t.id))
        return Choice(t, "lowest test error among done trials (ties: fewer flops, lower id)",
                      "error")
    if objective == "pareto":
        front = pareto_front(_done(store))
        return Choice(knee(front), "knee of the (error, flops) Pareto front of done trials "
                      "(farthest from the chord between its ends; lowest error when < 3 points)",
                      "pareto", tuple(t.id for t in front))
    raise ExportError(f"must be one of {', '.join(OBJECTIVES)}; got {objective!r}",
                      key="--objective")
