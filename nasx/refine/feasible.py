"""Check a suggested value set against a space BEFORE anything trains, and make its NewTrial.

A suggestion is feasible when the sampler's one acceptance check (``nasx.sample.accept``) accepts
it: it decodes to a network within the counting limits and its complexity (flops, params, acts),
the family's derived quantities and its own values lie inside every constraint of the space.
Infeasible suggestions get a violation score > 0 (the sum of the relative distances to the
violated bounds; 1 for values that give no network) that refine hands to Optuna as a constraint
value; feasible ones score 0. The suggestion is decoded and counted once, for both.

A space's measured constraints (``latency_ms``, ``memory_mb``) are judged as the sampler judges
them (``nasx.sample.accept.MeasuredCheck``): only for a suggestion every analytic constraint accepts, through
the ``measure`` hook, by default the space's own (``nasx.measure.probe``). A :class:`Feasibility`
is built once where the space is loaded (one refine call) and checks every suggestion of it: it
owns the acceptance check and the hook, so each architecture is measured once per call, and no
state outlives its owner.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from nasx.sample import Acceptance, Verdict, bind
from nasx.sample.accept import MeasuredCheck, Measurer
from nasx.space import SearchSpace

__all__ = ["Feasibility", "Verdict"]


class Feasibility:
    """The acceptance check of one space with its measured constraints' hook (default: measured on
    this machine as the space's ``measure:`` block says, each architecture once)."""

    def __init__(self, space: SearchSpace, measure: Measurer | None = None) -> None:
        if measure is None and space.measured:
            from nasx.measure.probe import constraint_measurer  # torch: only for measured spaces

            measure = constraint_measurer(space)
        self.measured = MeasuredCheck(space, measure)
        self._acceptance = Acceptance(bind(space), self.measured)

    def check(self, values: Mapping[str, Any], hparams: Mapping[str, Any], seed: int,
              origin: str = "refine") -> Verdict:
        """The verdict on ``values`` against every constraint of the space, with the NewTrial when
        feasible (made as the sampler makes its trials: same fingerprints, so duplicates show).

        A feasible verdict of a space with measured constraints carries what was measured
        (``Verdict.measured``, also in ``quantities``)."""
        verdict = self._acceptance.check(values)
        if not verdict.accepted:
            return verdict
        trial = verdict.trial_for(values, seed=int(seed), hparams=hparams, origin=origin)
        return dataclasses.replace(verdict, trial=trial)

