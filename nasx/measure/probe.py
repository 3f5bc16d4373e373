"""The measuring hook of a space's measured constraints (``latency_ms``, ``memory_mb``).

The sampler is torch-free, so it judges measured constraints through a callable the CLI builds
here and passes in (``nasx.sample.accept.Measurer``): spec -> {constraint key -> Measurement}, measured
as the space's ``measure:`` block says (default: batch 1, eager PyTorch on one CPU thread, median
of 20 timed runs after 5 warm-up runs; ``memory_mb`` is the training-step memory of
:func:`nasx.measure.train_memory` at the same batch and device).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import torch

from nasx.errors import SpaceError
from nasx.measure.latency import latency
from nasx.measure.memory import train_memory
from nasx.measure.result import Measurement

if TYPE_CHECKING:
    from nasx.arch.spec import ArchSpec
    from nasx.space import SearchSpace

ConstraintMeasurer = Callable[["ArchSpec"], dict[str, Measurement]]


def constraint_measurer(space: SearchSpace) -> ConstraintMeasurer:
    """The callable that measures what ``space``'s measured constraints read.

    SpaceError naming ``measure.device`` when the space asks for CUDA and the machine has none.
    """
    s = space.measure
    keys = tuple(space.measured)
    if s.device.startswith("cuda") and not torch.cuda.is_available():
        raise SpaceError(rule="no CUDA device on this machine to measure on", value=s.device,
                         where=str(space.path), key="measure.device")

    def measure(spec: ArchSpec) -> dict[str, Measurement]:
        return measure_keys(spec, space, keys)

    return measure


def measure_keys(spec: ArchSpec, space: SearchSpace, keys: Iterable[str]) -> dict[str, Measurement]:
    """``latency_ms`` / ``memory_mb`` of ``spec`` (those in ``keys``) as ``space.measure`` says.

    The one rule for constraints (the sampler, refine's feasibility) and refine's measured
    objectives. SpaceError naming ``measure.batch`` when ``memory_mb`` is asked at a batch no
    training step exists for.
    """
    s, keys = space.measure, set(keys)
    out: dict[str, Measurement] = {}
    if "latency_ms" in keys:
        out["latency_ms"] = latency(spec, (s.backend, s.device), batch=s.batch,
                                    repeats=s.repeats, warmup=s.warmup, threads=s.threads)
    if "memory_mb" in keys:
        try:
            out["memory_mb"] = train_memory(spec, batch=s.batch, device=s.device,
                                            repeats=min(s.repeats, 3), threads=s.threads)
        except ValueError:
            if s.batch != 1:
                raise
            # train-mode BatchNorm over a 1x1 map refuses one image: no such training step
            raise SpaceError("memory_mb needs a batch a training step exists for (BatchNorm"
                             " over a 1x1 map cannot train on one image); set measure.batch"
                             " >= 2, got 1", where=str(space.path),
                             key="measure.batch") from None
    return out
