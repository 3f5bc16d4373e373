"""The finished population: the one definition every selection and summary of a run starts from.

A trial is *finished* when it is ``done`` with a finite error; it belongs to the *population*
when its recipe is the run's (:func:`nasx.train.population.in_population`, the one rule). The
default asks what the design-space analyses assume, a random sample of the space: origin
``sampled``, trials a pruner stopped early left out. Each caller that needs a variant says so by
a parameter (refine's warm start and export take every origin; the driver's best and ``ls`` any
recipe), never by a filter of its own. Retrains by ``nasx fidelity`` (origin ``fidelity``) are
never models of the search: only a caller that names that origin gets them.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from nasx.store.records import Origin, TrialRecord, TrialStatus
from nasx.train import population
from nasx.types import JSONValue, Scalar

# The origins of the models a search explored (what ``origins=None`` means).
SEARCH_ORIGINS = tuple(o for o in Origin if o is not Origin.FIDELITY)


def is_finished(t: TrialRecord) -> bool:
    """``done`` with a finite error."""
    return (t.status is TrialStatus.DONE and t.error is not None
            and math.isfinite(t.error))


class PopulationRule:
    """:func:`population.in_population` against one run recipe, cached per distinct recipe.

    Trials of one population differ only in their sampled hparams, so the rule is evaluated a
    handful of times per run instead of once per trial.
    """

    def __init__(self, run_recipe: Mapping[str, Scalar] | None) -> None:
        self.run_recipe = run_recipe
        self._cache: dict[tuple[Any, ...], bool] = {}

    def __call__(self, stored: Mapping[str, Scalar] | None, hparams: Mapping[str, Scalar]) -> bool:
        """Whether a trial with this stored recipe and these hparams is of the population."""
        if not isinstance(stored, Mapping):
            return False
        # repr: recipe values are JSON scalars, and repr keeps 1 and True apart.
        key = (tuple(sorted((k, repr(v)) for k, v in stored.items() if k not in hparams)),
               tuple(sorted(hparams)))
        if key not in self._cache:
            self._cache[key] = population.in_population(stored, hparams, self.run_recipe)
        return self._cache[key]


@dataclass(frozen=True)
class Finished:
    """What :func:`finished_population` found, in id order.

    ``trials``: the finished population as asked. ``other_recipe``: finished trials of the asked
    origins trained with another recipe (kept apart; empty when ``any_recipe``).
    """

    trials: list[TrialRecord]
    other_recipe: list[TrialRecord]
    run_recipe: dict[str, Scalar] | None

    @property
    def ids(self) -> set[int]:
        """Ids of the population's trials."""
        return {t.id for t in self.trials}


def run_recipe_of(meta: Mapping[str, JSONValue]) -> dict[str, Scalar] | None:
    """The run's population recipe from its meta (None for runs that recorded none)."""
    raw = meta.get(population.META_KEY)
    # nasx records a recipe's flat dict (Recipe.to_dict); its values are checked where compared
    return cast("dict[str, Scalar]", dict(raw)) if isinstance(raw, Mapping) else None


def finished_population(trials: Iterable[TrialRecord], run_recipe: Mapping[str, Scalar] | None, *,
                        origins: Collection[Origin] | None = (Origin.SAMPLED,),
                        any_recipe: bool = False,
                        stopped_early: bool = False) -> Finished:
    """The finished population among ``trials``.

    ``origins``: the origins to keep (None: every origin of the search, sampled and refine;
    ``fidelity`` repeats of a trial only when named, since they are measurements of noise, not
    models); ``any_recipe``: keep trials of every recipe; ``stopped_early``: keep trials a pruner
    stopped early.
    """
    if origins is None:
        origins = SEARCH_ORIGINS
    rule = PopulationRule(run_recipe)
    keep: list[TrialRecord] = []
    other: list[TrialRecord] = []
    for t in trials:
        if not is_finished(t) or t.origin not in origins:
            continue
        if t.stopped_early and not stopped_early:
            continue
        if any_recipe or rule(t.stored_recipe, t.hparams):
            keep.append(t)
        else:
            other.append(t)
    return Finished(trials=keep, other_recipe=other,
                    run_recipe=None if run_recipe is None else dict(run_recipe))
