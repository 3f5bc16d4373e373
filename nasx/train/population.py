"""One recipe per population: which part of a recipe defines what a trial's error means.

A run's population is trained with one recipe, recorded at run level (store meta ``recipe``) by
the first ``train``/``run``. A trial belongs to the population when its recipe equals the run's on
every key that changes what the error measures: execution keys (device, threads, ...) and the keys
the space samples per trial (its ``train:`` distributions, stored in the trial's hparams) do not
count. Torch-free: the driver, refine, export and analysis all read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

from nasx.train.recipe import Recipe
from nasx.types import Scalar

# Keys that say where and how fast a trial runs, not what its error measures (results depend on
# them only through floating-point order).
EXECUTION_KEYS = frozenset(
    {"device", "threads", "compile", "channels_last", "amp", "data_dir", "eval_every",
     "deterministic"}
)
# Keys added after runs already existed whose absence means other training: a recipe without a
# val_fraction trained on every training image and selected on the test error.
ADDED_LATER: dict[str, Scalar] = {"val_fraction": None, "split_seed": None}
META_KEY = "recipe"  # run meta: the population's resolved recipe (without per-trial draws)


def identity(recipe: Mapping[str, Scalar], sampled: Iterable[str] = ()) -> dict[str, Scalar]:
    """The keys of ``recipe`` that define the population (execution and ``sampled`` keys dropped).

    Missing keys take the Recipe default, so a recipe stored by an older nasx compares equal to
    the same recipe stored now, except keys whose absence meant something else (ADDED_LATER).
    """
    skip = EXECUTION_KEYS | set(sampled)
    full = {**Recipe().to_dict(), **ADDED_LATER, **dict(recipe)}
    return {k: v for k, v in sorted(full.items()) if k not in skip}


def key(recipe: Mapping[str, Scalar], sampled: Iterable[str] = ()) -> str:
    """Short stable hash of :func:`identity` (names a population, e.g. in a study name)."""
    text = json.dumps(identity(recipe, sampled), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def same(a: Mapping[str, Scalar], b: Mapping[str, Scalar], sampled: Iterable[str] = ()) -> bool:
    """Whether two recipes train the same population."""
    keys = tuple(sampled)
    return identity(a, keys) == identity(b, keys)


def diff(old: Mapping[str, Scalar], new: Mapping[str, Scalar],
         sampled: Iterable[str] = ()) -> list[str]:
    """Human-readable differences, e.g. ``["epochs 2 -> 5"]`` (population keys only)."""
    keys = tuple(sampled)
    a, b = identity(old, keys), identity(new, keys)
    return [f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)]


def in_population(trial_recipe: Mapping[str, Scalar] | None, trial_hparams: Mapping[str, Scalar],
                  run_recipe: Mapping[str, Scalar] | None) -> bool:
    """Whether a trained trial belongs to the run's population.

    A run without a recorded recipe (made by an older nasx) counts every trial in, and so does a
    trial whose recipe was stored empty (written by a tool that did not record it); a trial that
    never started (no recipe) is not in the population yet.
    """
    if trial_recipe is None:
        return False
    if not run_recipe or not trial_recipe:
        return True
    return same(trial_recipe, run_recipe, trial_hparams.keys())
