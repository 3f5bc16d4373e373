"""Parameters of a space: a fixed value or a distribution on a closed interval.

Each distribution is a frozen dataclass read from its mapping with :meth:`parse`, strictly
(``8.0`` is not an integer bound, ``"yes"`` is not a boolean: ``nasx.space.fields``) and checked
against the rules of docs/spaces.md on construction; every parameter draws with :meth:`sample`
from an explicit ``numpy.random.Generator`` and writes itself back with :meth:`to_yaml`. Fixed
values draw nothing, so adding a fixed key never shifts the random stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nasx.errors import RuleError
from nasx.space.fields import (
    Field,
    Parsed,
    boolean,
    integer,
    is_int,
    items,
    number,
    optional,
    pair,
    scalar,
)
from nasx.types import JSONObject, Scalar

_TOL = 1e-9  # relative tolerance of "q divides the bound" for floats

# Limits of a space's numbers: below 2**53 (floats hold such ints exactly) and far below int64, so
# no draw, width or count overflows; a range never holds more than MAX_STEPS values of q.
MAX_MAGNITUDE = 1e15
MAX_STEPS = 1e12
MAX_OPTIONS = 256  # options of one choice
MAX_STRING = 1000  # characters of one string value
POW2_EXPONENTS = (-50, 49)  # 2**49 < MAX_MAGNITUDE


def _real(x: Any) -> float:
    """A bound of a float range: a number; an integer beyond the floats breaks the bounds' rule."""
    try:
        return number(x)
    except RuleError:
        if is_int(x):
            raise RuleError(rule=f"numbers must be within +-{MAX_MAGNITUDE:.0e}",
                            value=x) from None
        raise


def _fmt(x: float) -> str:
    return f"{x:g}"


def _bounds(rule: str, lo: float, hi: float) -> RuleError:
    """The rule broken by the bounds ``[lo, hi]``."""
    return RuleError(rule=rule, value=[lo, hi], shown=f"[{_fmt(lo)}, {_fmt(hi)}]")


def _check_magnitude(*values: float) -> None:
    """RuleError unless every value is finite and within +-MAX_MAGNITUDE."""
    for v in values:
        if not (isinstance(v, int) or math.isfinite(v)) or abs(v) > MAX_MAGNITUDE:
            raise RuleError(rule=f"numbers must be finite and within +-{MAX_MAGNITUDE:.0e}",
                            value=v)


def _clean_float(x: float) -> float:
    """Drop binary noise from k * q (0.30000000000000004 -> 0.3) so stored values read cleanly."""
    return float(f"{x:.12g}")


