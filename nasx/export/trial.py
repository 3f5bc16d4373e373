"""export_trial: one trial of a run -> a folder of spec, weights, TorchScript, ONNX, provenance.

Everything is written into a temporary folder beside ``out`` and renamed at the end, so an error
at any step leaves no half-written export behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from nasx.arch.spec import ArchSpec
from nasx.errors import ExportError, NasxError
from nasx.export.formats import (
    FILES,
    FORMATS,
    NEEDS_WEIGHTS,
    example_input,
    parse_formats,
    write_onnx,
    write_torchscript,
    write_weights,
)
from nasx.export.provenance import provenance, write_json
from nasx.export.select import Choice, choose
from nasx.store.run_store import RunStore, TrialRecord


def _prepare_out(out: Path) -> Path:
    """Check the target and make the temporary folder beside it; ExportError when unwritable."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError("already exists and is not an empty folder; choose another --out",
                          file=str(out))
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ExportError(f"cannot create folder {parent}: a file is in the way",
                          file=str(out)) from None
    except OSError as exc:
        raise ExportError(f"cannot create folder {parent}: {exc.strerror or exc}",
                          file=str(out)) from None
    try:
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise ExportError(f"cannot write into {parent}: {exc.strerror or exc}",
                          file=str(out)) from None


def _recipe(store: RunStore, t: TrialRecord, epochs: int | None) -> dict[str, Any]:
    """The trial's recipe (as it ran, else resolved from the run's space), epochs overridden."""
    from nasx.train.recipe import Recipe, resolve_recipe

    if t.recipe is not None:
        recipe = Recipe.from_dict(t.recipe)
    else:
        from nasx.space import load_space

        space = load_space(store.space_path)
        recipe = resolve_recipe(space.train_fixed, t.hparams, None, source=str(store.space_path))
    if epochs is not None:
        recipe = recipe.override({"epochs": epochs}, source="--epochs")
    return recipe.to_dict()


def _train(store: RunStore, t: TrialRecord, epochs: int | None
           ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Train the trial's architecture with the run's recipe; its weights and a summary."""
    from safetensors.torch import load

    from nasx.train.job import TrialJob
    from nasx.train.trainer import train_trial

    recipe = _recipe(store, t, epochs)
    result = train_trial(TrialJob(t.id, t.spec, recipe, t.seed, return_weights=True))
    if result.status != "done" or result.weights is None:
        raise ExportError(f"training trial {t.id} for export ended {result.status}: "
                          f"{result.message or 'no weights'}", file=str(store.root), key="--train")
    info = {"source": "trained by export", "recipe": recipe, "error": result.error,
            "metrics": result.metrics, "device": result.device, "seconds": result.seconds}
    return load(result.weights), info


def _kept(store: RunStore, t: TrialRecord) -> tuple[dict[str, torch.Tensor] | None, str | None]:
    """The weights the run kept for the trial, or (None, why not)."""
    from safetensors.torch import load_file

    if not t.weights:
        return None, f"trial {t.id} kept no weights (only the best trials of a run do)"
    path = store.root / t.weights
    if not path.is_file():
        return None, f"trial {t.id}'s weights file {t.weights} is missing from the run"
    try:
        return load_file(str(path)), None
    except Exception as exc:  # noqa: BLE001 - a corrupt file is a user-facing problem
        raise ExportError(f"unreadable safetensors file: {exc}", file=str(path)) from None


def _model(spec: ArchSpec, state: dict[str, torch.Tensor], source: str) -> torch.nn.Module:
    from nasx.models import build_model

    model = build_model(spec, init=False)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ExportError(f"weights do not fit the trial's architecture: {first[-1].strip()}",
                          file=source) from None
    return model.eval()


def export_trial(run_dir: str | os.PathLike[str], trial_id: int | None = None, *,
                 best: bool = False, objective: str = "error",
                 formats: str | tuple[str, ...] = FORMATS, out: str | os.PathLike[str] = "export",
                 train: bool = False, epochs: int | None = None) -> Path:
    """Export one trial (``trial_id``, or ``best=True`` with objective error|pareto) into ``out``.

    Writes spec.yaml, weights.safetensors, model.ts, model.onnx (as ``formats`` asks) and always
    provenance.json. Without kept weights only the spec is written (noted in provenance.json)
    unless ``train``: it trains the architecture with the run's recipe (``epochs`` overrides)
    and exports those weights, kept ones or not.
    """
    fmts = parse_formats(formats)
    if epochs is not None and not train:
        raise ExportError("--epochs only applies with --train", key="--epochs")
    with RunStore.open(run_dir) as store:
        choice = choose(store, trial_id, best=best, objective=objective)
        t = choice.trial
        if t.status in ("failed", "diverged"):
            raise ExportError(f"trial {t.id} {t.status}: {t.message or 'no message'}; "
                              "nothing to export", file=str(store.root), key="--trial")
        target = Path(out)
        tmp = _prepare_out(target)
        try:
            _write(store, choice, fmts, tmp, train=train, epochs=epochs)
            if target.exists():
                target.rmdir()  # empty (checked above); rename cannot replace a folder
            os.rename(tmp, target)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError) and not isinstance(exc, NasxError):
                raise ExportError(f"cannot write the export: {exc.strerror or exc}",
                                  file=str(target)) from None
            raise
    return target


def _write(store: RunStore, choice: Choice, fmts: tuple[str, ...], tmp: Path, *, train: bool,
           epochs: int | None) -> None:
    """Write every requested file, then provenance.json, into ``tmp``."""
    from nasx.arch.io import save_spec

    t = choice.trial
    spec = ArchSpec.from_dict(t.spec)
    notes: list[str] = []
    training: dict[str, Any] | None = None
    if train:
        state, training = _train(store, t, epochs)
    else:
        state, why = _kept(store, t)
        if why:
            notes.append(f"{why}: wrote no weights, TorchScript or ONNX; "
                         "pass --train [--epochs E] to train it first")
    shape = (1, spec.in_channels, spec.resolution, spec.resolution)
    if "yaml" in fmts:
        save_spec(spec, tmp / FILES["yaml"])
    dynamic = None
    if state is not None:
        model = _model(spec, state, str(store.root / (t.weights or "trained weights")))
        x = example_input(shape, seed=t.seed)
        if "safetensors" in fmts:
            write_weights(model.state_dict(), tmp / FILES["safetensors"])
        if "torchscript" in fmts:
            write_torchscript(model, x, tmp / FILES["torchscript"])
        if "onnx" in fmts:
            dynamic = write_onnx(model, x, tmp / FILES["onnx"])
    written = {f: FILES[f] for f in fmts if (tmp / FILES[f]).is_file()}
    skipped = [f for f in fmts if f in NEEDS_WEIGHTS and f not in written]
    doc = provenance(store, choice, spec, files=written, tmp=tmp,
                     shape=shape, dynamic_batch=dynamic, training=training, notes=notes,
                     skipped=skipped)
    write_json(doc, tmp / "provenance.json")
