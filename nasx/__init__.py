"""nasx: neural architecture search by design-space exploration.

The public API is :mod:`nasx.api` (docs/api.md): ``nasx.api.sample``, ``train``, ``run``,
``read_run``, ``compare``, ``report``, ``narrow``, ``refine``, ``export``. The names that do not
collide with a subpackage are here too (``nasx.run``, ``nasx.read_run``, ``nasx.compare``,
``nasx.narrow``, ``nasx.load_space``); ``nasx.sample``, ``nasx.train``, ``nasx.report``,
``nasx.refine`` and ``nasx.export`` are the packages of those layers.
The top-level names are loaded lazily so that ``import nasx`` (and sampling) never imports torch;
only :func:`build_model` and :func:`export_trial` do.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "ArchSpec": "nasx.arch.spec",
    "decode": "nasx.arch.families",
    "complexity": "nasx.arch.complexity",
    "zoo": "nasx.arch.zoo",
    "api": "nasx.api",
    "Run": "nasx.api",
    "load_space": "nasx.api",
    "read_run": "nasx.api",
    "run": "nasx.api",
    "compare": "nasx.api",
    "narrow": "nasx.api",
    "load_spec": "nasx.arch.io",
    "save_spec": "nasx.arch.io",
    "build_model": "nasx.models",
    "export_trial": "nasx.export",
    "NasxError": "nasx.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if name in ("zoo", "api") else getattr(module, name)
    raise AttributeError(f"module 'nasx' has no attribute {name!r}")