@dataclass(frozen=True)
class Fixed:
    """A fixed value: ``sample`` returns it and draws nothing."""

    value: Scalar
    kind: ClassVar[str] = "fixed"

    def sample(self, rng: np.random.Generator) -> Scalar:
        """The value itself."""
        return self.value

    def sample_many(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` copies; ``tolist()`` gives the value back with its Python type (an int or a
        float in a typed array a screen reads fast; anything else, strings included, as one
        object shared by an object array)."""
        value = self.value
        if type(value) is float or (type(value) is int and abs(value) < 2**62):
            return np.full(size, value)
        out = np.empty(size, dtype=object)
        out[:] = [value] * size
        return out

    def to_yaml(self) -> Scalar:
        """The value as written in a space file."""
        return self.value

    def __str__(self) -> str:
        return repr(self.value) if isinstance(self.value, str) else str(self.value)


@dataclass(frozen=True)
class IntDist(Parsed):
    """Integers on [lo, hi] that are multiples of ``q``; uniform or log-uniform then rounded."""

    bounds: tuple[int, int]
    q: int = 1
    log: bool = False
    kind: ClassVar[str] = "int"
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("bounds", pair(integer()), key="int"), Field("q", integer(), 1),
        Field("log", boolean, False))

    def __post_init__(self) -> None:
        lo, hi = self.bounds
        _check_magnitude(lo, hi, self.q)
        if lo > hi:
            raise RuleError(rule="needs lo <= hi", value=[lo, hi])
        if self.q < 1:
            raise RuleError(rule="q must be >= 1", value=self.q)
        if lo % self.q or hi % self.q:
            raise RuleError(rule=f"q={self.q} must divide both bounds", value=[lo, hi])
        if self.log and lo <= 0:
            raise RuleError(rule="log needs lo > 0", value=[lo, hi])

    @property
    def lo(self) -> int:
        """Lower bound (included)."""
        return self.bounds[0]

    @property
    def hi(self) -> int:
        """Upper bound (included)."""
        return self.bounds[1]

    def sample(self, rng: np.random.Generator) -> int:
        """One draw."""
        lo, hi, q = self.lo, self.hi, self.q
        if self.log:
            x = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            # lo and hi are multiples of q, so rounding to q stays inside [lo, hi]
            return int(round(x / q)) * q
        return lo + q * int(rng.integers(0, (hi - lo) // q + 1))

    def sample_many(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws at once (int64); the sampler's batched path."""
        lo, hi, q = self.lo, self.hi, self.q
        if self.log:
            x = np.exp(rng.uniform(math.log(lo), math.log(hi), size))
            return np.clip(np.round(x / q).astype(np.int64) * q, lo, hi)
        return lo + q * rng.integers(0, (hi - lo) // q + 1, size, dtype=np.int64)

    def to_yaml(self) -> JSONObject:
        """The mapping form of a space file."""
        out: JSONObject = {"int": [self.lo, self.hi]}
        if self.q != 1:
            out["q"] = self.q
        if self.log:
            out["log"] = True
        return out

    def __str__(self) -> str:
        extra = (f" q={self.q}" if self.q != 1 else "") + (" log" if self.log else "")
        return f"int [{self.lo}, {self.hi}]{extra}"


@dataclass(frozen=True)
class FloatDist(Parsed):
    """Floats on [lo, hi]; uniform or log-uniform, optionally rounded to a multiple of ``q``."""

    bounds: tuple[float, float]
    q: float | None = None
    log: bool = False
    kind: ClassVar[str] = "float"
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("bounds", pair(_real), key="float"), Field("q", optional(number), None),
        Field("log", boolean, False))

    def __post_init__(self) -> None:
        lo, hi = self.bounds
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise _bounds("bounds must be finite", lo, hi)
        _check_magnitude(lo, hi)
        if lo > hi:
            raise _bounds("needs lo <= hi", lo, hi)
        if self.q is not None:
            if not (math.isfinite(self.q) and self.q > 0):
                raise RuleError(rule="q must be > 0", value=self.q, shown=_fmt(self.q))
            if max(abs(lo), abs(hi)) / self.q > MAX_STEPS:
                raise RuleError(f"q={_fmt(self.q)} is too fine: the bounds may be at most "
                                f"{MAX_STEPS:.0e} steps of q from 0")
            for b in (lo, hi):
                k = b / self.q
                if abs(k - round(k)) > _TOL * max(1.0, abs(k)):
                    raise _bounds(f"q={_fmt(self.q)} must divide both bounds", lo, hi)
        if self.log and lo <= 0:
            raise _bounds("log needs lo > 0", lo, hi)

    @property
    def lo(self) -> float:
        """Lower bound (included)."""
        return self.bounds[0]

    @property
    def hi(self) -> float:
        """Upper bound (included)."""
        return self.bounds[1]

    def sample(self, rng: np.random.Generator) -> float:
        """One draw."""
        if self.log:
            x = math.exp(rng.uniform(math.log(self.lo), math.log(self.hi)))
        else:
            x = float(rng.uniform(self.lo, self.hi))
        x = min(max(x, self.lo), self.hi)  # exp(log(x)) may step a hair outside
        if self.q is not None:
            x = _clean_float(round(x / self.q) * self.q)
        return x

    def sample_many(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws at once (float64); the sampler's batched path."""
        if self.log:
            x = np.exp(rng.uniform(math.log(self.lo), math.log(self.hi), size))
        else:
            x = rng.uniform(self.lo, self.hi, size)
        x = np.clip(x, self.lo, self.hi)
        if self.q is not None:
            x = np.array([_clean_float(v) for v in (np.round(x / self.q) * self.q).tolist()])
        return x

    def to_yaml(self) -> JSONObject:
        """The mapping form of a space file."""
        out: JSONObject = {"float": [self.lo, self.hi]}
        if self.q is not None:
            out["q"] = self.q
        if self.log:
            out["log"] = True
        return out

    def __str__(self) -> str:
        extra = (f" q={_fmt(self.q)}" if self.q is not None else "") + (" log" if self.log else "")
        return f"float [{_fmt(self.lo)}, {_fmt(self.hi)}]{extra}"


@dataclass(frozen=True)
class Pow2Dist(Parsed):
    """Powers of two 2^e with the integer exponent e uniform between log2(lo) and log2(hi)."""

    bounds: tuple[float, float]
    kind: ClassVar[str] = "pow2"
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("bounds", pair(_real), key="pow2"),)

    def __post_init__(self) -> None:
        lo, hi = self.bounds
        for b in (lo, hi):
            if not (b > 0 and math.isfinite(b) and math.log2(b).is_integer()):
                raise _bounds("bounds must be powers of two", lo, hi)
            if not POW2_EXPONENTS[0] <= math.log2(b) <= POW2_EXPONENTS[1]:
                lo2, hi2 = POW2_EXPONENTS
                raise _bounds(f"bounds must be 2**{lo2} to 2**{hi2}", lo, hi)
        if lo > hi:
            raise _bounds("needs lo <= hi", lo, hi)

    @property
    def lo(self) -> int | float:
        """Lower bound (included)."""
        return _pow2(int(math.log2(self.bounds[0])))

    @property
    def hi(self) -> int | float:
        """Upper bound (included)."""
        return _pow2(int(math.log2(self.bounds[1])))

    def sample(self, rng: np.random.Generator) -> int | float:
        """One draw (an int for exponents >= 0)."""
        e_lo, e_hi = int(math.log2(self.bounds[0])), int(math.log2(self.bounds[1]))
        return _pow2(int(rng.integers(e_lo, e_hi + 1)))

    def sample_many(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws at once (int64 when lo >= 1, else float64)."""
        e_lo, e_hi = int(math.log2(self.bounds[0])), int(math.log2(self.bounds[1]))
        e = rng.integers(e_lo, e_hi + 1, size, dtype=np.int64)
        return np.left_shift(1, e) if e_lo >= 0 else np.exp2(e.astype(float))

    def to_yaml(self) -> JSONObject:
        """The mapping form of a space file."""
        return {"pow2": [self.lo, self.hi]}

    def __str__(self) -> str:
        return f"pow2 [{_fmt(self.lo)}, {_fmt(self.hi)}]"


def _pow2(e: int) -> int | float:
    return 2**e if e >= 0 else 2.0**e


@dataclass(frozen=True)
class ChoiceDist(Parsed):
    """One of the listed scalars, uniformly."""

    options: tuple[Scalar, ...]
    kind: ClassVar[str] = "choice"
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("options", items(scalar, 1, MAX_OPTIONS), key="choice"),)

    def __post_init__(self) -> None:
        for o in self.options:
            if isinstance(o, str) and len(o) > MAX_STRING:
                raise RuleError(rule=f"a string option may have at most {MAX_STRING} characters",
                                value=len(o))
            if isinstance(o, (int, float)) and not isinstance(o, bool):
                _check_magnitude(o)

    def sample(self, rng: np.random.Generator) -> Scalar:
        """One draw."""
        return self.options[int(rng.integers(0, len(self.options)))]

    def sample_many(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws at once (object array: options keep their Python types)."""
        options = np.empty(len(self.options), dtype=object)
        options[:] = self.options
        return options[rng.integers(0, len(self.options), size)]

    def to_yaml(self) -> JSONObject:
        """The mapping form of a space file."""
        return {"choice": list(self.options)}

    def __str__(self) -> str:
        return "choice {" + ", ".join(str(o) for o in self.options) + "}"


Dist = IntDist | FloatDist | Pow2Dist | ChoiceDist
Param = Fixed | Dist
DIST_KINDS: dict[str, type[Parsed]] = {
    "int": IntDist, "float": FloatDist, "pow2": Pow2Dist, "choice": ChoiceDist,
}
