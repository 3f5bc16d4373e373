"""provenance.json: where an exported network came from and how to reproduce it."""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from nasx.arch.complexity import complexity
from nasx.arch.spec import ArchSpec
from nasx.export.select import Choice, split_errors
from nasx.store.run_store import RunStore
from nasx.train.job import Metrics
from nasx.train.recipe import Recipe
from nasx.types import JSONObject


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Training:
    """How export trained the weights it wrote (provenance.json's ``weights`` block)."""

    recipe: Recipe
    error: float | None  # the selection (validation) error of the training
    errors: dict[str, float | None]  # validation, test and train error in percent
    metrics: Metrics
    device: str
    seconds: float
    recipe_base: str  # where the recipe came from, before the user's overrides
    differs: list[str]  # what the user's overrides change ("epochs 1 -> 3")

    def to_json(self) -> JSONObject:
        """The ``weights`` block of provenance.json."""
        return {"source": "trained by export", "recipe": self.recipe.to_dict(),
                "error": self.error, "errors": self.errors, "metrics": self.metrics,
                "device": self.device, "seconds": self.seconds,
                "recipe_base": self.recipe_base, "differs": self.differs}


def _versions(files: dict[str, str]) -> dict[str, str]:
    import torch

    import nasx

    out = {"nasx": nasx.__version__, "torch": torch.__version__,
           "python": platform.python_version()}
    if "onnx" in files:
        import onnx

        out["onnx"] = onnx.__version__
    return out


def provenance(store: RunStore, choice: Choice, spec: ArchSpec, *,
               files: dict[str, str], tmp: Path, shape: tuple[int, ...],
               dynamic_batch: bool | None, training: Training | None, notes: list[str],
               skipped: list[str], preprocessing: JSONObject) -> JSONObject:
    """The provenance document of one export (provenance.json).

    ``errors`` holds the trial's validation, test and train error as the run measured them and
    which of them chose it; ``input.preprocessing`` what a user must do to an image first.
    """
    t = choice.trial
    meta = store.meta()
    c = complexity(spec)
    weights: JSONObject | None = None
    if training is not None:
        weights = training.to_json()
    elif t.weights and files.get("safetensors"):
        weights = {"source": "run", "file": t.weights}
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(files),
        "run": {
            "dir": str(store.root.resolve()), "name": meta.get("name"),
            "space_file": meta.get("space_file"), "space_sha256": meta.get("space_sha256"),
            "space_copy_sha256": sha256(store.space_path) if store.space_path.is_file() else None,
            "seed": meta.get("seed"),
        },
        "selection": {"trial": t.id, "objective": choice.objective, "rule": choice.rule,
                      "selected_on": (None if choice.selected_on is None
                                      else f"{choice.selected_on} error"),
                      "candidates": choice.candidates, "left_out": list(choice.left_out),
                      "pareto_front": list(choice.front)},
        "errors": {**split_errors(t), "unit": "top-1 error in percent",
                   "used_to_select": choice.selected_on},
        "trial": {
            "id": t.id, "origin": t.origin, "status": t.status, "fingerprint": t.fingerprint,
            "values": t.values, "hparams": t.hparams, "seed": t.seed, "recipe": t.stored_recipe,
            "error": t.error, "metrics": t.metrics, "device": t.device,
            "train_seconds": t.train_seconds,
        },
        "complexity": c.to_dict(),
        "spec": {"name": spec.name, "family": spec.family, "fingerprint": spec.fingerprint()},
        "weights": weights,
        "input": {"shape": list(shape), "dtype": "float32", "layout": "NCHW",
                  "onnx_dynamic_batch": dynamic_batch, "output": "logits [N, num_classes]",
                  "preprocessing": preprocessing},
        "files": {fmt: {"file": name, "sha256": sha256(tmp / name)}
                  for fmt, name in files.items()},
        "skipped": skipped,
        "notes": notes,
    }


def write_json(doc: JSONObject, path: Path) -> None:
    """Pretty JSON with sorted keys."""
    path.write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")
