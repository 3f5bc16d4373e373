"""``nasx fidelity``: retrain K models of a run's finished sampled population with other seeds
and/or a longer schedule, into the same store (origin ``fidelity``), resumably.

The K models are a seeded random subset of the finished sampled population, not its best: the
question is the population's noise, not the winners'. Each retrain is a trial of its own, with
its own fingerprint (the original's plus ``:seed=N`` or ``:epochs=E``) and ``repeat_of`` naming
the trial it repeats; ``repeat_epochs`` holds the longer schedule (None: the population's recipe).
The trials are inserted first (idempotently: what is already in the store is not added again),
then trained by :func:`~nasx.execute.train_run`, so a killed call resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

from nasx.errors import TrainError
from nasx.execute.driver import driver_lock, train_run
from nasx.execute.executors import executor_session
from nasx.execute.options import ExecOptions
from nasx.execute.worker import TrialFn
from nasx.store import NewTrial, Origin, RunStore, TrialRecord, TrialStatus
from nasx.train.recipe import MAX_EPOCHS

SEED_RANGE = 2**31 - 1  # trial seeds of the sampler lie in [0, 2**31 - 1)
MAX_SEEDS = 100
WHERE = "command line"


@dataclass(frozen=True)
class FidelityPlan:
    """What to retrain: ``k`` models, each ``seeds - 1`` more times and/or for ``epochs_long``."""

    seeds: int = 3  # runs per model, the original included (1: no seed repeats)
    k: int = 8
    epochs_long: int | None = None
    seed: int = 0  # of the subset and of the repeat seeds

    def __post_init__(self) -> None:
        rules = [
            ("--seeds", 1 <= self.seeds <= MAX_SEEDS, f"must be in [1, {MAX_SEEDS}]", self.seeds),
            ("--k", self.k >= 1, "must be >= 1", self.k),
            ("--epochs-long", self.epochs_long is None or 1 <= self.epochs_long <= MAX_EPOCHS,
             f"must be in [1, {MAX_EPOCHS}]", self.epochs_long),
            ("--seed", self.seed >= 0, "must be >= 0", self.seed),
        ]
        for key, ok, rule, value in rules:
            if not ok:
                raise TrainError(rule=rule, value=value, where=WHERE, key=key)
        if self.seeds == 1 and self.epochs_long is None:
            raise TrainError("nothing to retrain: give --seeds 2 or more, or --epochs-long",
                             where=WHERE, key="--seeds")


@dataclass(frozen=True)
class FidelityOutcome:
    """What a call did: the models repeated, the trials it added, and the store's counts."""

    models: list[int]  # ids of the repeated trials, in the order chosen
    population: int  # finished sampled trials they were drawn from
    added: list[int]  # fidelity trials inserted by this call
    planned: int  # fidelity trials of the plan (added or already there)
    counts: dict[str, int]  # the run's fidelity trials by status, after training


def _rank(seed: int, fingerprint: str) -> str:
    """A trial's place in the seeded random order (stable as the population grows)."""
    return hashlib.sha256(f"nasx-fidelity:{seed}:{fingerprint}".encode()).hexdigest()


def choose_models(population: list[TrialRecord], repeated: set[int], k: int,
                  seed: int) -> list[TrialRecord]:
    """``k`` trials of the population in a seeded random order; those already repeated first.

    The order is a hash of the seed and each fingerprint, so a trial keeps its place when the
    population grows, and a later call (another --k, more trained trials) keeps the models
    already repeated instead of scattering its retrains over new ones.
    """
    return sorted(population, key=lambda t: (t.id not in repeated, _rank(seed, t.fingerprint)))[:k]


def repeat_seeds(t: TrialRecord, n: int, seed: int) -> list[int]:
    """``n`` seeds for retrains of ``t``: derived from (seed, fingerprint, index), none equal to
    the original's or to each other; the first ones do not depend on ``n``."""
    out: list[int] = []
    i = 0
    while len(out) < n:
        i += 1
        digest = hashlib.sha256(f"nasx-fidelity-seed:{seed}:{t.fingerprint}:{i}".encode())
        value = int.from_bytes(digest.digest()[:8], "big") % SEED_RANGE
        if value != t.seed and value not in out:
            out.append(value)
    return out


