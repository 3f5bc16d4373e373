"""The public Python API of nasx: the workflow the CLI wraps (each verb parses its arguments,
calls one of these, and prints). Torch-free to import, and light: each function's module (and
what it needs) loads on first use. docs/api.md has a runnable example.

    from nasx import api
    run = api.run("regnet_digits", n=8, executor="inline", epochs=1, out="runs/demo")
    df = api.read_run("runs/demo").frame
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Run": "nasx.api.runs", "read_run": "nasx.api.runs", "run": "nasx.api.runs",
    "sample": "nasx.api.runs", "train": "nasx.api.runs",
    "compare": "nasx.api.analysis", "export": "nasx.api.analysis",
    "narrow": "nasx.api.analysis", "refine": "nasx.api.analysis",
    "report": "nasx.api.analysis",
    "execution_options": "nasx.api.execution",
    "load_space": "nasx.api.spaces",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return getattr(module, "options_from" if name == "execution_options" else name)
    raise AttributeError(f"module 'nasx.api' has no attribute {name!r}")
