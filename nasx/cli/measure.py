"""``nasx measure RUN``: measure the inference latency (PyTorch and ONNX Runtime on CPU, CUDA
where present) and training memory of every trial that has no measurement yet (resumable, one
transaction per trial)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``measure`` verb."""
    p = subparsers.add_parser(
        "measure", help="measure latency and training memory of a run's trials",
        description="Measure every trial of the run that has no measurement yet: inference"
        " latency at batch 1 and --batch (warm-up runs, then --repeats timed runs; median and"
        " IQR in ms) with PyTorch and ONNX Runtime on CPU and PyTorch on CUDA where present, and"
        " the peak memory of one training step. Results go to the run's measurements table;"
        " re-running measures only what is missing.",
    )
    p.add_argument("run", metavar="RUN", help="run folder")
    add_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def add_options(p: argparse.ArgumentParser) -> None:
    """--batch, --device, --repeats, --warmup, --threads (shared with ``describe --measure``)."""
    p.add_argument("--batch", type=int, default=64,
                   help="batch size measured beside batch 1 (default 64)")
    p.add_argument("--device", default="auto",
                   help="auto (CPU, plus CUDA when present) | cpu | cuda | cuda:N (default auto)")
    p.add_argument("--repeats", type=int, default=20, help="timed runs (default 20)")
    p.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads, torch and ONNX Runtime (default 1)")


def check_options(args: argparse.Namespace) -> None:
    """A TrainError names an option out of range."""
    from nasx.errors import TrainError
    from nasx.measure.latency import backends_for

    for key, low in (("batch", 1), ("repeats", 1), ("warmup", 0), ("threads", 1)):
        if getattr(args, key) < low:
            raise TrainError(f"must be >= {low}; got {getattr(args, key)}", key=f"--{key}")
    backends_for(args.device)  # raises on a bad or absent device


def measure_args(spec: Any, args: argparse.Namespace) -> list[Any]:
    """Every Measurement of ``spec`` that the options ask for."""
    from nasx.measure import measure_spec

    return measure_spec(spec, batches=(1, args.batch), device=args.device, repeats=args.repeats,
                        warmup=args.warmup, threads=args.threads)


def run(args: argparse.Namespace) -> int:
    """Measure what is missing; print progress and errors."""
    from nasx.store import RunStore
    from nasx.store.measurements import ensure_table, get_measurements

    check_options(args)
    started = time.monotonic()
    with RunStore.open(args.run) as store:
        ensure_table(store)
        have = get_measurements(store)
        todo = [t for t in store.trials() if t.id not in have]
        failed = _measure_all(store, todo, args)
        name = store.meta().get("name", store.root.name)
    print(f"{name}: {len(todo) - failed} trials measured, {failed} failed, in"
          f" {time.monotonic() - started:.1f} s", flush=True)
    return 1 if failed else 0


def _measure_all(store: Any, todo: list[Any], args: argparse.Namespace) -> int:
    """Measurements of ``todo`` into the store, one transaction each; returns how many failed."""
    from nasx.errors import NasxError
    from nasx.store.measurements import StoredMeasurement, put_measurements

    failed = 0
    for i, t in enumerate(todo, 1):
        try:
            got = measure_args(t.spec, args)
        except (NasxError, RuntimeError, ValueError) as exc:
            failed += 1
            text = " ".join(str(exc).split())[:300]
            print(f"nasx measure: trial {t.id}: {type(exc).__name__}: {text}", file=sys.stderr)
            continue
        put_measurements(store, t.id, [StoredMeasurement(m.key, m.median, m.spread, m.device,
                                                         m.batch, m.threads, m.method)
                                       for m in got])
        if not args.no_progress:
            print(f"  trial {t.id} ({i}/{len(todo)}): "
                  + ", ".join(f"{m.key} {m.median:.4g}±{m.spread:.2g}" for m in got), flush=True)
    return failed
