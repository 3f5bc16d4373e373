"""Constants shared by the space and arch layers (defined once, imported by both).

Torch- and numpy-free: the lowest layer, beside ``nasx.errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Input keys every family accepts, with their defaults (ImageNet-sized input).
INPUT_DEFAULTS: Mapping[str, int] = MappingProxyType(
    {"resolution": 224, "in_channels": 3, "num_classes": 1000}
)

# Width quantum q: RegNet widths (and the prefilter's screen of them) are multiples of q
# (docs/internals.md, "Reference formulas").
WIDTH_QUANTUM = 8
