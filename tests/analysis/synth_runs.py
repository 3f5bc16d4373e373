"""Synthetic run stores for analysis and report tests (seeded; no training, no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.store.run_store import NewTrial, RunStore
from nasx.train.recipe import Recipe

SPACE = """name: {name}
family: regnet
n: {n}
seed: 0
input: {{resolution: 16, in_channels: 1, num_classes: 10}}
params:
  depth: {{int: [{dlo}, 12]}}
  w0: {{int: [8, 64], q: 8}}
  wa: {{float: [4, 32], log: true}}
  wm: {{float: [1.5, 3.0]}}
train:
  epochs: {epochs}
  lr: {{float: [0.01, 0.5], log: true}}
"""


def make_run(root: Path, name: str = "synth", n: int = 60, seed: int = 0, *, shift: float = 0.0,
             n_failed: int = 0, n_diverged: int = 0, n_pending: int = 0, n_refine: int = 0,
             epochs: int = 3, data: str = "digits", dlo: int = 4) -> Path:
    """A run of n sampled trials (plus refine / failed / diverged / pending ones) with errors
    that fall with log flops; ``shift`` moves every error (a worse space for shift > 0)."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    store = RunStore.create(root, SPACE.format(name=name, n=n, dlo=dlo, epochs=epochs),
                            {"name": name, "family": "regnet", "space_file": f"spaces/{name}.yaml",
                             "space_sha256": "0" * 64, "seed": seed})
    total = n + n_failed + n_diverged + n_pending + n_refine
    trials, plan = [], []
    for i in range(total):
        n_stages = int(rng.integers(2, 5))
        depths = rng.integers(1, 5, size=n_stages)
        widths = np.sort(rng.integers(1, 17, size=n_stages) * 8)
        spec = ArchSpec(
            family="regnet", stem=StemSpec(width=16),
            stages=tuple(StageSpec(block="bottleneck", depth=int(d), width=int(w), stride=2,
                                   bottleneck=int(w), groups=1) for d, w in zip(depths, widths, strict=True)),
            head=HeadSpec(num_classes=10), resolution=16, in_channels=1,
        )
        flops = int(1e5 * np.exp(rng.uniform(0, np.log(100))))
        values = {"depth": int(depths.sum()), "w0": int(widths[0]),
                  "wa": float(rng.uniform(4, 32)), "wm": float(rng.uniform(1.5, 3.0)),
                  "resolution": 16, "in_channels": 1, "num_classes": 10}
        origin = "refine" if i >= total - n_refine else "sampled"
        trials.append(NewTrial(fingerprint=f"{name}-{i}", values=values, spec=spec.to_dict(),
                               flops=flops, params=flops // 7, acts=flops // 3, seed=i,
                               hparams={"lr": float(rng.uniform(0.01, 0.5))}, origin=origin))
        plan.append(flops)
    ids = store.add_trials(trials)
    statuses = (["done"] * n + ["failed"] * n_failed + ["diverged"] * n_diverged
                + ["pending"] * n_pending + ["done"] * n_refine)
    for tid, status, t in zip(ids, statuses, trials, strict=True):
        if status == "pending":
            continue
        recipe = Recipe(epochs=epochs, data=data, lr=t.hparams["lr"]).to_dict()
        store.mark_running(tid, recipe, device="cpu")
        if status == "done":
            err = 40.0 - 6.0 * np.log10(t.flops / 1e5) + shift + rng.normal(0, 3.0)
            if t.origin == "refine":
                err -= 5.0
            store.finish(tid, "done", error=float(err), metrics={"test_top1_err": float(err)},
                         curves=[{"epoch": 1, "test_err": float(err)}])
        elif status == "diverged":
            store.finish(tid, "diverged", message="loss is nan")
        else:
            store.finish(tid, "failed", message="RuntimeError: boom")
    store.close()
    return root
