"""Typed, checked access to a family's value dict (shared by every family decoder).

The ``get_*`` / ``stage_*`` readers take each key's range from the family's value model
(:mod:`.model`), so a range is written once. Wrong types raise :class:`SpaceError` naming the key; values of the right type that give no network
(a depth of 0, a width multiplier <= 0) raise :class:`InvalidSample`, so the sampler can reject them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nasx.errors import InvalidSample, SpaceError

if TYPE_CHECKING:
    from nasx.arch.families.model import Key, ValueModel


class ValueReader:
    """Reads keys of one family's merged values (user values over the family defaults)."""

    def __init__(self, family: str, values: Mapping[str, Any],
                 model: ValueModel | None = None) -> None:
        self.family = family
        self.values = values
        self.model = model

    def has(self, key: str) -> bool:
        """Whether ``key`` is set (and not None)."""
        return self.values.get(key) is not None

    def raw(self, key: str) -> Any:
        """The value of ``key``; SpaceError when it is missing."""
        value = self.values.get(key)
        if value is None:
            raise SpaceError(f"family '{self.family}': required value is missing", key=key)
        return value

    def integer(self, key: str, *, lo: int | None = None) -> int:
        """An integer value (integral floats accepted), at least ``lo``."""
        value = self.raw(key)
        if type(value) is int and (lo is None or value >= lo):  # the common case, no ABC checks
            return value
        integral = not isinstance(value, bool) and (
            isinstance(value, numbers.Integral)
            or (isinstance(value, numbers.Real) and float(value).is_integer())
        )
        if not integral:
            raise SpaceError(
                rule=f"family '{self.family}': must be an integer", value=value, key=key
            )
        out = int(value)
        if lo is not None and out < lo:
            raise InvalidSample(rule=f"family '{self.family}': must be >= {lo}", value=out,
                                key=key)
        return out

    def number(self, key: str, *, lo: float | None = None, gt: float | None = None) -> float:
        """A finite real value, at least ``lo`` / greater than ``gt``."""
        value = self.raw(key)
        if type(value) is float or type(value) is int:  # the common case, no ABC checks
            out = float(value)
            if (math.isfinite(out) and (lo is None or out >= lo)
                    and (gt is None or out > gt)):
                return out
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise SpaceError(rule=f"family '{self.family}': must be a number", value=value,
                             key=key)
        out = float(value)
        if not math.isfinite(out):
            raise SpaceError(rule=f"family '{self.family}': must be finite", value=value,
                             key=key)
        if lo is not None and out < lo:
            raise InvalidSample(rule=f"family '{self.family}': must be >= {lo}", value=out,
                                shown=f"{out:g}", key=key)
        if gt is not None and out <= gt:
            raise InvalidSample(rule=f"family '{self.family}': must be > {gt}", value=out,
                                shown=f"{out:g}", key=key)
        return out

    def choice(self, key: str, options: Sequence[str]) -> str:
        """A string that is one of ``options``."""
        value = self.raw(key)
        if not isinstance(value, str) or value not in options:
            raise SpaceError(
                rule=f"family '{self.family}': must be one of {', '.join(options)}", value=value,
                key=key,
            )
        return value

    def stage_key(self, key: str, index: int) -> str:
        """The key that holds per-stage ``key`` of stage ``index`` (1-based), or its broadcast."""
        suffixed = f"{key}_{index}"
        return suffixed if self.has(suffixed) else key

    def _decl(self, base: str, kind: str) -> Key:
        """The declaration of ``base`` in the family's model (an internal invariant)."""
        assert self.model is not None, f"family '{self.family}': reader without a value model"
        decl = self.model.by_name[base]
        assert decl.kind == kind, f"{base} is declared {decl.kind}, read as {kind}"
        return decl

    def get_int(self, key: str, base: str | None = None) -> int:
        """Integer ``key`` checked against the range its model declares (for ``base`` if given)."""
        decl = self._decl(base or key, "int")
        return self.integer(key, lo=None if decl.lo is None else int(decl.lo))

    def get_float(self, key: str, base: str | None = None) -> float:
        """Number ``key`` checked against the range its model declares (for ``base`` if given)."""
        decl = self._decl(base or key, "float")
        return self.number(key, lo=decl.lo, gt=decl.gt)

    def get_choice(self, key: str) -> str:
        """String ``key``, one of the options its model declares."""
        return self.choice(key, self._decl(key, "choice").options)

    def stage_int(self, key: str, index: int) -> int:
        """Per-stage integer ``key`` of stage ``index`` (1-based; ``KEY_i`` or the broadcast)."""
        return self.get_int(self.stage_key(key, index), base=key)

    def stage_float(self, key: str, index: int) -> float:
        """Per-stage number ``key`` of stage ``index`` (1-based; ``KEY_i`` or the broadcast)."""
        return self.get_float(self.stage_key(key, index), base=key)
