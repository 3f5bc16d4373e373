"""What ``nasx refine`` is asked to do (:class:`RefineOptions`) and what it did (:class:`RefineSummary`).

Plain dataclasses without optuna, so the CLI can build and check them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

from nasx.errors import RefineError
from nasx.types import Scalar

# latency_ms / memory_mb are measured before training (nasx.refine.cost), the rest are counted
OBJECTIVES = ("error", "flops", "params", "acts", "latency_ms", "memory_mb")


@dataclass(frozen=True)
class RefineOptions:
    """What ``nasx refine`` was asked to do."""

    trials: int  # new trials to train
    sampler: str | None = None  # tpe (one objective) | nsga2 (several) by default
    objectives: tuple[str, ...] = ("error",)
    storage: str | None = None  # default sqlite:///<run>/optuna.db
    study: str | None = None  # default <run name>-<objectives>
    prune: str | None = None  # median | asha | hyperband (Optuna's pruners)
    batch: int = 1
    seed: int = 0
    max_suggestions: int | None = None  # default 20 * trials * oversample + 100
    prerank: str | None = None  # a proxy of nasx.proxies, params or flops (nasx.refine.prerank)
    oversample: int = 1  # K: suggestions scored per trained trial (>= 2 with prerank)

    def validate(self, executor: str) -> None:
        """RefineError naming the option that is wrong."""
        if self.trials < 1:
            raise RefineError(rule="must be >= 1", value=self.trials, where="command line",
                              key="trials")
        if self.batch < 1:
            raise RefineError(rule="must be >= 1", value=self.batch, where="command line",
                              key="batch")
        bad = [o for o in self.objectives if o not in OBJECTIVES]
        if bad or "error" not in self.objectives or len(set(self.objectives)) != len(
                self.objectives):
            raise RefineError(rule=f"must be error plus any of {', '.join(OBJECTIVES[1:])}, each "
                              "once",
                              value=self.objectives, shown=",".join(self.objectives),
                              where="command line", key="objectives")
        if self.prune and len(self.objectives) > 1:
            raise RefineError("Optuna prunes single-objective studies only; drop --prune or "
                              "use --objectives error", where="command line", key="prune")
        if self.prerank is not None or self.oversample != 1:
            from nasx.refine.prerank import check_prerank  # imports torch's proxies: only then

            check_prerank(self.prerank, self.oversample)


class BestTrial(TypedDict):
    """The study's best trial (the front's lowest error when several objectives)."""

    error: float
    number: int  # Optuna's trial number
    nasx_id: int | None  # the run's trial (a duplicate suggestion: the trial it repeats)


@dataclass
class RefineSummary:
    """What a refine call did."""

    study: str
    storage: str
    sampler: str
    objectives: tuple[str, ...]
    warm_started: int = 0
    warm_present: int = 0  # finished trials the study already held
    warm_skipped: int = 0  # finished trials the space's distributions cannot hold
    warm_other_recipe: int = 0  # finished trials trained with another recipe (kept out)
    resumed: int = 0  # trials of an interrupted call told now
    resumed_outcomes: dict[str, int] = field(default_factory=dict)  # done | failed | pruned -> n
    trained: list[int] = field(default_factory=list)  # store ids of new refine trials
    done: int = 0
    failed: int = 0
    pruned: int = 0
    infeasible: int = 0
    duplicates: int = 0
    suggestions: int = 0
    study_trials: int = 0
    best: BestTrial | None = None
    # the front: one row per trial, its objective values by name, ``number`` and ``nasx_id``
    pareto: list[dict[str, Scalar]] = field(default_factory=list)
    exhausted: bool = False  # stopped at max_suggestions before training enough
    measured_line: str | None = None  # what the measured objectives measured (nasx.refine.cost)
    measured: int = 0  # architectures measured for latency_ms / memory_mb (warm start included)
    warm_measured: int = 0  # finished trials without a stored figure, measured at warm start
    warm_stored: int = 0  # finished trials whose stored figure was used
    prerank: str | None = None  # the proxy that ranked the suggestions
    preranked: int = 0  # feasible suggestions the proxy ranked away (told FAIL, never trained)

    def lines(self) -> list[str]:
        """Human-readable summary."""
        out = [f"study '{self.study}' in {self.storage} (sampler {self.sampler}, objectives "
               f"{','.join(self.objectives)}; {self.study_trials} trials in the study)",
               f"warm start: added {self.warm_started} finished trials "
               f"({self.warm_present} already in the study, {self.warm_skipped} not representable"
               + (f", {self.warm_other_recipe} of another recipe kept out"
                  if self.warm_other_recipe else "") + ")",
               f"trained {len(self.trained)} new trials (done {self.done}, failed {self.failed}, "
               f"pruned {self.pruned}); skipped {self.infeasible} infeasible and "
               f"{self.duplicates} duplicate suggestions of {self.suggestions}"]
        if self.measured_line:
            out.append(self.measured_line)
        if self.prerank:
            out.append(f"preranked by {self.prerank}: {self.preranked} feasible suggestions ranked"
                       " away untrained (told FAIL to Optuna)")
        if self.resumed:
            how = ", ".join(f"{k} {v}" for k, v in sorted(self.resumed_outcomes.items()))
            out.append(f"resumed {self.resumed} trials of an interrupted call ({how})")
        if self.exhausted:
            out.append("stopped early: too many infeasible or duplicate suggestions")
        if self.best:
            out.append(f"best val error: {self.best['error']:.2f}% (trial {self.best['nasx_id']}, "
                       f"optuna #{self.best['number']})")
        if self.pareto:
            head = " vs ".join(self.objectives)
            out.append(f"pareto front ({head}):")
            out.extend("  trial {nasx_id}: ".format(**p) + ", ".join(
                f"{k} {p[k]:.4g}" for k in self.objectives) for p in self.pareto)
        return out
