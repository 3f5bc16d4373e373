"""A family's value model: every key it accepts, declared once with its type, default and range.

The decoder reads values through the model (:class:`~nasx.arch.families.values.ValueReader`
takes each key's range from here), :class:`~nasx.arch.families.base.Family` derives its
``keys``, ``per_stage_keys`` and ``defaults`` from it (what ``nasx.sample.bind`` checks a space
against), the zoo's keyword configs are checked against it and the key table of docs/spaces.md is
generated from it (:mod:`nasx.arch.family_table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np

from nasx.constants import INPUT_DEFAULTS
from nasx.types import Scalar

INT_MAX = 2**31  # integral values beyond this are not sampled (int64 arithmetic downstream)

Kind = Literal["int", "float", "choice"]


@dataclass(frozen=True)
class Key:
    """One value key: its type, its default (None: unset unless given), its range, its meaning.

    ``required`` keys have no default. A ``per_stage`` key is given as ``KEY_1 .. KEY_n`` or once,
    unsuffixed, for every stage; ``stage_defaults`` are its defaults ``KEY_1 .. KEY_n``.
    Ranges: ``lo`` (at least), ``gt`` (greater than), ``hi`` (the largest value nasx samples or
    decodes: a key whose size the sampler pays for before it can count anything, see
    :data:`nasx.sample.bind.VALUE_LIMITS`), ``options`` (a choice).
    """

    name: str
    kind: Kind
    doc: str
    default: Scalar = None
    required: bool = False
    lo: float | None = None
    gt: float | None = None
    hi: float | None = None
    options: tuple[str, ...] = ()
    per_stage: bool = False
    stage_defaults: tuple[Scalar, ...] = ()

    @property
    def range_text(self) -> str:
        """The range in words for the docs table (``>= 1``, ``> 0``, ``imagenet | cifar``)."""
        if self.options:
            return " \\| ".join(self.options)
        low = (f"> {self.gt:g}" if self.gt is not None
               else f">= {self.lo:g}" if self.lo is not None else "")
        high = f"<= {self.hi:g}" if self.hi is not None else ""
        return ", ".join(t for t in (low, high) if t) or "any"

    def admits(self, x: np.ndarray) -> np.ndarray:
        """Elementwise: the values (float64) this key's range holds: finite, integral for an int
        key, and within lo / gt / hi; what a vectorised screen may count without the decoder."""
        ok = np.isfinite(x)
        if self.kind == "int":
            ok &= (x == np.floor(x)) & (np.abs(x) < INT_MAX)
        if self.lo is not None:
            ok &= x >= self.lo
        if self.gt is not None:
            ok &= x > self.gt
        if self.hi is not None:
            ok &= x <= self.hi
        return ok

    @property
    def default_text(self) -> str:
        """The default in words for the docs table."""
        if self.required:
            return "required"
        if self.stage_defaults:
            return ", ".join(str(v) for v in self.stage_defaults) + " (per stage)"
        return "unset" if self.default is None else str(self.default)


# The input keys every family accepts (defaults: nasx.constants.INPUT_DEFAULTS).
INPUT_KEYS: tuple[Key, ...] = (
    Key("resolution", "int", "input image size (pixels)", INPUT_DEFAULTS["resolution"], lo=1,
        hi=4096),
    Key("in_channels", "int", "input channels", INPUT_DEFAULTS["in_channels"], lo=1),
    Key("num_classes", "int", "classes of the classifier", INPUT_DEFAULTS["num_classes"], lo=1),
)


class ValueModel:
    """The keys of one family (the input keys are added), in declaration order."""

    def __init__(self, *keys: Key) -> None:
        self.own: tuple[Key, ...] = keys
        self.by_name: Mapping[str, Key] = MappingProxyType(
            {k.name: k for k in (*keys, *INPUT_KEYS)}
        )
        assert len(self.by_name) == len(keys) + len(INPUT_KEYS), "duplicate key"

    def admits(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Elementwise AND of :meth:`Key.admits` over the given columns (by key name)."""
        out = np.ones(len(next(iter(columns.values()))), dtype=bool)
        for name, x in columns.items():
            out &= self.by_name[name].admits(x)
        return out

    @property
    def scalar_keys(self) -> frozenset[str]:
        """Keys given once (input keys included)."""
        return frozenset(k.name for k in self.by_name.values() if not k.per_stage)

    @property
    def per_stage_keys(self) -> tuple[str, ...]:
        """Keys given per stage, in declaration order."""
        return tuple(k.name for k in self.own if k.per_stage)

    @property
    def defaults(self) -> Mapping[str, Scalar]:
        """The family's defaults (input keys excluded): every key that is not required."""
        out: dict[str, Scalar] = {}
        for k in self.own:
            if k.stage_defaults:
                out.update({f"{k.name}_{i}": v for i, v in enumerate(k.stage_defaults, start=1)})
            elif not k.required:
                out[k.name] = k.default
        return MappingProxyType(out)
