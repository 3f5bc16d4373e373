"""Validation error against MEASURED latency (``nasx measure``): the report's latency views.

Torch-free. Each latency the run's measurements hold (key ``latency_ms_b{batch}_{backend}_{cpu|
cuda}``, on one device with one thread count) gives one view: the finished trials trained with the
run's recipe (sampled and refine, as the flops Pareto front) whose architecture was measured, and
their Pareto front of (latency, error) by :func:`nasx.pareto.pareto_front`. Latency does not
depend on the seed, so a trial without a row of its own takes the row of a trial of the same
architecture (``nasx measure`` measures each architecture once).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from nasx.analysis.trends import ParetoPoint, pareto_front
from nasx.arch.spec import ArchSpec
from nasx.store.measurements import StoredMeasurement

PREFIX = "latency_ms_b"


@dataclass(frozen=True)
class LatencyPoint:
    """One trial: its measured latency (median and noise, as nasx measure reports) and its error."""

    id: int
    origin: str
    latency_ms: float
    spread_ms: float
    error: float


@dataclass(frozen=True)
class LatencyView:
    """Error against one measured latency (one backend, device, batch and thread count)."""

    key: str
    backend: str  # torch | onnx
    device: str
    batch: int
    threads: int
    method: str  # how it was timed (the most common method among the points)
    n: int
    points: list[LatencyPoint]
    pareto: list[ParetoPoint]  # by increasing latency (value = latency in ms)

    def caption(self) -> str:
        """``torch on cpu, batch 1, 1 thread`` for titles and captions."""
        return (f"{self.backend} on {self.device}, batch {self.batch}, {self.threads}"
                f" thread{'s' if self.threads != 1 else ''}")


def backend_of(key: str) -> str:
    """The backend named in a latency key (``latency_ms_b1_onnx_cpu`` -> ``onnx``)."""
    parts = key.removeprefix(PREFIX).split("_")
    return parts[1] if len(parts) >= 3 else "?"


def _arch(spec: object) -> str | None:
    """The architecture fingerprint of a frame's ``spec`` cell (None when unreadable)."""
    if isinstance(spec, ArchSpec):
        return spec.fingerprint()
    try:
        return ArchSpec.from_dict(spec).fingerprint()  # type: ignore[arg-type]
    except (TypeError, KeyError, ValueError):
        return None


def per_trial(frame: pd.DataFrame, measurements: Mapping[int, Mapping[str, StoredMeasurement]]
              ) -> dict[int, Mapping[str, StoredMeasurement]]:
    """Trial id -> its latency rows: its own, else those of a trial of the same architecture."""
    if not measurements:
        return {}
    archs = {int(i): _arch(s) for i, s in zip(frame["id"], frame["spec"], strict=True)}
    by_arch: dict[str, Mapping[str, StoredMeasurement]] = {}
    for tid in sorted(measurements):  # the lowest measured trial of an architecture gives it
        a = archs.get(tid)
        if a is not None and measurements[tid]:
            by_arch.setdefault(a, measurements[tid])
    out: dict[int, Mapping[str, StoredMeasurement]] = {}
    for tid, a in archs.items():
        rows = measurements.get(tid) or (by_arch.get(a) if a is not None else None)
        if rows:
            out[tid] = rows
    return out


def latency_views(frame: pd.DataFrame, measurements: Mapping[int, Mapping[str, StoredMeasurement]]
                  ) -> list[LatencyView] | None:
    """One view per (latency key, device, threads) over the trials of ``frame`` (id, origin,
    error, spec), the most measured first (then batch 1, torch, cpu); None without any."""
    rows = per_trial(frame, measurements)
    groups: dict[tuple[str, str, int], list[tuple[LatencyPoint, StoredMeasurement]]] = {}
    for tid, origin, error in zip(frame["id"], frame["origin"], frame["error"], strict=True):
        err = float(error)
        for key, m in rows.get(int(tid), {}).items():
            if not key.startswith(PREFIX) or not (math.isfinite(m.value) and math.isfinite(err)):
                continue
            p = LatencyPoint(id=int(tid), origin=str(origin), latency_ms=float(m.value),
                             spread_ms=float(m.spread), error=err)
            groups.setdefault((key, m.device, int(m.threads)), []).append((p, m))
    views = []
    for (key, device, threads), got in groups.items():
        points = sorted((p for p, _ in got), key=lambda p: p.id)
        method = Counter(m.method for _, m in got).most_common(1)[0][0]
        batch = int(got[0][1].batch)  # the key names it: one batch per group
        front = pd.DataFrame({"id": [p.id for p in points], key: [p.latency_ms for p in points],
                              "error": [p.error for p in points],
                              "origin": [p.origin for p in points]})
        views.append(LatencyView(key=key, backend=backend_of(key), device=device, batch=batch,
                                 threads=threads, method=method, n=len(points), points=points,
                                 pareto=pareto_front(front, key)))
    views.sort(key=lambda v: (-v.n, v.batch, v.backend != "torch", v.device != "cpu", v.key,
                              v.device, v.threads))
    return views or None
