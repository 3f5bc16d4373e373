"""Architecture layer (torch-free): ArchSpec, families' decoders, exact complexity, zoo, spec I/O.

Nothing here imports torch: sampling and describing architectures must stay cheap.
"""

from __future__ import annotations

from nasx.arch import zoo
from nasx.arch.complexity import Complexity, complexity
from nasx.arch.families import FAMILIES, Family, decode, get_family
from nasx.arch.io import load_spec, save_spec
from nasx.arch.spec import ArchSpec, BlockSpec, HeadSpec, StageSpec, StemSpec

__all__ = [
    "FAMILIES", "ArchSpec", "BlockSpec", "Complexity", "Family", "HeadSpec", "StageSpec",
    "StemSpec", "complexity", "decode", "get_family", "load_spec", "save_spec", "zoo",
]
