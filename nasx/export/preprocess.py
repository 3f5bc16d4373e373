"""The input preprocessing a user of an exported model must repeat (recorded in provenance.json).

nasx trains on images scaled to [0, 1], adapted to the spec's channels, resized to its resolution
and standardised per channel with the mean and std of the training part (after resizing; the
validation and test parts never inform them). The exported networks contain none of that: a user
of model.onnx or model.ts feeds ``(pixel - mean[c]) / std[c]``.
"""

from __future__ import annotations

from nasx.arch.spec import ArchSpec
from nasx.data.sets import find
from nasx.errors import NasxError
from nasx.train.recipe import Recipe
from nasx.types import JSONObject

RESIZE = ("bilinear to resolution x resolution (torch.nn.functional.interpolate, "
          "align_corners=False, antialias when shrinking) when the source size differs")


def _stats(recipe: Recipe, spec: ArchSpec) -> tuple[list[float], list[float]]:
    """Mean/std that the data layer measured on the training part (its Dataset's)."""
    from nasx.data import load_dataset

    ds = load_dataset(recipe, spec.resolution, spec.in_channels, "cpu")
    return [float(v) for v in ds.mean], [float(v) for v in ds.std]


def preprocessing(recipe: Recipe, spec: ArchSpec) -> tuple[JSONObject, str | None]:
    """(the preprocessing document, a note when mean/std could not be measured).

    Loads the recipe's data set once (on the CPU) to measure the statistics; a data set that is
    not available here (e.g. a CIFAR-10 folder of another machine) leaves them null with a note.
    """
    entry = find(recipe.data)
    grey = entry is not None and entry.channels == (1,)
    doc: JSONObject = {
        "data": recipe.data, "data_dir": recipe.data_dir, "resolution": spec.resolution,
        "channels": spec.in_channels, "num_classes": spec.num_classes, "layout": "NCHW",
        "dtype": "float32", "scale_to_unit": entry.scale_text if entry else None, "resize": RESIZE,
        "channel_adapt": ("grey images are replicated to 3 channels" if spec.in_channels == 3
                          and grey else None),
        "normalise": "x[c] = (pixel[c] - mean[c]) / std[c], pixel in [0, 1]",
        "mean": None, "std": None,
        "statistics_from": "training part (without the validation split), after resizing",
        "output": "logits [N, num_classes] (no softmax)",
    }
    try:
        stats = _stats(recipe, spec)
    except NasxError as exc:
        return doc, f"input mean/std not measured (data set not readable here): {exc}"
    except Exception as exc:  # noqa: BLE001 - never fail an export over its documentation
        return doc, f"input mean/std not measured: {type(exc).__name__}: {exc}"
    doc["mean"], doc["std"] = stats
    return doc, None
