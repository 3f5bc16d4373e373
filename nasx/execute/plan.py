"""What to train: select the unfinished trials of a run and turn each into a TrialJob."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nasx.store import Origin, RunStore, TrialRecord, TrialStatus
from nasx.train import population
from nasx.train.job import TrialJob
from nasx.train.recipe import space_recipe
from nasx.types import Scalar


@dataclass(frozen=True)
class RecipeChoice:
    """The recipe a training call uses, decided against the run's population recipe.

    ``overrides`` are the effective command-line overrides: the user's, plus every population key
    the user did not set that the population's recipe holds (so a later ``train``/``refine`` trains
    like the first one). ``differs`` lists what the user changed on purpose ("epochs 2 -> 5");
    trials trained so are kept apart from the population.
    """

    overrides: dict[str, Scalar]
    recipe: dict[str, Scalar]  # resolved without per-trial draws
    population: dict[str, Scalar] | None  # the run's recorded recipe; None before the first train
    sampled: tuple[str, ...]  # recipe keys the space draws per trial (never compared)
    differs: tuple[str, ...]

    def note(self) -> str | None:
        """The one line telling a user that this call leaves the population's recipe."""
        if not self.differs:
            return None
        return ("recipe differs from the run's population (" + ", ".join(self.differs)
                + "): these trials are kept apart from its EDFs, warm start and best-model choice")


def population_recipe(store: RunStore) -> dict[str, Scalar] | None:
    """The run's population recipe: recorded meta, else (older runs) the first trained trial's."""
    recorded = store.run_recipe()
    if recorded is not None:
        return recorded
    # a recipe stored empty (by a tool that did not record it) says nothing about the population
    started = [t for t in store.trials() if t.stored_recipe and t.started_at is not None]
    if not started:
        return None
    # as stored: a recipe of an older nasx lacks the keys added since (another population)
    return dict(min(started, key=lambda t: (t.started_at, t.id)).stored_recipe or {})


def choose_recipe(store: RunStore, overrides: Mapping[str, Scalar]) -> RecipeChoice:
    """Resolve a call's recipe against the run's population (validated; nothing written)."""
    space = store.space()
    sampled = tuple(sorted(space.train_dists))
    source = str(store.space_path)
    asked = space_recipe(space, None, overrides, source=source).to_dict()
    pop = population_recipe(store)
    effective = dict(overrides)
    if pop is not None:
        inherit = population.identity(pop, sampled)
        effective.update({k: v for k, v in inherit.items()
                          if k not in overrides and asked.get(k) != v})
    recipe = space_recipe(space, None, effective, source=source).to_dict()
    differs = tuple(population.diff(pop, recipe, sampled)) if pop is not None else ()
    return RecipeChoice(overrides=effective, recipe=recipe, population=pop, sampled=sampled,
                        differs=differs)


def record_population(store: RunStore, choice: RecipeChoice) -> None:
    """Record the population's recipe at the first training of a run (older runs: inferred)."""
    if store.meta().get(population.META_KEY) is None:
        store.set_meta(**{population.META_KEY: choice.population or choice.recipe})


def select_trials(store: RunStore, trial_ids: Iterable[int] | None = None,
                  retry_failed: bool = False) -> list[TrialRecord]:
    """Trials still to train, in id order: pending ones (and failed ones when asked).

    ``done``, ``diverged`` and ``pruned`` trials are never trained again; without ``trial_ids``,
    fidelity retrains are left to ``nasx fidelity``. Call after ``requeue_stale``; changes
    nothing (:func:`reopen_failed` puts the chosen failed ones back to pending).
    """
    wanted = [TrialStatus.PENDING] + ([TrialStatus.FAILED] if retry_failed else [])
    if trial_ids is None:
        # a fidelity retrain has its own schedule (repeat_epochs): only `nasx fidelity` trains it
        chosen = [t for t in store.trials(status=wanted) if t.origin is not Origin.FIDELITY]
    else:
        chosen = [t for t in (store.get(int(i)) for i in sorted(set(trial_ids)))
                  if t.status in wanted]
    return chosen


def reopen_failed(store: RunStore, chosen: list[TrialRecord]) -> None:
    """failed -> pending for the chosen trials that failed before (``--retry-failed``)."""
    for t in chosen:
        if t.status is TrialStatus.FAILED:
            store.mark_pending(t.id, message=f"retrying after: {t.message or 'failure'}")


def build_jobs(store: RunStore, trials: list[TrialRecord], overrides: Mapping[str, Scalar],
               return_weights: bool) -> dict[int, TrialJob]:
    """One TrialJob per trial, recipe = defaults <- space train: <- hparams <- overrides.

    Every recipe is resolved before anything runs, so a bad override fails fast and cleanly.
    """
    space = store.space()
    jobs: dict[int, TrialJob] = {}
    for t in trials:
        recipe = space_recipe(space, t.hparams, overrides, source=str(store.space_path))
        jobs[t.id] = TrialJob(trial_id=t.id, spec=t.spec, recipe=recipe, seed=t.seed,
                              return_weights=return_weights)
    return jobs
