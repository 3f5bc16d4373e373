"""``nasx measure RUN``: measure the inference latency (PyTorch and ONNX Runtime on CPU, CUDA
where present) and training memory of every trial that has no measurement yet (resumable, one
transaction per trial).

Latency and memory do not depend on the seed or the training schedule: each distinct architecture
is measured once and its rows are copied to the other trials of that architecture (fidelity
retrains, repeated draws). ``--measure`` of ``nasx train`` / ``nasx run`` calls
:func:`measure_missing` too."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
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
            raise TrainError(rule=f"must be >= {low}", value=getattr(args, key), key=f"--{key}")
    backends_for(args.device)  # raises on a bad or absent device


def measure_args(spec: Any, args: argparse.Namespace) -> list[Any]:
    """Every Measurement of ``spec`` that the options ask for."""
    from nasx.measure import measure_spec

    return measure_spec(spec, batches=(1, args.batch), device=args.device, repeats=args.repeats,
                        warmup=args.warmup, threads=args.threads)


def defaults(progress: bool) -> argparse.Namespace:
    """The options of ``nasx measure`` at their defaults (what ``--measure`` measures)."""
    p = argparse.ArgumentParser(add_help=False)
    add_options(p)
    return argparse.Namespace(**vars(p.parse_args([])), no_progress=not progress)


def run(args: argparse.Namespace) -> int:
    """Measure what is missing; print progress and errors."""
    from nasx.store import RunStore

    check_options(args)
    with RunStore.open(args.run) as store:
        done = measure_missing(store, args)
    print(done.line(), flush=True)
    return 1 if done.failed else 0


@dataclass(frozen=True)
class Measured:
    """What one pass over a run's trials did."""

    name: str
    measured: int  # architectures measured (failed ones included)
    failed: int
    copied: int  # trials given the rows of a measured trial of the same architecture
    seconds: float

    def line(self) -> str:
        """One line for the terminal."""
        line = (f"{self.name}: {self.measured - self.failed} trials measured, {self.failed}"
                f" failed, in {self.seconds:.1f} s")
        if self.copied:
            line += (f"; {self.copied} copied from a trial of the same architecture (latency and"
                     " memory do not depend on the seed)")
        return line


KEY_PREFIXES = ("latency_ms_b", "memory_mib_b")  # the keys of nasx.measure's Measurements


def expected_latency_keys(args: argparse.Namespace) -> set[str]:
    """The latency keys a measurement with these options writes (memory may be absent)."""
    from nasx.measure.latency import backends_for

    return {f"latency_ms_b{b}_{name}_{'cuda' if dev.startswith('cuda') else 'cpu'}"
            for b in (1, args.batch) for name, dev in backends_for(args.device)}


def measure_missing(store: Any, args: argparse.Namespace) -> Measured:
    """Measure every architecture of the run that no trial has a measurement of, once; copy the
    rows to every trial of a measured architecture that lacks them."""
    from nasx.store.measurements import ensure_table, get_measurements

    check_options(args)
    started = time.monotonic()
    ensure_table(store)
    # the rows of this command; a measured constraint's own row (key latency_ms / memory_mb,
    # written by the sampler) is no measurement of `nasx measure` and is never copied
    # a trial counts as measured only with every latency this call would take (refine's
    # --objectives latency_ms stores one key alone: the other backends and batches are missing)
    wanted = expected_latency_keys(args)
    have = {tid: [m for k, m in rows.items() if k.startswith(KEY_PREFIXES)]
            for tid, rows in get_measurements(store).items() if wanted <= set(rows)}
    have = {tid: rows for tid, rows in have.items() if rows}
    trials = store.trials()
    source: dict[str, int] = {}
    for t in trials:
        if t.id in have:
            source.setdefault(t.spec.fingerprint(), t.id)
    groups: dict[str, list[Any]] = {}
    for t in trials:
        if t.id not in have:
            groups.setdefault(t.spec.fingerprint(), []).append(t)
    copied = 0
    for arch, ts in groups.items():
        if arch in source:
            _copy(store, ts, have[source[arch]], source[arch], args)
            copied += len(ts)
    todo = [ts for arch, ts in groups.items() if arch not in source]
    failed, more = _measure_all(store, todo, args)
    name = store.meta().get("name", store.root.name)
    return Measured(name=str(name), measured=len(todo), failed=failed, copied=copied + more,
                    seconds=time.monotonic() - started)


def _copy(store: Any, trials: list[Any], rows: list[Any], source: int,
          args: argparse.Namespace) -> None:
    """The measurement rows of trial ``source`` into each of ``trials``, one transaction each."""
    from nasx.store.measurements import put_measurements

    for t in trials:
        put_measurements(store, t.id, rows)
        if not args.no_progress:
            print(f"  trial {t.id}: copied from trial {source} (same architecture)", flush=True)


def _measure_all(store: Any, groups: list[list[Any]], args: argparse.Namespace
                 ) -> tuple[int, int]:
    """Measurements of the first trial of each group, copied to the others, one transaction per
    trial; returns (failed, copied)."""
    from nasx.errors import NasxError
    from nasx.store.measurements import StoredMeasurement, put_measurements

    failed = copied = 0
    for i, (t, *rest) in enumerate(groups, 1):
        try:
            got = measure_args(t.spec, args)
        except (NasxError, RuntimeError, ValueError) as exc:
            failed += 1
            text = " ".join(str(exc).split())[:300]
            print(f"nasx measure: trial {t.id}: {type(exc).__name__}: {text}", file=sys.stderr)
            continue
        rows = [StoredMeasurement(m.key, m.median, m.spread, m.device, m.batch, m.threads,
                                  m.method) for m in got]
        put_measurements(store, t.id, rows)
        if not args.no_progress:
            print(f"  trial {t.id} ({i}/{len(groups)}): "
                  + ", ".join(f"{m.key} {m.median:.4g}±{m.spread:.2g}" for m in got), flush=True)
        _copy(store, rest, rows, t.id, args)
        copied += len(rest)
    return failed, copied
