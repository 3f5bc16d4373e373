"""The :class:`Family` record every family module declares, and the key checks shared by all.

A family's keys, per-stage keys and defaults are derived from its value model (:mod:`.model`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nasx.arch.families.model import ValueModel
from nasx.arch.families.values import ValueReader
from nasx.arch.spec import ArchSpec
from nasx.constants import INPUT_DEFAULTS
from nasx.errors import SpaceError
from nasx.types import Scalar

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
    model: ValueModel | None = field(default=None, repr=False, compare=False)

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
                raise SpaceError(rule=f"family '{self.name}': value keys must be strings",
                                 value=key)
            if key in self.keys or key in self.per_stage_keys:
                continue
            m = _STAGE_KEY.match(key)
            if m and m["base"] in self.per_stage_keys:
                continue
            allowed = sorted(self.keys) + [f"{k}[_i]" for k in self.per_stage_keys]
            raise SpaceError(
                f"unknown key for family '{self.name}' (allowed: {', '.join(allowed)})", key=key
            )

    def merged(self, values: Mapping[str, Scalar]) -> dict[str, Scalar]:
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
        return self.build(self.reader(values))

    def reader(self, values: Mapping[str, Any]) -> ValueReader:
        """A reader of ``values`` merged over the defaults, with this family's ranges."""
        return ValueReader(self.name, self.merged(values), self.model)

    def config(self, **values: Scalar) -> dict[str, Scalar]:
        """Keyword values checked against this family's keys (the zoo's configs)."""
        self.check_keys(values)
        return values


def make_family(name: str, model: ValueModel, *, build: Builder, derived: Derived,
                doc: str = "") -> Family:
    """A Family whose keys, per-stage keys and defaults come from its value ``model``."""
    return Family(
        name=name,
        keys=model.scalar_keys,
        per_stage_keys=model.per_stage_keys,
        defaults=model.defaults,
        build=build,
        derived=derived,
        doc=doc,
        model=model,
    )


def num_stages(values: Mapping[str, Any], spec: ArchSpec) -> dict[str, float]:
    """The default ``derived``: the number of stages."""
    return {"num_stages": float(len(spec.stages))}


def read_input(r: ValueReader) -> tuple[int, int, int]:
    """(resolution, in_channels, num_classes) from the shared input keys."""
    return r.get_int("resolution"), r.get_int("in_channels"), r.get_int("num_classes")
