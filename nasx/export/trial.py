"""export_trial: one trial of a run -> a folder of spec, weights, TorchScript, ONNX, provenance.

Everything is written into a temporary folder beside ``out`` and renamed at the end, so an error
at any step leaves no half-written export behind; the result gets ordinary permissions (0644
files, 0755 folders, modulo the umask), not the 0700 of a temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from nasx.arch.spec import ArchSpec
from nasx.errors import ExportError, NasxError
from nasx.export.formats import (
    EXPORT_FORMATS,
    FILES,
    FORMATS,
    NEEDS_WEIGHTS,
    Exportable,
    example_input,
    parse_formats,
)
from nasx.export.preprocess import preprocessing
from nasx.export.provenance import Training, provenance, write_json
from nasx.export.select import SPLIT_KEYS, Choice, choose
from nasx.fsutil import atomic_folder, temp_folder_beside, umask
from nasx.store.run_store import RunStore, TrialRecord, TrialStatus
from nasx.train import population
from nasx.train.recipe import Recipe
from nasx.types import Scalar


def _prepare_out(out: Path) -> Path:
    """Check the target and make the temporary folder beside it; ExportError when unwritable."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError("already exists and is not an empty folder; choose another --out",
                          where=str(out))
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ExportError(f"cannot create folder {parent}: a file is in the way",
                          where=str(out)) from None
    except OSError as exc:
        raise ExportError(f"cannot create folder {parent}: {exc.strerror or exc}",
                          where=str(out)) from None
    try:
        return temp_folder_beside(out)
    except OSError as exc:
        raise ExportError(f"cannot write into {parent}: {exc.strerror or exc}",
                          where=str(out)) from None


def train_recipe(store: RunStore, t: TrialRecord, overrides: Mapping[str, Scalar]
                 ) -> tuple[Recipe, list[str], str]:
    """(recipe to retrain ``t`` with, what the user's overrides change, where the base came from).

    Base: the run's population recipe (the rule of ``nasx train``, see
    :func:`nasx.execute.plan.choose_recipe`) with the trial's own draws of the space's train:
    distributions; ``overrides`` (explicit command-line values) win.
    """
    from nasx.execute.plan import choose_recipe

    choice = choose_recipe(store, overrides)
    source = ("the run's population recipe" if choice.population is not None
              else "the space's train: block (no trial of the run was trained yet)")
    recipe = Recipe.from_dict(choice.recipe).override(dict(t.hparams),
                                                      source=str(store.space_path))
    return recipe, list(choice.differs), source


def _train(store: RunStore, t: TrialRecord, recipe: tuple[Recipe, list[str], str]
           ) -> tuple[dict[str, torch.Tensor], Training]:
    """Train the trial's architecture with ``recipe`` (see :func:`train_recipe`); its weights and
    how they were trained."""
    from safetensors.torch import load

    from nasx.train.job import TrialJob
    from nasx.train.trainer import train_trial

    result = train_trial(TrialJob(t.id, t.spec, recipe[0], t.seed, return_weights=True))
    if result.status != TrialStatus.DONE or result.weights is None:
        raise ExportError(f"training trial {t.id} for export ended {result.status}: "
                          f"{result.message or 'no weights'}", where=str(store.root), key="--train")
    errors = {split: (float(result.metrics[k]) if isinstance(result.metrics.get(k), int | float)
                      else None) for split, k in SPLIT_KEYS.items()}
    info = Training(recipe=recipe[0], error=result.error, errors=errors, metrics=result.metrics,
                    device=result.device, seconds=result.seconds, recipe_base=recipe[2],
                    differs=recipe[1])
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
        raise ExportError(f"unreadable safetensors file: {exc}", where=str(path)) from None


def _model(spec: ArchSpec, state: dict[str, torch.Tensor], source: str) -> torch.nn.Module:
    from nasx.models import build_model

    model = build_model(spec, init=False)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ExportError(f"weights do not fit the trial's architecture: {first[-1].strip()}",
                          where=source) from None
    return model.eval()


def _ordinary_permissions(folder: Path) -> None:
    """0666/0777 minus the umask on ``folder`` and everything in it (mkdtemp makes 0700)."""
    mask = umask()
    for path in (folder, *folder.rglob("*")):
        if not path.is_symlink():
            path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)


