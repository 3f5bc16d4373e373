"""Registry of architecture families and :func:`decode` (values -> ArchSpec).

Each family lives in one module with its defaults and declares a :class:`Family`. Values are
flat: scalar keys, and per-stage keys as ``KEY_1 .. KEY_n`` (1-based; unsuffixed means every
stage). Unknown keys or wrong types raise :class:`~nasx.errors.SpaceError` naming the key; a value
set that gives no valid network raises :class:`~nasx.errors.InvalidSample`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from nasx.arch.families import anynet, efficientnet, mobilenetv2, regnet, resnext
from nasx.arch.families.base import INPUT_DEFAULTS, Family
from nasx.arch.spec import ArchSpec
from nasx.errors import SpaceError

FAMILIES: Mapping[str, Family] = MappingProxyType({
    f.name: f
    for f in (anynet.FAMILY, regnet.FAMILY, resnext.FAMILY, efficientnet.FAMILY, mobilenetv2.FAMILY)
})

__all__ = ["FAMILIES", "INPUT_DEFAULTS", "Family", "decode", "get_family"]


def get_family(name: str) -> Family:
    """The registered family ``name``; SpaceError listing the known ones otherwise."""
    fam = FAMILIES.get(name) if isinstance(name, str) else None
    if fam is None:
        raise SpaceError(
            f"unknown family {name!r} (known: {', '.join(sorted(FAMILIES))})", key="family"
        )
    return fam


def decode(family: str, values: Mapping[str, Any]) -> ArchSpec:
    """The ArchSpec of ``family`` for a flat value dict (defaults fill missing keys)."""
    return get_family(family).decode(values)
