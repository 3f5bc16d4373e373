"""Architecture layer (torch-free): ArchSpec, families' decoders, exact complexity, zoo, spec I/O.

Nothing here imports torch. Names other than the complexity counter are loaded lazily, so
``import nasx.arch.spec`` (which the store and the models need) pays for neither the families,
numpy nor yaml.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Eager (light: stdlib only): the function must shadow its homonymous submodule, which the
# import system binds as a package attribute as soon as anything imports it.
from nasx.arch.complexity import Complexity, complexity

if TYPE_CHECKING:  # for type checkers and IDEs; at runtime see __getattr__
    from nasx.arch import zoo
    from nasx.arch.families import FAMILIES, Family, decode, get_family
    from nasx.arch.io import load_spec, save_spec
    from nasx.arch.spec import ArchSpec, BlockSpec, HeadSpec, StageSpec, StemSpec

_LAZY = {
    "ArchSpec": "nasx.arch.spec", "BlockSpec": "nasx.arch.spec", "HeadSpec": "nasx.arch.spec",
    "StageSpec": "nasx.arch.spec", "StemSpec": "nasx.arch.spec",
    "FAMILIES": "nasx.arch.families", "Family": "nasx.arch.families",
    "decode": "nasx.arch.families", "get_family": "nasx.arch.families",
    "load_spec": "nasx.arch.io", "save_spec": "nasx.arch.io", "zoo": "nasx.arch.zoo",
}

__all__ = [
    "FAMILIES", "ArchSpec", "BlockSpec", "Complexity", "Family", "HeadSpec", "StageSpec",
    "StemSpec", "complexity", "decode", "get_family", "load_spec", "save_spec", "zoo",
]


def __getattr__(name: str) -> Any:
    """Import the public names on first use."""
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if name == "zoo" else getattr(module, name)
    raise AttributeError(f"module 'nasx.arch' has no attribute {name!r}")
