"""What to train: select the unfinished trials of a run and turn each into a TrialJob."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from nasx.store import RunStore, TrialRecord
from nasx.train.job import TrialJob
from nasx.train.recipe import resolve_recipe

FINAL = ("done", "failed", "diverged")


def train_block(space_path: Path) -> dict[str, Any]:
    """Fixed values of the ``train:`` block of the run's copy of its space file."""
    try:
        from nasx.space import load_space
    except ImportError:  # space layer not installed yet: read the fixed scalars directly
        doc = yaml.safe_load(space_path.read_text()) or {}
        block = doc.get("train") or {}
        return {k: v for k, v in block.items() if not isinstance(v, dict)}
    return dict(load_space(space_path).train_fixed)


def select_trials(store: RunStore, trial_ids: Iterable[int] | None = None,
                  retry_failed: bool = False) -> list[TrialRecord]:
    """Trials still to train, in id order: pending ones (and failed ones when asked).

    ``done`` and ``diverged`` trials are never trained again. Call after ``requeue_stale``.
    """
    wanted = ["pending"] + (["failed"] if retry_failed else [])
    if trial_ids is None:
        chosen = store.trials(status=wanted)
    else:
        chosen = [t for t in (store.get(int(i)) for i in sorted(set(trial_ids)))
                  if t.status in wanted]
    for t in chosen:
        if t.status == "failed":
            store.mark_pending(t.id, message=f"retrying after: {t.message or 'failure'}")
    return chosen


def build_jobs(store: RunStore, trials: list[TrialRecord], overrides: dict[str, Any],
               return_weights: bool) -> dict[int, TrialJob]:
    """One TrialJob per trial, recipe = defaults <- space train: <- hparams <- overrides.

    Every recipe is resolved before anything runs, so a bad override fails fast and cleanly.
    """
    block = train_block(store.space_path)
    jobs: dict[int, TrialJob] = {}
    for t in trials:
        recipe = resolve_recipe(block, t.hparams, overrides, source=str(store.space_path))
        jobs[t.id] = TrialJob(trial_id=t.id, spec=t.spec, recipe=recipe.to_dict(), seed=t.seed,
                              return_weights=return_weights)
    return jobs
