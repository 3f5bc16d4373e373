"""A small run in a temp folder: 4 sampled digits RegNets, fake results, real saved weights.

Trial errors (by id order): 20.0 with weights, 10.0 with weights (the best), 15.0 without
weights, and one failed trial.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from nasx.arch.spec import ArchSpec
from nasx.models import build_model
from nasx.sample import create_run
from nasx.train.recipe import resolve_recipe

ROOT = Path(__file__).resolve().parents[2]
SPACE = ROOT / "spaces" / "regnet_digits.yaml"
ERRORS = (20.0, 10.0, 15.0, None)


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


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export") / "run"
    store, _ = create_run(SPACE, n=4, seed=0, out=root, progress=False)
    with store:
        train = store.meta().get("train", {})
        for t, error in zip(store.trials(), ERRORS, strict=True):
            recipe = resolve_recipe(train, t.hparams, {"epochs": 1}).to_dict()
            store.mark_running(t.id, recipe, device="cpu")
            if error is None:
                store.finish(t.id, "failed", message="RuntimeError: boom")
                continue
            store.finish(t.id, "done", error=error, metrics={"test_error": error})
            if t.id <= 2:
                rel = f"weights/{t.id}.safetensors"
                (root / "weights").mkdir(exist_ok=True)
                save_file(trained_like_state(ArchSpec.from_dict(t.spec), t.seed), str(root / rel))
                store.set_weights(t.id, rel)
    return root
