"""Small runs in temp folders: sampled digits RegNets, store rows written directly, real weights.

``run_dir`` (by trial id): validation errors 20.0 (weights), 10.0 (weights, the best), 15.0 (no
weights) and a failed trial; its test errors rank the other way round (9.0, 14.0, 11.0).
``make_run(rows, order=...)`` builds others: one row per trial with ``val``, ``test``, ``train``
errors, ``weights`` (keep a weights file), ``epochs`` (None: the population's recipe) and
``legacy`` (stored as an older nasx did: test error in ``error``, no validation error);
``record=False`` leaves the run without a recorded population recipe (an older run).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from nasx.arch.spec import ArchSpec
from nasx.models import build_model
from nasx.sample import create_run
from nasx.train import population
from nasx.train.recipe import resolve_recipe

ROOT = Path(__file__).resolve().parents[2]
SPACE = ROOT / "spaces" / "regnet_digits.yaml"
POP_EPOCHS = 1
ROWS: list[dict[str, Any] | None] = [
    {"val": 20.0, "test": 9.0, "train": 5.0, "weights": True},
    {"val": 10.0, "test": 14.0, "train": 2.0, "weights": True},
    {"val": 15.0, "test": 11.0, "train": 3.0, "weights": False},
    None,  # failed
]


def trained_like_state(spec: ArchSpec, seed: int) -> dict[str, torch.Tensor]:
    """Initialised weights pushed off their init (seeded), so outputs depend on every layer."""
    model = build_model(spec, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    state = model.state_dict()
    for k, v in state.items():
        if v.is_floating_point():
            noise = torch.randn(v.shape, generator=gen) * 0.1
            v.copy_(v.abs() + 0.5 if k.endswith("running_var") else v + noise)
    return state


def build_run(root: Path, rows: list[dict[str, Any] | None], order: str = "id",
              record: bool = True) -> Path:
    """A run of len(rows) sampled trials; rows are given by trial id or by increasing flops."""
    store, _ = create_run(SPACE, n=len(rows), seed=0, out=root, progress=False)
    with store:
        train = store.meta().get("train", {})
        pop = resolve_recipe(train, None, {"epochs": POP_EPOCHS}).to_dict()
        if record:
            store.set_meta(**{population.META_KEY: pop})
        trials = store.trials()
        if order == "flops":
            trials = sorted(trials, key=lambda t: (t.flops, t.id))
        for t, row in zip(trials, rows, strict=True):
            epochs = POP_EPOCHS if row is None else row.get("epochs") or POP_EPOCHS
            recipe = resolve_recipe(train, t.hparams, {"epochs": epochs})
            store.mark_running(t.id, recipe, device="cpu")
            if row is None:
                store.finish(t.id, "failed", message="RuntimeError: boom")
                continue
            if row.get("legacy"):
                store.finish(t.id, "done", error=row["test"], metrics={"test_error": row["test"]})
            else:
                metrics = {"val_error": row["val"], "test_error": row["test"],
                           "train_error": row["train"]}
                store.finish(t.id, "done", error=row["val"], metrics=metrics)
            if row["weights"]:
                rel = f"weights/{t.id}.safetensors"
                (root / "weights").mkdir(exist_ok=True)
                save_file(trained_like_state(t.spec, t.seed), str(root / rel))
                store.set_weights(t.id, rel)
    return root


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.mktemp("export") / "run", ROWS)


@pytest.fixture
def make_run(tmp_path: Path) -> Callable[..., Path]:
    """Factory: make_run(rows, order='id'|'flops', record=True) -> a fresh run under tmp_path."""
    count = iter(range(1000))

    def make(rows: list[dict[str, Any] | None], order: str = "id", record: bool = True) -> Path:
        return build_run(tmp_path / f"run{next(count)}", rows, order, record)

    return make
