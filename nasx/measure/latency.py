"""Inference latency: warm-up runs, then R timed runs, each one forward pass of a fixed batch.

Backends: ``torch`` (eager PyTorch under ``torch.inference_mode``, on CPU with the thread count
set explicitly, on CUDA with ``torch.cuda.synchronize`` of the model's device around each run
and a warm-up of at least ``CUDA_WARMUP_SECONDS``) and ``onnx`` (the model
exported with ``torch.onnx.export`` to a temporary file, run by an ONNX Runtime CPU session with
``intra_op_num_threads`` set). Time is ``time.perf_counter`` per run; the figure is the median in
ms and its spread the IQR of the runs.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from nasx.errors import TrainError
from nasx.measure.result import Measurement, summarise

if TYPE_CHECKING:
    from torch import nn

    from nasx.arch.spec import ArchSpec

BACKENDS = ("torch", "onnx")


def backends_for(device: str) -> list[tuple[str, str]]:
    """(backend, device) pairs to time: CPU torch and ONNX, plus CUDA torch where present.

    ``auto`` is CPU plus CUDA when the machine has it; ``cuda`` without CUDA is a TrainError.
    """
    cpu = [("torch", "cpu"), ("onnx", "cpu")]
    if device == "cpu":
        return cpu
    if device == "auto":
        return cpu + ([("torch", "cuda")] if torch.cuda.is_available() else [])
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainError(rule="no CUDA device on this machine", value=device, key="--device")
        return [("torch", device)]
    raise TrainError(rule="must be auto, cpu, cuda or cuda:N", value=device, key="--device")


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Set torch's intra-op threads for the block (process-wide: restored after)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _model_and_input(spec: ArchSpec, batch: int, device: str) -> tuple[nn.Module, torch.Tensor]:
    from nasx.models import build_model

    model = build_model(spec, init=True, seed=0).to(device).eval()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, spec.in_channels, spec.resolution, spec.resolution, generator=gen)
    return model, x.to(device)


# A GPU needs time, not a count of runs, to warm up (clocks ramp up, lazy kernel loading, cuDNN
# heuristics): five batch-1 runs take a few milliseconds. On CUDA the warm-up lasts at least this
# long (and at least ``warmup`` runs); on CPU the count alone is kept.
CUDA_WARMUP_SECONDS = 0.5
MAX_WARMUP_RUNS = 10_000


def _time_runs(step: Callable[[], object], warmup: int, repeats: int,
               sync: Callable[[], None], warmup_seconds: float = 0.0) -> list[float]:
    """Milliseconds of each of ``repeats`` runs of ``step`` after the untimed warm-up: at least
    ``warmup`` runs and at least ``warmup_seconds`` (each run synchronised)."""
    start, done = time.perf_counter(), 0
    while done < warmup or (time.perf_counter() - start < warmup_seconds
                            and done < MAX_WARMUP_RUNS):
        step()
        sync()
        done += 1
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        sync()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


SESSIONS = 3  # independent sessions a latency is measured in (their medians differ by 5-15%)


def _split(repeats: int) -> list[int]:
    """Timed runs per session: ``repeats`` spread over up to SESSIONS sessions."""
    k = max(1, min(SESSIONS, repeats))
    return [repeats // k + (1 if i < repeats % k else 0) for i in range(k)]


def _torch_runs(model: nn.Module, x: torch.Tensor, warmup: int,
                repeats: int) -> list[list[float]]:
    device = x.device
    if device.type == "cuda":
        # the input's device: a bare synchronize() waits for the current device only (cuda:0)
        def sync() -> None:
            torch.cuda.synchronize(device)

        seconds = CUDA_WARMUP_SECONDS
    else:
        def sync() -> None:
            return None

        seconds = 0.0
    with torch.inference_mode():
        return [_time_runs(lambda: model(x), warmup, n, sync, seconds) for n in _split(repeats)]


def export_onnx(model: nn.Module, x: torch.Tensor, path: Path) -> None:
    """A static-shape ONNX file of ``model`` at ``x``'s shape (TorchScript exporter, else dynamo)."""
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:  # the TorchScript exporter is much quicker on these small conv nets
            torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["input"],
                              output_names=["logits"])
        except Exception:  # noqa: BLE001 - the dynamo exporter is the fallback
            torch.onnx.export(model, (x,), str(path), dynamo=True, external_data=False,
                              verbose=False, input_names=["input"], output_names=["logits"])


def _onnx_runs(model: nn.Module, x: torch.Tensor, threads: int, warmup: int,
               repeats: int) -> list[list[float]]:
    import onnxruntime as ort  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory(prefix="nasx-measure-") as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(model, x, path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        out = []
        for n in _split(repeats):  # a new session each time: its own threads, arena, layout
            sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            feed = {sess.get_inputs()[0].name: x.cpu().numpy()}
            out.append(_time_runs(lambda s=sess, f=feed: s.run(None, f), warmup, n,
                                  lambda: None))
    return out


def latency(spec: ArchSpec, backend: tuple[str, str] | str = "torch", *, batch: int = 1,
            device: str = "cpu", repeats: int = 20, warmup: int = 5,
            threads: int = 1) -> Measurement:
    """Latency of one forward pass of ``spec`` (random input, seeded weights) on a backend.

    The ``repeats`` timed runs are spread over up to three independent sessions (each warmed up
    on its own; a new ONNX Runtime session each time): the median is of all runs, and the spread
    the larger of their IQR and the range of the sessions' medians, since a second measurement
    (another session, another process) differs by that much more often than by the IQR of one.
    """
    name, dev = backend if isinstance(backend, tuple) else (backend, device)
    if name not in BACKENDS:
        raise TrainError(f"unknown backend {name!r} ({', '.join(BACKENDS)})", key="backend")
    if batch < 1 or repeats < 1 or warmup < 0:
        raise TrainError(rule="batch and repeats must be positive, warmup >= 0",
                         value=(batch, repeats, warmup), shown=f"{batch}, {repeats}, {warmup}",
                         key="batch")
    model, x = _model_and_input(spec, batch, "cpu" if name == "onnx" else dev)
    with torch_threads(threads):
        if name == "onnx":
            runs = _onnx_runs(model, x, threads, warmup, repeats)
            method = f"onnxruntime {_ort_version()} CPUExecutionProvider"
        else:
            runs = _torch_runs(model, x, warmup, repeats)
            method = "torch eager, inference_mode" + (", synchronized" if dev != "cpu" else "")
    med, iqr = summarise([t for block in runs for t in block])
    medians = [statistics.median(block) for block in runs]
    kind = "cuda" if dev.startswith("cuda") else "cpu"
    return Measurement(key=f"latency_ms_b{batch}_{name}_{kind}", device=dev, batch=batch,
                       threads=threads, method=method, median=med,
                       spread=max(iqr, max(medians) - min(medians)), unit="ms", runs=repeats,
                       sessions=len(runs))


def _ort_version() -> str:
    import onnxruntime as ort  # type: ignore[import-untyped]

    return str(ort.__version__)
