"""The export-format registry: every format writes its file through one writer signature."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from nasx.arch.families import decode
from nasx.export.formats import EXPORT_FORMATS, FILES, FORMATS, NEEDS_WEIGHTS, Exportable
from nasx.models import build_model

TINY = {"depth": 2, "w0": 8, "wa": 8, "wm": 2.0, "group_w": 8, "stem": "cifar",
        "resolution": 8, "in_channels": 1, "num_classes": 10}


def test_lists_are_derived_from_the_registry() -> None:
    assert FORMATS == ("yaml", "safetensors", "torchscript", "onnx")
    assert FILES == {"yaml": "spec.yaml", "safetensors": "weights.safetensors",
                     "torchscript": "model.ts", "onnx": "model.onnx"}
    assert NEEDS_WEIGHTS == ("safetensors", "torchscript", "onnx")


@pytest.mark.parametrize("name", list(EXPORT_FORMATS))
def test_every_format_writes_its_file(name: str, tmp_path: Path) -> None:
    if name == "onnx" and importlib.util.find_spec("onnxscript") is None:
        pytest.skip("the ONNX exporter needs onnxscript")
    import torch

    fmt = EXPORT_FORMATS[name]
    spec = decode("regnet", TINY)
    model = build_model(spec).eval()
    item = Exportable(spec, model, torch.zeros(1, 1, 8, 8)) if fmt.needs_weights else \
        Exportable(spec)
    out = fmt.write(item, tmp_path / fmt.file)
    assert (tmp_path / fmt.file).stat().st_size > 0
    assert (out is True or out is False) if name == "onnx" else out is None
