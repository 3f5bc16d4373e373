"""Synthetic run stores for analysis and report tests (seeded; no training, no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.store.run_store import NewTrial, RunStore
from nasx.train import population
from nasx.train.recipe import Recipe

SPACE = """name: {name}
family: regnet
n: {n}
seed: 0
input: {{resolution: {resolution}, in_channels: 1, num_classes: 10}}
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
             epochs: int = 3, data: str = "digits", dlo: int = 4, resolution: int = 16,
             flops_range: tuple[float, float] = (1e5, 1e7), n_other: int = 0,
             other_epochs: int | None = None, other_origin: str = "refine", legacy: bool = False,
             errors: list[tuple[float, float]] | None = None,
             params_shift: float = 0.0) -> Path:
    """A run of n sampled trials (plus refine / other-recipe / failed / diverged / pending ones)
    whose validation errors fall with log flops; ``shift`` moves every error (worse for > 0).

    The run records its population recipe (store meta) and every done trial stores its
    validation error as ``error`` with ``val_error``/``test_error``/``train_error`` metrics (the
    test error has its own noise, so its order differs); ``legacy`` makes a run of an older
    nasx: no recorded recipe, only a test error. ``n_other`` trials (of ``other_origin``) train
    with ``other_epochs`` (default epochs + 2). ``errors`` pins (validation, test) errors of the first
    sampled trials. ``params_shift`` multiplies every model's params by 10**params_shift (flops
    unchanged), so two runs can differ in params alone.
    """
    rng = np.random.default_rng(seed)
    test_rng = np.random.default_rng(seed + 1000)  # apart, so the other draws stay as they were
    root = Path(root)
    meta = {"name": name, "family": "regnet", "space_file": f"spaces/{name}.yaml",
            "space_sha256": "0" * 64, "seed": seed}
    if not legacy:
        meta[population.META_KEY] = Recipe(epochs=epochs, data=data).to_dict()
    store = RunStore.create(root, SPACE.format(name=name, n=n, dlo=dlo, epochs=epochs,
                                               resolution=resolution), meta)
    total = n + n_failed + n_diverged + n_pending + n_refine + n_other
    lo, hi = flops_range
    trials = []
    for i in range(total):
        n_stages = int(rng.integers(2, 5))
        depths = rng.integers(1, 5, size=n_stages)
        widths = np.sort(rng.integers(1, 17, size=n_stages) * 8)
        spec = ArchSpec(
            family="regnet", stem=StemSpec(width=16),
            stages=tuple(StageSpec(block="bottleneck", depth=int(d), width=int(w), stride=2,
                                   bottleneck=int(w), groups=1)
                         for d, w in zip(depths, widths, strict=True)),
            head=HeadSpec(num_classes=10), resolution=resolution, in_channels=1,
        )
        flops = int(lo * np.exp(rng.uniform(0, np.log(hi / lo))))
        values = {"depth": int(depths.sum()), "w0": int(widths[0]),
                  "wa": float(rng.uniform(4, 32)), "wm": float(rng.uniform(1.5, 3.0)),
                  "resolution": resolution, "in_channels": 1, "num_classes": 10}
        origin = ("sampled" if i < n + n_failed + n_diverged + n_pending else
                  "refine" if i < total - n_other else other_origin)
        trials.append(NewTrial(fingerprint=f"{name}-{i}", values=values, spec=spec,
                               flops=flops, params=int(flops / 7 * 10**params_shift), acts=flops // 3, seed=i,
                               hparams={"lr": float(rng.uniform(0.01, 0.5))}, origin=origin))
    ids = store.add_trials(trials)
    statuses = (["done"] * n + ["failed"] * n_failed + ["diverged"] * n_diverged
                + ["pending"] * n_pending + ["done"] * (n_refine + n_other))
    other_from = total - n_other
    for k, (tid, status, t) in enumerate(zip(ids, statuses, trials, strict=True)):
        if status == "pending":
            continue
        ep = (other_epochs if other_epochs is not None else epochs + 2) if k >= other_from \
            else epochs
        recipe = Recipe(epochs=ep, data=data, lr=t.hparams["lr"])
        store.mark_running(tid, recipe, device="cpu")
        if status == "done":
            err = 40.0 - 6.0 * np.log10(t.flops / 1e5) + shift + rng.normal(0, 3.0)
            if t.origin == "refine":
                err -= 5.0
            test = err + test_rng.normal(0, 3.0)
            if errors is not None and k < len(errors):
                err, test = errors[k]
            if legacy:
                metrics = {"test_error": float(err)}
            else:
                metrics = {"val_error": float(err), "test_error": float(test),
                           "train_error": float(err) / 2}
            store.finish(tid, "done", error=float(err), metrics=metrics,
                         curves=[{"epoch": 1, "val_error": float(err)}])
        elif status == "diverged":
            store.finish(tid, "diverged", message="loss is nan")
        else:
            store.finish(tid, "failed", message="RuntimeError: boom")
    store.close()
    return root
