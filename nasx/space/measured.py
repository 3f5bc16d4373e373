"""Measured constraints (``latency_ms``, ``memory_mb``) and the ``measure:`` settings block.

A measured constraint is written under ``constraints:`` like ``flops`` but is judged on a figure
measured on the machine that samples (``nasx.measure``), not counted: the sampler measures only
candidates that passed every analytic constraint. What is measured, and how, is the ``measure:``
block (docs/spaces.md, "Measured constraints"); this module only validates it, torch-free.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from nasx.errors import RuleError
from nasx.space.constraints import Bound

# Constraint key -> what it reads: inference latency in ms, peak training memory in MiB.
MEASURED_KEYS = ("latency_ms", "memory_mb")
MEASURED_UNITS = {"latency_ms": "ms", "memory_mb": "MiB"}
_DEVICE = re.compile(r"^(cpu|cuda(:\d{1,2})?)$")


class MeasureSettings(BaseModel):
    """How a measured constraint is measured (the ``measure:`` block; every key optional).

    The defaults are the figure ``nasx measure`` records as ``latency_ms_b1_torch_cpu``: batch 1,
    eager PyTorch on the CPU with one thread, median of 20 timed runs after 5 warm-up runs.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    backend: Literal["torch", "onnx"] = "torch"
    device: Annotated[str, Field(max_length=8)] = "cpu"
    batch: Annotated[int, Field(ge=1, le=4096)] = 1
    threads: Annotated[int, Field(ge=1, le=256)] = 1
    repeats: Annotated[int, Field(ge=1, le=1000)] = 20
    warmup: Annotated[int, Field(ge=0, le=1000)] = 5

    @field_validator("device")
    @classmethod
    def _device(cls, device: str, info: ValidationInfo) -> str:
        if not _DEVICE.match(device):
            raise RuleError(rule="must be cpu, cuda or cuda:N", value=device)
        if info.data.get("backend") == "onnx" and device != "cpu":
            raise RuleError(rule="backend onnx runs on the cpu only", value=device)
        return device

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