def _retrain(t: TrialRecord, fingerprint: str, seed: int, epochs: int | None) -> NewTrial:
    return NewTrial(fingerprint=fingerprint, values=dict(t.values), spec=t.spec, flops=t.flops,
                    params=t.params, acts=t.acts, seed=seed, hparams=dict(t.hparams),
                    origin=Origin.FIDELITY, repeat_of=t.id, repeat_epochs=epochs)


def plan_trials(models: Iterable[TrialRecord], plan: FidelityPlan) -> list[NewTrial]:
    """Every retrain of the plan: seed repeats (population recipe), then the long schedule."""
    out: list[NewTrial] = []
    for t in models:
        for s in repeat_seeds(t, plan.seeds - 1, plan.seed):
            out.append(_retrain(t, f"{t.fingerprint}:seed={s}", s, None))
        if plan.epochs_long is not None:
            # the original's seed: short and long differ in their schedule only
            out.append(_retrain(t, f"{t.fingerprint}:epochs={plan.epochs_long}", t.seed,
                                plan.epochs_long))
    return out


def _population_epochs(store: RunStore) -> int | None:
    recipe = store.run_recipe()
    value = (recipe or {}).get("epochs")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def insert_plan(store: RunStore, plan: FidelityPlan) -> tuple[list[int], int, list[int], int]:
    """Insert the plan's trials not yet in the store: (models, population size, added ids,
    planned). A TrainError when the run has no finished sampled trial or E is no longer."""
    population = store.finished().trials
    if not population:
        raise TrainError("the run has no finished sampled trial to retrain; train it first"
                         " (nasx train)", where=str(store.root))
    short = _population_epochs(store)
    if plan.epochs_long is not None and short is not None and plan.epochs_long <= short:
        raise TrainError(rule=f"must be longer than the population's {short} epochs",
                         value=plan.epochs_long, where=WHERE, key="--epochs-long")
    fidelity = store.trials_of(Origin.FIDELITY)
    repeated = {t.repeat_of for t in fidelity if t.repeat_of is not None}
    models = choose_models(population, repeated, plan.k, plan.seed)
    planned = plan_trials(models, plan)
    known = store.fingerprints()
    added = store.add_trials([t for t in planned if t.fingerprint not in known])
    return [t.id for t in models], len(population), added, len(planned)


def _groups(store: RunStore) -> dict[int | None, list[int]]:
    """The run's unfinished fidelity trials by schedule (None: the population's recipe)."""
    out: dict[int | None, list[int]] = {}
    for t in store.trials_of(Origin.FIDELITY):
        if t.status in (TrialStatus.PENDING, TrialStatus.RUNNING, TrialStatus.FAILED):
            out.setdefault(t.repeat_epochs, []).append(t.id)
    return out


def _one_ray(opts: ExecOptions, groups: int) -> contextlib.AbstractContextManager[None]:
    """One executor session (one Ray) for every group of a call (train_run joins a Ray already
    running)."""
    if groups < 2:
        return contextlib.nullcontext()
    return executor_session(opts)


def run_fidelity(store: RunStore, opts: ExecOptions, plan: FidelityPlan,
                 trial_fn: TrialFn | str | None = None) -> FidelityOutcome:
    """Insert the plan's retrains and train every unfinished fidelity trial of the run.

    Holds the driver lock for the whole call. Seed repeats train with the population's recipe;
    the long ones with it and ``epochs = E``: another recipe on purpose, kept out of the
    population by their origin (so the driver's "recipe differs" note is not printed).
    Unfinished retrains of an earlier call (another plan) are trained too, each with its own
    schedule. Weights are not kept: a retrain is a measurement, not a model to export.
    """
    opts = replace(opts, keep_weights=0)
    with driver_lock(store):
        models, population, added, planned = insert_plan(store, plan)
        groups = _groups(store)
        with _one_ray(opts, len(groups)):
            for epochs in sorted(groups, key=lambda e: (e is not None, e or 0)):
                overrides = dict(opts.overrides)
                if epochs is not None:
                    overrides["epochs"] = epochs
                train_run(store, replace(opts, overrides=overrides), trial_ids=groups[epochs],
                          trial_fn=trial_fn, locked=True)
        counts = dict.fromkeys((s.value for s in TrialStatus), 0)
        for t in store.trials_of(Origin.FIDELITY):
            counts[t.status.value] += 1
    return FidelityOutcome(models=models, population=population, added=added, planned=planned,
                           counts=counts)
