"""Measured objectives of ``nasx refine`` (``latency_ms``, ``memory_mb``): measured before training.

A suggestion's latency needs no training, so each feasible suggestion is measured as soon as it is
asked for, with the space's ``measure:`` settings (their defaults when the space has no such
block: batch 1, eager PyTorch on the CPU, one thread, median of 20 runs after 5 warm-up runs, the
settings of the measuring hook ``nasx.measure.probe``). The figure is recorded in the run's
measurements table under the key ``nasx measure`` gives it (``latency_ms_b1_torch_cpu``,
``memory_mib_b1_train_cpu``) with its device, batch and threads, and told to Optuna as the
objective. Each architecture is measured once per call (by fingerprint); a figure the space's
measured constraint already produced (``Verdict.measured``, same settings) is reused as is.

Warm start: a finished trial with a stored row of the same key uses it (a measured constraint's
row ``latency_ms`` counts when it records that key); the others are measured once and recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nasx.arch.spec import ArchSpec
from nasx.sample.accept import MeasuredValue
from nasx.space import SearchSpace
from nasx.store import RunStore
from nasx.store.measurements import (
    StoredMeasurement,
    ensure_table,
    get_measurements,
    put_measurements,
)

MEASURED_OBJECTIVES = ("latency_ms", "memory_mb")


def _row(m: MeasuredValue, note: str) -> StoredMeasurement:
    return StoredMeasurement(m.key, m.median, m.spread, m.device, m.batch, m.threads,
                             f"{m.method}{note}")


@dataclass
class Costs:
    """The measured objectives of one refine call: measures, caches and records them."""

    space: SearchSpace
    store: RunStore
    objectives: tuple[str, ...]  # the measured ones among the study's objectives
    measured: int = 0  # architectures measured by this call
    warm_measured: int = 0  # finished trials measured at warm start (no stored figure)
    warm_stored: int = 0  # finished trials whose stored figure was used
    _by_fp: dict[str, dict[str, MeasuredValue]] = field(default_factory=dict)
    _fig: dict[str, dict[str, float]] = field(default_factory=dict)  # fingerprint -> figures

    @classmethod
    def of(cls, space: SearchSpace, store: RunStore, objectives: Sequence[str]) -> Costs:
        """The measured objectives among ``objectives`` (none: every method is a no-op)."""
        return cls(space, store, tuple(o for o in objectives if o in MEASURED_OBJECTIVES))

    @property
    def keys(self) -> dict[str, str]:
        """Objective -> the key its figure is stored under (``nasx measure``'s key)."""
        s = self.space.measure
        kind = "cuda" if s.device.startswith("cuda") else "cpu"
        names = {"latency_ms": f"latency_ms_b{s.batch}_{s.backend}_{kind}",
                 "memory_mb": f"memory_mib_b{s.batch}_train_{kind}"}
        return {o: names[o] for o in self.objectives}

    def measure(self, spec: ArchSpec, given: Mapping[str, MeasuredValue] | None = None
                ) -> dict[str, MeasuredValue]:
        """Objective -> measurement of ``spec`` (cached per architecture; ``given``: what the
        space's measured constraints already measured with the same settings)."""
        if not self.objectives:
            return {}
        fp = spec.fingerprint()
        if fp in self._by_fp:
            return self._by_fp[fp]
        keys = self.keys
        reuse = {m.key: m for m in (given or {}).values()}
        got = {o: reuse[k] for o, k in keys.items() if k in reuse}
        todo = [o for o in self.objectives if o not in got]
        if todo:
            got.update(self._measure(spec, todo))
            self.measured += 1
        self._by_fp[fp] = got
        self._fig.setdefault(fp, {o: m.median for o, m in got.items()})
        return got

    def figures(self, spec: ArchSpec) -> dict[str, float]:
        """Objective -> figure of ``spec``: the one this call already has, else measured now."""
        if not self.objectives:
            return {}
        fp = spec.fingerprint()
        if fp not in self._fig:
            self.measure(spec)
        return dict(self._fig[fp])

    def _measure(self, spec: ArchSpec, todo: list[str]) -> dict[str, MeasuredValue]:
        from nasx.measure.probe import measure_keys  # torch: only for measured objectives

        return dict(measure_keys(spec, self.space, todo))

    def record(self, trial_id: int, got: Mapping[str, MeasuredValue], note: str) -> None:
        """``got`` into the measurements table for ``trial_id`` (nothing when empty)."""
        if got:
            ensure_table(self.store)
            put_measurements(self.store, trial_id, [_row(m, note) for m in got.values()])

    def record_new(self, trial_id: int, measured: Mapping[str, MeasuredValue],
                   got: Mapping[str, MeasuredValue]) -> None:
        """What was measured for a new refine trial: the measured constraints' figures under
        their constraint key (as the sampler records them), the objectives' under the key
        ``nasx measure`` gives them."""
        if measured:
            ensure_table(self.store)
            put_measurements(self.store, trial_id, [
                StoredMeasurement(key, m.median, m.spread, m.device, m.batch, m.threads,
                                  f"{m.method} ({m.key}, at refine)")
                for key, m in measured.items()])
        self.record(trial_id, got, " (at refine, before training)")

    def stored(self) -> dict[int, dict[str, float]]:
        """Trial id -> {objective -> stored figure} for the trials that have every objective."""
        if not self.objectives:
            return {}
        keys = self.keys
        out: dict[int, dict[str, float]] = {}
        for tid, rows in get_measurements(self.store).items():
            vals: dict[str, float] = {}
            for o, k in keys.items():
                if k in rows:
                    vals[o] = rows[k].value
                elif o in rows and f"({k}," in rows[o].method:  # a measured constraint's row
                    vals[o] = rows[o].value
            if len(vals) == len(keys):
                out[tid] = vals
        return out

    def values_of(self, trial_id: int, spec: ArchSpec, stored: Mapping[int, Mapping[str, float]],
                  note: str) -> dict[str, float]:
        """Objective -> figure of a stored trial: its stored row, else measured now and recorded."""
        if trial_id in stored:
            # one figure per architecture in this call: a duplicate suggestion is told the same
            self._fig.setdefault(spec.fingerprint(), dict(stored[trial_id]))
            return dict(stored[trial_id])
        got = self.measure(spec)
        self.record(trial_id, got, note)
        return {o: m.median for o, m in got.items()}

    def warm(self, trial_id: int, spec: ArchSpec, stored: Mapping[int, Mapping[str, float]]
             ) -> dict[str, float]:
        """:meth:`values_of` for a warm-started trial, counted."""
        if trial_id in stored:
            self.warm_stored += 1
        else:
            self.warm_measured += 1
        return self.values_of(trial_id, spec, stored, " (at refine warm start)")

    def line(self) -> str | None:
        """What was measured, for the summary; None without measured objectives."""
        if not self.objectives:
            return None
        s = self.space.measure
        return (f"measured {', '.join(self.objectives)} of {self.measured} architectures without"
                f" training ({s.describe()}); warm start: {self.warm_stored} finished trials had"
                f" a stored figure, {self.warm_measured} were measured now")