def export_trial(run_dir: str | os.PathLike[str], trial_id: int | None = None, *,
                 best: bool = False, objective: str = "error",
                 formats: str | tuple[str, ...] = FORMATS, out: str | os.PathLike[str] = "export",
                 train: bool = False, epochs: int | None = None,
                 overrides: Mapping[str, Scalar] | None = None) -> Path:
    """Export one trial (``trial_id``, or ``best=True`` with objective error|pareto) into ``out``.

    Writes spec.yaml, weights.safetensors, model.ts, model.onnx (as ``formats`` asks) and always
    provenance.json. ``best`` ranks the run's population trials on validation error; when a
    format needs weights and ``train`` is off, only trials with kept weights compete. ``train``
    trains the architecture with the run's population recipe (``epochs`` and other recipe
    ``overrides`` win; what they change is noted) and exports those weights.
    """
    fmts = parse_formats(formats)
    asked = {k: v for k, v in {**(overrides or {}), "epochs": epochs}.items() if v is not None}
    if asked and not train:
        raise ExportError(f"--{next(iter(asked)).replace('_', '-')} only applies with --train",
                          key=f"--{next(iter(asked)).replace('_', '-')}")
    needs_weights = not train and any(f in NEEDS_WEIGHTS for f in fmts)
    with RunStore.open(run_dir, readonly=True) as store:  # export never writes the run
        choice = choose(store, trial_id, best=best, objective=objective,
                        needs_weights=needs_weights)
        t = choice.trial
        if t.status in (TrialStatus.FAILED, TrialStatus.DIVERGED):
            raise ExportError(f"trial {t.id} {t.status}: {t.message or 'no message'}; "
                              "nothing to export", where=str(store.root), key="--trial")
        recipe = train_recipe(store, t, asked) if train else None  # validated before writing
        target = Path(out)
        tmp = _prepare_out(target)
        try:
            with atomic_folder(target, tmp=tmp) as folder:  # target: absent or empty (checked)
                _write(store, choice, fmts, folder, recipe=recipe)
                _ordinary_permissions(folder)
        except OSError as exc:
            if isinstance(exc, NasxError):
                raise
            raise ExportError(f"cannot write the export: {exc.strerror or exc}",
                              where=str(target)) from None
    return target


def _recipe_notes(store: RunStore, choice: Choice,
                  recipe: tuple[Recipe, list[str], str] | None) -> list[str]:
    """Lines on the recipe: an out-of-population trial, overrides that leave the population."""
    t = choice.trial
    notes: list[str] = []
    run_recipe = store.run_recipe()
    stored = t.stored_recipe
    if stored is not None and not population.in_population(stored, t.hparams, run_recipe):
        what = ", ".join(population.diff(run_recipe or {}, stored, t.hparams.keys()))
        notes.append(f"trial {t.id} was trained with another recipe than the run's population "
                     f"({what}); its errors are not comparable with the population's")
    if recipe is not None:
        _, differs, source = recipe
        if differs:
            notes.append(f"trained with a recipe that differs from {source} "
                         f"({', '.join(differs)}) as asked")
    if choice.selected_on == "test":
        notes.append("the run's trials have no validation error (trained before validation "
                     "splits): chosen on the test error, which is optimistic for the chosen trial")
    return notes


def _write(store: RunStore, choice: Choice, fmts: tuple[str, ...], tmp: Path, *,
           recipe: tuple[Recipe, list[str], str] | None) -> None:
    """Write every requested file (each by its registry entry's writer), then provenance.json,
    into ``tmp``."""
    t = choice.trial
    spec = t.spec
    notes = list(choice.left_out) + _recipe_notes(store, choice, recipe)
    training: Training | None = None
    state: dict[str, torch.Tensor] | None = None
    if recipe is not None:
        state, training = _train(store, t, recipe)
    elif any(f in NEEDS_WEIGHTS for f in fmts):
        state, why = _kept(store, t)
        if why:
            notes.append(f"{why}: wrote no weights, TorchScript or ONNX; "
                         "pass --train [--epochs E] to train it first")
    shape = (1, spec.in_channels, spec.resolution, spec.resolution)
    item = Exportable(spec)
    if state is not None and any(f in NEEDS_WEIGHTS for f in fmts):
        model = _model(spec, state, str(store.root / (t.weights or "trained weights")))
        item = Exportable(spec, model, example_input(shape, seed=t.seed))
    dynamic = None
    for name in fmts:  # every asked format's writer, from the registry
        fmt = EXPORT_FORMATS[name]
        if fmt.needs_weights and item.model is None:
            continue
        out = fmt.write(item, tmp / fmt.file)
        dynamic = out if out is not None else dynamic
    written = {f: FILES[f] for f in fmts if (tmp / FILES[f]).is_file()}
    skipped = [f for f in fmts if f in NEEDS_WEIGHTS and f not in written]
    # The preprocessing of the data the exported weights were trained on.
    used = recipe[0] if recipe is not None else (t.recipe or train_recipe(store, t, {})[0])
    prep, why_not = preprocessing(used, spec)
    if why_not:
        notes.append(why_not)
    doc = provenance(store, choice, spec, files=written, tmp=tmp,
                     shape=shape, dynamic_batch=dynamic, training=training, notes=notes,
                     skipped=skipped, preprocessing=prep)
    write_json(doc, tmp / "provenance.json")
