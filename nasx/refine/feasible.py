"""Check a suggested value set against a space BEFORE anything trains, and make its NewTrial.

A suggestion is feasible when it decodes to a network (``nasx.arch.families.decode``) and its
complexity (flops, params, acts), the family's derived quantities and its own sampled values lie
inside every constraint of the space. Infeasible suggestions get a violation score > 0 (the sum of
the relative distances to the violated bounds; 1 for values that give no network) that refine
hands to Optuna as a constraint value; feasible ones score 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nasx.arch.complexity import complexity
from nasx.arch.families import FAMILIES, decode
from nasx.errors import InvalidSample, NasxError
from nasx.sample.sampler import build_trial
from nasx.space import SearchSpace
from nasx.store import NewTrial


@dataclass(frozen=True)
class Verdict:
    """Outcome of a feasibility check."""

    violation: float  # 0 when feasible
    reason: str  # empty when feasible, else which rule failed and the value
    trial: NewTrial | None  # the trial to add when feasible
    quantities: dict[str, float]

    @property
    def feasible(self) -> bool:
        """No constraint violated."""
        return self.violation <= 0.0 and self.trial is not None


def _distance(value: float, lo: float | None, hi: float | None) -> float:
    """Relative distance of ``value`` outside [lo, hi] (0 inside)."""
    if lo is not None and value < lo:
        return (lo - value) / max(abs(lo), 1e-12)
    if hi is not None and value > hi:
        return (value - hi) / max(abs(hi), 1e-12)
    return 0.0


def measure(space: SearchSpace, values: Mapping[str, Any]) -> tuple[float, str, dict[str, float]]:
    """(violation, reason, quantities) of ``values``: 0 and "" when every constraint holds."""
    try:
        spec = decode(space.family, values)
    except (InvalidSample, NasxError) as exc:  # no network for these values
        return 1.0, f"no valid network: {exc}", {}
    quantities: dict[str, float] = {k: float(v) for k, v in complexity(spec).to_dict().items()}
    quantities.update(FAMILIES[space.family].derived(values, spec))
    for key, v in values.items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            quantities.setdefault(key, float(v))
    violation, failed = 0.0, []
    for key, (lo, hi) in space.constraints.items():
        if key not in quantities:
            continue  # the sampler rejects unknown keys; an absent value constrains nothing
        d = _distance(quantities[key], lo, hi)
        if d > 0:
            violation += d
            failed.append(f"{key}={quantities[key]:g} outside [{lo}, {hi}]")
    return violation, "; ".join(failed), quantities


def check(space: SearchSpace, values: Mapping[str, Any], hparams: Mapping[str, Any],
          seed: int, origin: str = "refine") -> Verdict:
    """Measure ``values`` against every constraint of ``space``; the NewTrial when feasible.

    The trial itself comes from the sampler's ``build_trial`` so that refine trials have the
    same fingerprints (de-duplication) and checks as sampled ones.
    """
    violation, reason, quantities = measure(space, values)
    if violation > 0:
        return Verdict(violation, reason, None, quantities)
    try:
        trial = build_trial(space, dict(values), seed=int(seed), hparams=dict(hparams),
                            origin=origin)
    except InvalidSample as exc:  # a rule the sampler knows and measure() does not
        return Verdict(1.0, str(exc), None, quantities)
    return Verdict(0.0, "", trial, quantities)
