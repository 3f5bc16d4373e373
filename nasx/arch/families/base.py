"""The :class:`Family` record every family module declares, and the key checks shared by all."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec
from nasx.errors import SpaceError

# Input keys shared by every family, with their defaults (ImageNet-sized input).
INPUT_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {"resolution": 224, "in_channels": 3, "num_classes": 1000}
)

_STAGE_KEY = re.compile(r"^(?P<base>[a-z_]+?)_(?P<index>[1-9][0-9]*)$")

Builder = Callable[[ValueReader], ArchSpec]
Derived = Callable[[Mapping[str, Any], ArchSpec], dict[str, float]]


@dataclass(frozen=True)
class Family:
    """A family of networks: the value keys it accepts and how they decode to an ArchSpec.

    ``keys`` are the scalar keys (input keys included); ``per_stage_keys`` are given per stage as
    ``KEY_1 .. KEY_n`` (1-based) or once, unsuffixed, for every stage. ``derived(values, spec)``
    gives family quantities a space may constrain (e.g. ``num_stages``, ``compound``).
    """

    name: str
    keys: frozenset[str]
    per_stage_keys: tuple[str, ...]
    defaults: Mapping[str, Any]
    build: Builder = field(repr=False)
    derived: Derived = field(repr=False)
    doc: str = ""

    def stage_indices(self, values: Mapping[str, Any]) -> list[int]:
        """1-based stage indices named by suffixed per-stage keys in ``values``, sorted."""
        found = set()
        for key in values:
            m = _STAGE_KEY.match(key) if isinstance(key, str) else None
            if m and m["base"] in self.per_stage_keys:
                found.add(int(m["index"]))
        return sorted(found)

    def check_keys(self, values: Mapping[str, Any]) -> None:
        """SpaceError naming the first key this family does not accept."""
        for key in values:
            if not isinstance(key, str):
                raise SpaceError(f"family '{self.name}': value keys must be strings, got {key!r}")
            if key in self.keys or key in self.per_stage_keys:
                continue
            m = _STAGE_KEY.match(key)
            if m and m["base"] in self.per_stage_keys:
                continue
            allowed = sorted(self.keys) + [f"{k}[_i]" for k in self.per_stage_keys]
            raise SpaceError(
                f"unknown key for family '{self.name}' (allowed: {', '.join(allowed)})", key=key
            )

    def merged(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """User values over the family defaults and the input defaults.

        A per-stage key the user gives at all (``KEY`` or any ``KEY_i``) drops the family's
        per-stage defaults ``KEY_i``: the user's stages replace the default stages as a whole.
        """
        given = set()
        for k in values:
            m = _STAGE_KEY.match(k) if isinstance(k, str) else None
            given.add(m["base"] if m and m["base"] in self.per_stage_keys else k)
        defaults = {
            k: v for k, v in self.defaults.items()
            if not ((m := _STAGE_KEY.match(k)) and m["base"] in given)
        }
        return {**INPUT_DEFAULTS, **defaults, **values}

    def decode(self, values: Mapping[str, Any]) -> ArchSpec:
        """Check the keys, merge defaults and build the ArchSpec."""
        self.check_keys(values)
        return self.build(ValueReader(self.name, self.merged(values)))


def make_family(
    name: str,
    *,
    keys: set[str],
    per_stage_keys: tuple[str, ...] = (),
    defaults: Mapping[str, Any],
    build: Builder,
    derived: Derived,
    doc: str = "",
) -> Family:
    """A Family with the shared input keys added and its defaults frozen."""
    return Family(
        name=name,
        keys=frozenset(keys | set(INPUT_DEFAULTS)),
        per_stage_keys=per_stage_keys,
        defaults=MappingProxyType(dict(defaults)),
        build=build,
        derived=derived,
        doc=doc,
    )


def num_stages(values: Mapping[str, Any], spec: ArchSpec) -> dict[str, float]:
    """The default ``derived``: the number of stages."""
    return {"num_stages": float(len(spec.stages))}


def read_input(r: ValueReader) -> tuple[int, int, int]:
    """(resolution, in_channels, num_classes) from the shared input keys."""
    return r.integer("resolution", lo=1), r.integer("in_channels", lo=1), r.integer("num_classes", lo=1)
