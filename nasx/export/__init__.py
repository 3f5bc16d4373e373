"""Export a trial of a run: spec YAML, safetensors weights, TorchScript, ONNX and provenance."""

from __future__ import annotations

from nasx.export.formats import FILES, FORMATS
from nasx.export.select import OBJECTIVES, choose, knee, pareto_front
from nasx.export.trial import export_trial

__all__ = ["FILES", "FORMATS", "OBJECTIVES", "choose", "export_trial", "knee", "pareto_front"]
