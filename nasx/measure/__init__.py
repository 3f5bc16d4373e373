"""Measured cost of an architecture: inference latency and peak training memory (torch layer).

:func:`latency` times a model built from an ArchSpec (warm-up, then R timed runs; median and
IQR in ms) on PyTorch CPU, ONNX Runtime CPU or CUDA; :func:`train_memory` gives the peak memory
of one training step; :func:`measure_spec` runs every one that the machine allows. Each figure is
a :class:`Measurement` that records its device, batch, threads and method.
"""

from nasx.measure.latency import BACKENDS, latency
from nasx.measure.memory import train_memory
from nasx.measure.result import Measurement
from nasx.measure.suite import measure_spec

__all__ = ["BACKENDS", "Measurement", "latency", "measure_spec", "train_memory"]
