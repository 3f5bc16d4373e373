"""Registry of architecture families and :func:`decode` (values -> ArchSpec).

Each family lives in one module of this package that declares ``FAMILY`` (a :class:`Family`
made from its value model, :mod:`.model`); the registry collects every such module, so adding a
family is adding its module (docs/internals.md, "How to add a family"). Values are
flat: scalar keys, and per-stage keys as ``KEY_1 .. KEY_n`` (1-based; unsuffixed means every
stage). Unknown keys or wrong types raise :class:`~nasx.errors.SpaceError` naming the key; a value
set that gives no valid network raises :class:`~nasx.errors.InvalidSample`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from nasx.arch.families.base import Family
from nasx.arch.spec import ArchSpec
from nasx.constants import INPUT_DEFAULTS
from nasx.errors import SpaceError


def _discover() -> dict[str, Family]:
    """Every ``FAMILY`` declared by a module of this package, by name (module order)."""
    found: dict[str, Family] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        family = getattr(importlib.import_module(f"{__name__}.{info.name}"), "FAMILY", None)
        if isinstance(family, Family):
            assert family.name not in found, f"family {family.name!r} declared twice"
            found[family.name] = family
    return found


FAMILIES: Mapping[str, Family] = MappingProxyType(_discover())

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
