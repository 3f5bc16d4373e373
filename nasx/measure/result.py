"""The result of one measurement, and every measurement of one spec."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasx.arch.spec import ArchSpec


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


def measure_spec(spec: ArchSpec, *, batches: Sequence[int] = (1,), device: str = "cpu",
                 repeats: int = 20, warmup: int = 5, threads: int = 1) -> list[Measurement]:
    """Latency on every backend of ``device`` (see ``backends_for``) and training memory on each
    of its devices, at each batch size (no memory at batch 1 for a network that cannot train on
    one image: BatchNorm over a 1x1 map)."""
    from nasx.measure.latency import backends_for, latency
    from nasx.measure.memory import train_memory

    pairs = backends_for(device)
    out: list[Measurement] = []
    for batch in dict.fromkeys(batches):
        for backend in pairs:
            out.append(latency(spec, backend, batch=batch, repeats=repeats, warmup=warmup,
                               threads=threads))
        for dev in dict.fromkeys(d for _, d in pairs):
            try:
                out.append(train_memory(spec, batch=batch, device=dev, repeats=min(repeats, 3),
                                        threads=threads))
            except ValueError:
                # The model ran in eval mode above, so this is train mode's BatchNorm refusing
                # one value per channel (batch 1, a 1x1 map): no training step exists to measure.
                if batch != 1:
                    raise
    return out
