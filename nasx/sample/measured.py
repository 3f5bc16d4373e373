"""Measured constraints through a hook: the sampler stays torch-free, the caller measures.

The CLI builds a :data:`Measurer` with ``nasx.measure.probe.constraint_measurer`` (torch) and
hands it to the sampler or to refine's feasibility check; :class:`MeasuredCheck` applies it to
candidates that already passed every analytic constraint (each architecture measured once per
check, by its fingerprint), counts what it measured and judges the figures against the space's
``latency_ms`` / ``memory_mb`` bounds.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Protocol

from nasx.arch.spec import ArchSpec
from nasx.errors import SamplingError
from nasx.sample.accept import Verdict, distance, outside
from nasx.space import SearchSpace, within


class MeasuredValue(Protocol):
    """One measured figure (``nasx.measure.Measurement`` is one): its median and how it was
    measured, which the run records beside the trial."""

    @property
    def key(self) -> str: ...  # noqa: D102
    @property
    def median(self) -> float: ...  # noqa: D102
    @property
    def spread(self) -> float: ...  # noqa: D102
    @property
    def device(self) -> str: ...  # noqa: D102
    @property
    def batch(self) -> int: ...  # noqa: D102
    @property
    def threads(self) -> int: ...  # noqa: D102
    @property
    def method(self) -> str: ...  # noqa: D102


# spec -> {constraint key (latency_ms, memory_mb) -> its measurement}
Measurer = Callable[[ArchSpec], Mapping[str, MeasuredValue]]


class MeasuredCheck:
    """The measured constraints of one space, applied through ``measure``; counts its calls."""

    def __init__(self, space: SearchSpace, measure: Measurer | None) -> None:
        self.bounds = dict(space.measured)
        if self.bounds and measure is None:
            keys = ", ".join(self.bounds)
            raise SamplingError(
                f"has measured constraints ({keys}) but no measuring function was given "
                "(nasx.measure.probe.constraint_measurer builds one)",
                where=str(space.path), key=f"constraints.{next(iter(self.bounds))}",
            )
        self.measure = measure
        self.measured = 0  # candidates measured (each distinct architecture once)
        self.rejected: Counter[str] = Counter()  # constraint key -> measured candidates it rejected
        self._seen: dict[str, Mapping[str, MeasuredValue]] = {}

    @property
    def active(self) -> bool:
        """Whether the space has measured constraints."""
        return bool(self.bounds)

    def check(self, verdict: Verdict) -> Verdict:
        """``verdict`` (analytically accepted) judged on the measured figures too."""
        if not self.bounds or not verdict.accepted or verdict.spec is None:
            return verdict
        fp = verdict.spec.fingerprint()
        got = self._seen.get(fp)
        fresh = got is None
        if got is None:
            assert self.measure is not None  # the constructor refuses a missing hook
            got = self.measure(verdict.spec)
            self.measured += 1
            self._seen[fp] = got  # a redraw of a rejected architecture is not measured again
        quantities = {**verdict.quantities, **{k: got[k].median for k in self.bounds}}
        failed = [k for k, b in self.bounds.items() if not within(quantities[k], b)]
        if not failed:
            return dataclasses.replace(verdict, quantities=quantities, measured=dict(got))
        if fresh:
            self.rejected[failed[0]] += 1
        return dataclasses.replace(
            verdict, accepted=False, rule=failed[0],
            reason="; ".join(outside(k, quantities[k], self.bounds[k]) for k in failed),
            violation=sum(max(distance(quantities[k], self.bounds[k]), 1e-12) for k in failed),
            quantities=quantities, measured=dict(got),
        )

    def summary(self) -> dict[str, object]:
        """What was measured, for the run's meta and the CLI's line."""
        return {"keys": list(self.bounds), "candidates": self.measured,
                "rejected": sum(self.rejected.values())}
