"""PyTorch models built from an ArchSpec (imports torch and nasx.arch only).

``build_model(spec)`` gives the network; ``count_params`` / ``count_flops`` measure it so tests
can check the analytic complexity exactly.
"""

from __future__ import annotations

from nasx.models.count import bias_flops, count_flops, count_params
from nasx.models.net import ArchError, Net, build_model, check_spec, init_weights

__all__ = [
    "ArchError", "Net", "bias_flops", "build_model", "check_spec", "count_flops", "count_params",
    "init_weights",
]
