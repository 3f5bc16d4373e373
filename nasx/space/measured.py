"""Measured constraints (``latency_ms``, ``memory_mb``) and the ``measure:`` settings block.

A measured constraint is written under ``constraints:`` like ``flops`` but is judged on a figure
measured on the machine that samples (``nasx.measure``), not counted: the sampler measures only
candidates that passed every analytic constraint. What is measured, and how, is the ``measure:``
block (docs/spaces.md, "Measured constraints"); this module only validates it, torch-free.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from nasx.errors import RuleError
from nasx.space.constraints import Bound
from nasx.space.fields import Field, Parsed, integer, one_of, string

# Constraint key -> what it reads: inference latency in ms, peak training memory in MiB.
MEASURED_KEYS = ("latency_ms", "memory_mb")
MEASURED_UNITS = {"latency_ms": "ms", "memory_mb": "MiB"}
_DEVICE = re.compile(r"^(cpu|cuda(:\d{1,2})?)$")


def _device(device: Any) -> str:
    """cpu, cuda or cuda:N."""
    device = string(8)(device)
    if not _DEVICE.match(device):
        raise RuleError(rule="must be cpu, cuda or cuda:N", value=device)
    return device


def _device_runs_backend(device: str, before: Mapping[str, Any]) -> None:
    """The onnx backend measures on the cpu only."""
    if before.get("backend") == "onnx" and device != "cpu":
        raise RuleError(rule="backend onnx runs on the cpu only", value=device)


@dataclass(frozen=True)
class MeasureSettings(Parsed):
    """How a measured constraint is measured (the ``measure:`` block; every key optional).

    The defaults are the figure ``nasx measure`` records as ``latency_ms_b1_torch_cpu``: batch 1,
    eager PyTorch on the CPU with one thread, median of 20 timed runs after 5 warm-up runs.
    """

    backend: str = "torch"
    device: str = "cpu"
    batch: int = 1
    threads: int = 1
    repeats: int = 20
    warmup: int = 5
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("backend", one_of("torch", "onnx"), "torch"),
        Field("device", _device, "cpu", relate=_device_runs_backend),
        Field("batch", integer(1, 4096), 1), Field("threads", integer(1, 256), 1),
        Field("repeats", integer(1, 1000), 20), Field("warmup", integer(0, 1000), 5))

    def to_dict(self) -> dict[str, Any]:
        """The settings as a run's meta records them."""
        return asdict(self)

    def describe(self) -> str:
        """One line for people: ``torch on cpu, batch 1, 1 thread, median of 20 runs ...``."""
        threads = f"{self.threads} thread{'s' if self.threads > 1 else ''}"
        return (f"{self.backend} on {self.device}, batch {self.batch}, {threads}, median of "
                f"{self.repeats} runs after {self.warmup} warm-up")


def check_measured_bounds(key: str, bounds: tuple[Bound, Bound]) -> None:
    """ValueError naming the rule when a measured constraint's bounds are no usable limit."""
    lo, hi = bounds
    if lo is None and hi is None:
        raise ValueError(f"a measured constraint needs lo or hi (measuring {key} costs time), "
                         "got [null, null]")
    for side in (lo, hi):
        if side is not None and side < 0:
            raise RuleError(rule=f"a measured bound must be >= 0 ({MEASURED_UNITS[key]})",
                            value=side)
