"""Every measurement the machine allows for one architecture (latency and training memory).

Its own module above ``latency`` and ``memory``: ``result`` (the :class:`Measurement` they both
make) imports neither, so the measure modules form no import circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nasx.measure.latency import backends_for, latency
from nasx.measure.memory import train_memory
from nasx.measure.result import Measurement

if TYPE_CHECKING:
    from nasx.arch.spec import ArchSpec


def measure_spec(spec: ArchSpec, *, batches: Sequence[int] = (1,), device: str = "cpu",
                 repeats: int = 20, warmup: int = 5, threads: int = 1) -> list[Measurement]:
    """Latency on every backend of ``device`` (see ``backends_for``) and training memory on each
    of its devices, at each batch size (no memory at batch 1 for a network that cannot train on
    one image: BatchNorm over a 1x1 map)."""
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
