"""Check a suggested value set against a space BEFORE anything trains, and make its NewTrial.

A suggestion is feasible when the sampler's one acceptance check (``nasx.sample.accept``) accepts
it: it decodes to a network within the counting limits and its complexity (flops, params, acts),
the family's derived quantities and its own values lie inside every constraint of the space.
Infeasible suggestions get a violation score > 0 (the sum of the relative distances to the
violated bounds; 1 for values that give no network) that refine hands to Optuna as a constraint
value; feasible ones score 0. The suggestion is decoded and counted once, for both.

A space's measured constraints (``latency_ms``, ``memory_mb``) are judged as the sampler judges
them (``nasx.sample.accept.MeasuredCheck``): only for a suggestion every analytic constraint accepts, through
the ``measure`` hook, by default the space's own (``nasx.measure.probe``), which measures each
architecture once per process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from nasx.sample import Acceptance, Verdict, bind
from nasx.sample.accept import MeasuredCheck, Measurer
from nasx.space import SearchSpace

__all__ = ["Verdict", "check", "measure"]

_CHECKS: dict[str, MeasuredCheck] = {}  # space sha256 -> its measured check with the default hook


def measured_check(space: SearchSpace, measure: Measurer | None = None) -> MeasuredCheck:
    """The measured constraints of ``space`` applied through ``measure`` (default: measured on
    this machine as the space's ``measure:`` block says, cached per space)."""
    if measure is not None or not space.measured:
        return MeasuredCheck(space, measure)
    if space.sha256 not in _CHECKS:
        from nasx.measure.probe import constraint_measurer  # torch: only for measured spaces

        _CHECKS[space.sha256] = MeasuredCheck(space, constraint_measurer(space))
    return _CHECKS[space.sha256]


def check(space: SearchSpace, values: Mapping[str, Any], hparams: Mapping[str, Any],
          seed: int, origin: str = "refine", measure: Measurer | None = None) -> Verdict:
    """The verdict on ``values`` against every constraint of ``space``, with the NewTrial when
    feasible (made as the sampler makes its trials: same fingerprints, so duplicates show).

    A feasible verdict of a space with measured constraints carries what was measured
    (``Verdict.measured``, also in ``quantities``)."""
    verdict = Acceptance(bind(space), measured_check(space, measure)).check(values)
    if not verdict.accepted:
        return verdict
    trial = verdict.trial_for(values, seed=int(seed), hparams=hparams, origin=origin)
    return dataclasses.replace(verdict, trial=trial)


def measure(space: SearchSpace, values: Mapping[str, Any],
            hook: Measurer | None = None) -> tuple[float, str, dict[str, float]]:
    """(violation, reason, quantities) of ``values``: 0 and "" when every constraint holds."""
    verdict = Acceptance(bind(space), measured_check(space, hook)).check(values)
    return verdict.violation, verdict.reason, dict(verdict.quantities)
