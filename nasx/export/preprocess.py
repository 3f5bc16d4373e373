"""The input preprocessing a user of an exported model must repeat (recorded in provenance.json).

nasx trains on images scaled to [0, 1], adapted to the spec's channels, resized to its resolution
and standardised per channel with the mean and std of the training part (after resizing; the
validation and test parts never inform them). The exported networks contain none of that: a user
of model.onnx or model.ts feeds ``(pixel - mean[c]) / std[c]``.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import numpy as np

from nasx.arch.spec import ArchSpec
from nasx.errors import NasxError
from nasx.train.recipe import Recipe
from nasx.types import JSONObject

# How each reader brings raw pixels to [0, 1] and to the spec's size (see nasx/data/*).
SCALES = {
    "digits": "scikit-learn digits: values 0..16 divided by 16",
    "cifar10": "8-bit RGB divided by 255",
    "fashion_mnist": "8-bit grey divided by 255",
    "mnist_idx": "8-bit grey divided by 255",
    "imagenet_npz": "8-bit RGB divided by 255",
    "imagefolder": "Pillow: converted to RGB (3 channels) or L (1 channel), shorter side "
                   "resized to the stored size (bilinear) and the centre cropped square when "
                   "prepared, then 8-bit values divided by 255",
    "synthetic": "seeded uniform 8-bit random images divided by 255 (nothing to learn)",
}
RESIZE = ("bilinear to resolution x resolution (torch.nn.functional.interpolate, "
          "align_corners=False, antialias when shrinking) when the source size differs")


def _stats_from_dataset(recipe: Recipe, spec: ArchSpec) -> tuple[list[float], list[float]] | None:
    """Mean/std that the data layer exposes on its Dataset (``mean``, ``std``), if it does."""
    from nasx.data import Dataset, load_dataset

    names = {f.name for f in dataclasses.fields(Dataset)}
    if not {"mean", "std"} <= names:
        return None
    ds = load_dataset(recipe, spec.resolution, spec.in_channels, "cpu")
    return [float(v) for v in ds.mean], [float(v) for v in ds.std]  # type: ignore[attr-defined]


def _raw(recipe: Recipe, spec: ArchSpec) -> Any:
    """The reader's raw data for the recipe (what nasx.data.loader reads)."""
    if recipe.data == "digits":
        from nasx.data.digits import load_digits_raw

        return load_digits_raw()
    if recipe.data == "cifar10":
        from nasx.data.cifar import load_cifar10_raw

        return load_cifar10_raw(recipe.data_dir)
    from nasx.data.imagefolder import load_imagefolder_raw

    return load_imagefolder_raw(recipe.data_dir, spec.resolution, spec.in_channels)


def _stats_by_probe(recipe: Recipe, spec: ArchSpec) -> tuple[list[float], list[float]]:
    """Mean/std measured through the data layer's own pipeline.

    The reader's test images are replaced by two constant images (black, white): to_dataset
    standardises them with the training statistics, so black -> -mean/std and white ->
    (1 - mean)/std per channel, which gives mean and std exactly as training used them.
    """
    import torch

    from nasx.data.base import to_dataset

    raw = _raw(recipe, spec)
    top = 255 if raw.x_train.dtype == np.uint8 else 1.0
    shape = (2, *raw.x_train.shape[1:])
    probe = np.zeros(shape, dtype=raw.x_train.dtype)
    probe[1] = top
    raw = dataclasses.replace(raw, x_test=probe, y_test=np.zeros(2, dtype=np.int64))
    params = inspect.signature(to_dataset).parameters
    extra = {k: getattr(recipe, k) for k in ("val_fraction", "split_seed")
             if k in params and hasattr(recipe, k)}
    ds = to_dataset(raw, spec.resolution, spec.in_channels, torch.device("cpu"), **extra)
    black = ds.x_test[0].double().mean(dim=(1, 2))
    white = ds.x_test[1].double().mean(dim=(1, 2))
    std = 1.0 / (white - black)
    mean = -black * std
    return [round(float(v), 7) for v in mean], [round(float(v), 7) for v in std]


def preprocessing(recipe: Recipe, spec: ArchSpec) -> tuple[JSONObject, str | None]:
    """(the preprocessing document, a note when mean/std could not be measured).

    Loads the recipe's data set once (on the CPU) to measure the statistics; a data set that is
    not available here (e.g. a CIFAR-10 folder of another machine) leaves them null with a note.
    """
    doc: JSONObject = {
        "data": recipe.data, "data_dir": recipe.data_dir, "resolution": spec.resolution,
        "channels": spec.in_channels, "num_classes": spec.num_classes, "layout": "NCHW",
        "dtype": "float32", "scale_to_unit": SCALES.get(recipe.data), "resize": RESIZE,
        "channel_adapt": ("grey images are replicated to 3 channels" if spec.in_channels == 3
                          and recipe.data == "digits" else None),
        "normalise": "x[c] = (pixel[c] - mean[c]) / std[c], pixel in [0, 1]",
        "mean": None, "std": None,
        "statistics_from": "training part (without the validation split), after resizing",
        "output": "logits [N, num_classes] (no softmax)",
    }
    try:
        stats = _stats_from_dataset(recipe, spec) or _stats_by_probe(recipe, spec)
    except NasxError as exc:
        return doc, f"input mean/std not measured (data set not readable here): {exc}"
    except Exception as exc:  # noqa: BLE001 - never fail an export over its documentation
        return doc, f"input mean/std not measured: {type(exc).__name__}: {exc}"
    doc["mean"], doc["std"] = stats
    return doc, None
