"""Writers of the exported files: safetensors weights, TorchScript and ONNX (eval mode, fp32).

Both TorchScript and ONNX files run without nasx (torch.jit.load; onnxruntime). Their input is
``[N, C, R, R]`` float32; the batch axis is dynamic in ONNX when the exporter can make it so.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from nasx.errors import ExportError

FORMATS = ("yaml", "safetensors", "torchscript", "onnx")
FILES = {"yaml": "spec.yaml", "safetensors": "weights.safetensors", "torchscript": "model.ts",
         "onnx": "model.onnx"}
NEEDS_WEIGHTS = ("safetensors", "torchscript", "onnx")


def parse_formats(formats: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Formats from 'yaml,onnx' or a list, in canonical order; ExportError for unknown ones."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = {f.strip().lower() for f in items if f.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown or not wanted:
        raise ExportError(f"must be a comma-separated subset of {','.join(FORMATS)}; "
                          f"got {','.join(unknown) or repr(formats)}", key="--format")
    return tuple(f for f in FORMATS if f in wanted)


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' deprecation warnings and logger chatter (not errors)."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def example_input(shape: tuple[int, int, int, int], seed: int = 0) -> torch.Tensor:
    """A seeded float32 input of ``shape`` (independent of torch's global RNG)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen)


def write_weights(state: dict[str, torch.Tensor], path: Path) -> None:
    """The state dict as safetensors (contiguous CPU copies; no pickles)."""
    from safetensors.torch import save_file

    save_file({k: v.detach().to("cpu").contiguous() for k, v in state.items()}, str(path))


def write_torchscript(model: nn.Module, x: torch.Tensor, path: Path) -> None:
    """A traced TorchScript module (conv nets trace with any batch size)."""
    try:
        with _quiet(), torch.no_grad():
            traced = torch.jit.trace(model, x)
            traced.save(str(path))
    except Exception as exc:  # noqa: BLE001 - report an exporter failure on one line
        raise ExportError(f"TorchScript export failed: {type(exc).__name__}: {exc}",
                          where=str(path)) from None


def write_onnx(model: nn.Module, x: torch.Tensor, path: Path) -> bool:
    """An ONNX file (weights inside) via the dynamo exporter; returns whether batch is dynamic.

    The example has batch 2 because export specialises sizes 0 and 1; a static [1, C, R, R]
    export is the fallback when a dynamic batch cannot be had.
    """
    batch = torch.export.Dim("batch", min=1, max=4096)
    x2 = torch.cat([x, x])
    try:
        with _quiet():
            torch.onnx.export(model, (x2,), str(path), dynamo=True, external_data=False,
                              verbose=False, dynamic_shapes=({0: batch},), input_names=["input"],
                              output_names=["logits"])
        return True
    except Exception:  # noqa: BLE001 - fall back to a static shape
        path.unlink(missing_ok=True)
    try:
        with _quiet():
            torch.onnx.export(model, (x,), str(path), dynamo=True, external_data=False,
                              verbose=False, input_names=["input"], output_names=["logits"])
    except Exception as exc:  # noqa: BLE001 - report an exporter failure on one line
        raise ExportError(f"ONNX export failed: {type(exc).__name__}: {exc}",
                          where=str(path)) from None
    return False
