"""Check a suggested value set against a space BEFORE anything trains, and make its NewTrial.

A suggestion is feasible when the sampler's one acceptance check (``nasx.sample.accept``) accepts
it: it decodes to a network within the counting limits and its complexity (flops, params, acts),
the family's derived quantities and its own values lie inside every constraint of the space.
Infeasible suggestions get a violation score > 0 (the sum of the relative distances to the
violated bounds; 1 for values that give no network) that refine hands to Optuna as a constraint
value; feasible ones score 0. The suggestion is decoded and counted once, for both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from nasx.sample import Acceptance, Verdict, bind
from nasx.space import SearchSpace

__all__ = ["Verdict", "check", "measure"]


def check(space: SearchSpace, values: Mapping[str, Any], hparams: Mapping[str, Any],
          seed: int, origin: str = "refine") -> Verdict:
    """The verdict on ``values`` against every constraint of ``space``, with the NewTrial when
    feasible (made as the sampler makes its trials: same fingerprints, so duplicates show)."""
    verdict = Acceptance(bind(space)).check(values)
    if not verdict.accepted:
        return verdict
    trial = verdict.trial_for(values, seed=int(seed), hparams=hparams, origin=origin)
    return dataclasses.replace(verdict, trial=trial)


def measure(space: SearchSpace, values: Mapping[str, Any]) -> tuple[float, str, dict[str, float]]:
    """(violation, reason, quantities) of ``values``: 0 and "" when every constraint holds."""
    verdict = Acceptance(bind(space)).check(values)
    return verdict.violation, verdict.reason, dict(verdict.quantities)
