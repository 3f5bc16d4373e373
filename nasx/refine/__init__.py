"""Narrow a design space from a trained population, and refine it with an Optuna study.

``narrow`` (no optuna) proposes a strictly narrower space file with its lineage; ``refine`` runs an
Optuna study warm-started from the run. Optuna is imported only inside :mod:`nasx.refine.study`
and its helpers, so ``import nasx.refine`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nasx.errors import RefineError

if TYPE_CHECKING:
    from nasx.refine.narrow import NarrowResult, narrow
    from nasx.refine.options import RefineOptions, RefineSummary
    from nasx.refine.study import refine

__all__ = ["NarrowResult", "RefineError", "RefineOptions", "RefineSummary", "narrow", "refine"]

_LAZY = {
    "narrow": "nasx.refine.narrow", "NarrowResult": "nasx.refine.narrow",
    "refine": "nasx.refine.study", "RefineOptions": "nasx.refine.options",
    "RefineSummary": "nasx.refine.options",
}


def __getattr__(name: str) -> Any:
    """Import the public names on first use (the study module pulls in optuna)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nasx.refine' has no attribute {name!r}")
