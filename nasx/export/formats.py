"""Writers of the exported files: safetensors weights, TorchScript and ONNX (eval mode, fp32).

Both TorchScript and ONNX files run without nasx (torch.jit.load; onnxruntime). Their input is
``[N, C, R, R]`` float32; the batch axis is dynamic in ONNX when the exporter can make it so.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import torch
from torch import nn

from nasx.arch.io import save_spec
from nasx.arch.spec import ArchSpec
from nasx.errors import ExportError


def parse_formats(formats: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Formats from 'yaml,onnx' or a list, in canonical order; ExportError for unknown ones."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = {f.strip().lower() for f in items if f.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown or not wanted:
        raise ExportError(rule=f"must be a comma-separated subset of {','.join(FORMATS)}",
                          value=formats, shown=",".join(unknown) or None, key="--format")
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


@dataclass(frozen=True)
class Exportable:
    """What a writer reads: the spec, and the model and an example input where weights exist."""

    spec: ArchSpec
    model: nn.Module | None = None
    example: torch.Tensor | None = None

    def weights(self) -> tuple[nn.Module, torch.Tensor]:
        """(model, example input); an internal invariant that a weights format has them."""
        assert self.model is not None and self.example is not None, "no weights to export"
        return self.model, self.example


# A writer writes one file; it returns whether the ONNX batch axis is dynamic (None elsewhere).
Writer = Callable[[Exportable, Path], "bool | None"]


@dataclass(frozen=True)
class ExportFormat:
    """An export format: its file name, whether it needs trained weights, its writer."""

    name: str
    file: str
    needs_weights: bool
    write: Writer


def _yaml(item: Exportable, path: Path) -> None:
    save_spec(item.spec, path)


def _safetensors(item: Exportable, path: Path) -> None:
    write_weights(item.weights()[0].state_dict(), path)


def _torchscript(item: Exportable, path: Path) -> None:
    write_torchscript(*item.weights(), path)


def _onnx(item: Exportable, path: Path) -> bool:
    return write_onnx(*item.weights(), path)


# The registry of export formats, in canonical order (docs/internals.md: adding a format is one
# entry here plus its tests).
EXPORT_FORMATS: Mapping[str, ExportFormat] = MappingProxyType({f.name: f for f in (
    ExportFormat("yaml", "spec.yaml", needs_weights=False, write=_yaml),
    ExportFormat("safetensors", "weights.safetensors", needs_weights=True, write=_safetensors),
    ExportFormat("torchscript", "model.ts", needs_weights=True, write=_torchscript),
    ExportFormat("onnx", "model.onnx", needs_weights=True, write=_onnx),
)})
FORMATS = tuple(EXPORT_FORMATS)
FILES = {name: f.file for name, f in EXPORT_FORMATS.items()}
NEEDS_WEIGHTS = tuple(name for name, f in EXPORT_FORMATS.items() if f.needs_weights)
