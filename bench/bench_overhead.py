"""Per-trial overhead of the executors on trivial trials, beside a plain default Ray Tune setup.

    python bench/bench_overhead.py [--trials 50]
    python bench/bench_overhead.py --quick   # 3 trials, inline only (the test suite's smoke run)

Prints seconds per trial for: nasx inline, nasx ray (lean Tune: reused actors, no loggers), and
a default ``tune.Tuner`` on a trivial function trainable; and nasx inline and ray on trivial
trials of ten epochs (the cost of epoch-level reporting: one store write per epoch, and with Ray
one Tune step per epoch). Ray is started once (2 CPUs, loopback)
and shared by both Ray setups, so its start-up is reported separately and not counted per trial.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Ray workers import the trivial trial function by module path: let them find this folder.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])])


def trivial_trial(job, cache=None):
    """Does nothing: what is left is the executor's own cost."""
    from nasx.train.job import TrialResult

    return TrialResult(trial_id=job.trial_id, status="done", error=float(job.trial_id % 10),
                       weights=b"w")


EPOCHS = 10


def _epoch_steps(job, cache=None):
    """Ten trivial epochs, each reported (where the executor reports epochs)."""
    from nasx.train.job import TrialResult

    curves = []
    for epoch in range(1, EPOCHS + 1):
        record = {"epoch": epoch, "train_loss": 1.0, "train_error": 50.0, "val_loss": 1.0,
                  "val_error": 10.0, "test_loss": None, "test_error": None, "lr": 0.1,
                  "seconds": 0.0}
        curves.append(record)
        yield dict(record)
    return TrialResult(trial_id=job.trial_id, status="done", error=10.0, curves=curves,
                       weights=b"w")


def epochs_trial(job, cache=None):
    """:func:`_epoch_steps` in one go (an executor that does not report epochs calls this)."""
    gen = _epoch_steps(job, cache)
    try:
        while True:
            next(gen)
    except StopIteration as end:
        return end.value


epochs_trial.steps = _epoch_steps


def plain_trainable(config):
    """The same nothing, as a Tune function trainable."""
    from ray import tune

    tune.report({"error": float(config["i"] % 10)})


def fake_run(root: Path, n: int):
    """A run of n trials of one tiny spec (the trivial trial never builds it)."""
    from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
    from nasx.store import NewTrial, RunStore

    tiny = ArchSpec(family="regnet", stem=StemSpec(width=8),
                    stages=(StageSpec(block="basic", depth=1, width=8, stride=1),),
                    head=HeadSpec(num_classes=10))

    space = HERE.parent / "spaces" / "regnet.yaml"
    store = RunStore.create(root, space.read_text(), {"name": "bench", "family": "regnet"})
    store.add_trials(NewTrial(fingerprint=f"f{i}", values={}, spec=tiny, flops=1, params=1, acts=1,
                              seed=i) for i in range(n))
    return store


def timed_nasx(executor: str, n: int, tmp: Path, epochs: bool = False) -> float:
    """Seconds per trial of train_run with the given executor (``epochs``: ten epochs each)."""
    from bench_overhead import epochs_trial, trivial_trial  # importable names, not __main__

    fn = epochs_trial if epochs else trivial_trial

    from nasx.execute import ExecOptions, train_run

    store = fake_run(tmp / f"run-{executor}-{int(epochs)}", n)
    t0 = time.perf_counter()
    counts = train_run(store, ExecOptions(executor=executor, progress=False), trial_fn=fn)
    dt = time.perf_counter() - t0
    assert counts["done"] == n, counts
    return dt / n


def timed_plain_tune(n: int, tmp: Path) -> float:
    """Seconds per trial of a default Tuner (function trainable, default loggers and reporter)."""
    from bench_overhead import plain_trainable as fn
    from ray import tune

    t0 = time.perf_counter()
    tuner = tune.Tuner(fn, param_space={"i": tune.grid_search(list(range(n)))},
                       run_config=tune.RunConfig(storage_path=str(tmp / "plain"), verbose=0))
    grid = tuner.fit()
    dt = time.perf_counter() - t0
    assert len(grid) == n and not grid.errors
    return dt / n


def main() -> None:
    """Run the three setups and print the figures."""
    import logging

    import ray

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--quick", action="store_true",
                    help="3 trials, inline only (no Ray start): the test suite's smoke run")
    ns = ap.parse_args()
    if ns.quick:
        ns.trials = 3
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        inline = timed_nasx("inline", ns.trials, tmp)
        inline_e = timed_nasx("inline", ns.trials, tmp, epochs=True)
        if ns.quick:
            print(f"trials: {ns.trials} (--quick: inline only, no Ray)")
            print(f"nasx inline       : {inline:.4f} s/trial; with {EPOCHS} epochs "
                  f"{inline_e:.4f} s/trial")
            return
        t0 = time.perf_counter()
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                 _node_ip_address="127.0.0.1", logging_level=logging.WARNING)
        start = time.perf_counter() - t0
        lean = timed_nasx("ray", ns.trials, tmp)
        lean_e = timed_nasx("ray", ns.trials, tmp, epochs=True)
        plain = timed_plain_tune(ns.trials, tmp)
        ray.shutdown()
    print(f"trials per setup: {ns.trials}; cpus: {os.cpu_count()}; ray start-up: {start:.2f} s")
    print(f"nasx inline       : {inline:.4f} s/trial")
    print(f"nasx ray (Tune)   : {lean:.4f} s/trial")
    print(f"  with {EPOCHS} epochs : inline {inline_e:.4f} s/trial, ray {lean_e:.4f} s/trial"
          " (each epoch stored and, where the executor can, reported separately)")
    print(f"plain default Tune: {plain:.4f} s/trial")
    print(f"nasx ray is {plain / lean:.1f}x cheaper per trial than default Tune")


if __name__ == "__main__":
    main()
