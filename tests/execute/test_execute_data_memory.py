"""Trials read a prepared store memory-mapped: a worker's private memory does not grow with N.

Two runs of the same space on synthetic data of N and 4N images at 32 px, two Ray trials at a
time: each worker's peak private memory (Private_Clean + Private_Dirty) differs by < 100 MB.
The whole-tensor path grew by the float32 copy of the extra 3N images (184 MB here). The
validation and test parts hold over 1024 images in both runs, so evaluation batches (1024 at
most) are the same size in both: what is compared is the data, not the evaluation batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.execute import ExecOptions, train_run
from nasx.store import NewTrial, RunStore

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
SPEC = ArchSpec(family="anynet", stem=StemSpec(width=8, stride=2),
                stages=(StageSpec(block="basic", depth=1, width=16, stride=2),),
                head=HeadSpec(num_classes=10), resolution=32, in_channels=3, name="tiny32")


def _run(root: Path, n: int) -> list[float]:
    space = (HERE.parents[1] / "spaces" / "regnet_digits.yaml").read_text()
    store = RunStore.create(root, space, {"name": "mem", "family": "anynet"})
    store.add_trials(NewTrial(fingerprint=f"m{i}", values={"i": i}, spec=SPEC, flops=1,
                              params=1, acts=1, seed=i) for i in range(2))
    opts = ExecOptions(executor="ray", progress=False, cpus_per_trial=1,
                       overrides={"data": "synthetic", "synthetic_train": n,
                                  "synthetic_test": 1100, "val_fraction": 0.25, "epochs": 1,
                                  "batch_size": 256, "threads": 1, "lr": 0.01})
    assert train_run(store, opts, trial_fn="exec_memory:memory_trial")["done"] == 2
    return [float(t.metrics["private_peak_mb"]) for t in store.trials()]


@pytest.fixture(scope="module")
def mem_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """$NASX_CACHE for the driver and (set before Ray starts) its workers; restored after."""
    folder = tmp_path_factory.mktemp("mem_cache")
    saved = os.environ.get("NASX_CACHE")
    os.environ["NASX_CACHE"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("NASX_CACHE", None)
    else:
        os.environ["NASX_CACHE"] = saved


def test_private_memory_does_not_grow_with_n(tmp_path: Path, mem_cache: Path,
                                             local_ray: None) -> None:
    small = _run(tmp_path / "small", 5000)
    large = _run(tmp_path / "large", 20000)
    # the data alone: 61 MB of uint8 for 4N, 246 MB as float32 (the old per-worker copy)
    print(f"private peak MB: N {small}, 4N {large}")
    assert list((mem_cache / "prepared").glob("synthetic-*"))  # workers used this cache
    assert all(m > 0 for m in small + large)
    assert max(large) - min(small) < 100.0, (small, large)
    assert max(small) - min(large) < 100.0, (small, large)
