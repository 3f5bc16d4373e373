"""The result of one measurement (``suite.measure_spec`` makes every one of a spec)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    """One measured figure: ``median`` and ``spread`` (IQR of the runs) in ``unit``."""

    key: str          # e.g. latency_ms_b1_torch_cpu, memory_mib_b64_train_cpu
    device: str       # cpu | cuda | cuda:N
    batch: int
    threads: int      # CPU threads used (torch intra-op or ORT intra_op_num_threads)
    method: str       # how it was measured, in words
    median: float
    spread: float     # interquartile range of the runs (0 for a computed figure)
    unit: str
    runs: int
    sessions: int = 1  # independent sessions the runs were spread over (latency: up to 3)

    def line(self) -> str:
        """``key: median ± spread unit (method, batch, threads)`` for the CLI."""
        noise = f"IQR of {self.runs} runs" if self.runs > 1 else "one run"
        if self.sessions > 1:
            noise = (f"spread of {self.runs} runs in {self.sessions} sessions: their IQR or the"
                     " range of the sessions' medians, the larger")
        return (f"{self.key}: {self.median:.4g} ± {self.spread:.2g} {self.unit}"
                f" ({noise}; {self.method}; device {self.device}, batch {self.batch},"
                f" {self.threads} threads)")


def summarise(values: Sequence[float]) -> tuple[float, float]:
    """(median, interquartile range) of the runs; IQR is 0 for fewer than two runs."""
    med = statistics.median(values)
    if len(values) < 2:
        return med, 0.0
    q = statistics.quantiles(values, n=4, method="inclusive")
    return med, q[2] - q[0]
