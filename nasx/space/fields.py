"""Strict, typed fields of a space file's mappings: the top level, a distribution, ``measure:``.

A model lists its :class:`Field` s; :func:`parse_fields` checks a YAML mapping against them in
order, then refuses the keys no field has, and raises the first broken rule as a
:class:`~nasx.errors.RuleError` whose ``key`` is the place inside the mapping (``int.0``, ``q``).
Strict, as docs/spaces.md says: ``"8"`` is no integer, ``true`` no number, ``8.0`` no integer; an
integer is a number. The rules keep the wording the space files' errors have always had.

Written here rather than with a validation library: six small mappings of two dozen fields
in all, and importing pydantic for them cost about 0.1 s, a fifth of ``nasx sample``
(bench/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from nasx.errors import RuleError

Check = Callable[[Any], Any]  # a raw YAML value -> the typed value, or RuleError
_REQUIRED: Any = object()
# What YAML (safe_load) gives for a sequence; a set comes from the ``!!set`` tag.
_SEQUENCES = (list, tuple, set, frozenset)


def refuse(rule: str, value: object, *place: object) -> RuleError:
    """The error of ``value`` breaking ``rule`` at ``place`` inside the mapping; a mapping
    value is not repeated in the one-line message (only the rule is)."""
    key = ".".join(str(p) for p in place) or None
    if isinstance(value, dict):
        return RuleError(rule, key=key)
    return RuleError(rule=rule, value=value, key=key)


def _inside(exc: RuleError, *place: object) -> RuleError:
    """``exc`` relocated below ``place`` (its own key, if any, goes after it)."""
    return exc.at(key=".".join(str(p) for p in (*place, *([exc.key] if exc.key else []))))


@dataclass(frozen=True)
class Field:
    """One key of a mapping: its check, and its default (none: the key is required)."""

    name: str  # the attribute
    check: Check
    default: Any = _REQUIRED
    key: str | None = None  # the key in the file when it differs from ``name``
    factory: Callable[[], Any] | None = None  # a fresh default (a mapping) per parse
    # a rule relating the value to the fields before it (RuleError when broken)
    relate: Callable[[Any, Mapping[str, Any]], None] | None = None

    @property
    def file_key(self) -> str:
        """The key as written in the file."""
        return self.key or self.name


def parse_fields(raw: Mapping[Any, Any], fields: Sequence[Field]) -> dict[str, Any]:
    """``{name: typed value}`` of ``raw`` (defaults filled in); RuleError for the first field
    that breaks its rule (fields in order), a missing required one, or an unknown key."""
    out: dict[str, Any] = {}
    for f in fields:
        key = f.file_key
        if key in raw:
            try:
                out[f.name] = f.check(raw[key])
                if f.relate is not None:
                    f.relate(out[f.name], out)
            except RuleError as exc:
                raise _inside(exc, key) from None
        elif f.factory is not None:
            out[f.name] = f.factory()
        elif f.default is _REQUIRED:
            raise refuse("field required", dict(raw), key)
        else:
            out[f.name] = f.default
    known = {f.file_key for f in fields}
    for key, value in raw.items():
        if key not in known:
            raise refuse("extra inputs are not permitted", value, key)
    return out


_P = TypeVar("_P", bound="Parsed")


class Parsed:
    """A frozen dataclass read from a mapping of its :class:`Field` s (``FIELDS``)."""

    FIELDS: ClassVar[tuple[Field, ...]] = ()

    @classmethod
    def parse(cls: type[_P], raw: Mapping[Any, Any]) -> _P:
        """The object of a space file's mapping; RuleError naming the key inside it and the
        rule otherwise (the class's own rules run when it is built)."""
        return cls(**parse_fields(raw, cls.FIELDS))


def is_int(value: object) -> bool:
    """An integer, not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def integer(ge: int | None = None, le: int | None = None) -> Check:
    """An integer (no bool, no float), within ``[ge, le]`` where given."""
    def check(value: Any) -> int:
        if not is_int(value):
            raise refuse("input should be a valid integer", value)
        if ge is not None and value < ge:
            raise refuse(f"input should be greater than or equal to {ge}", value)
        if le is not None and value > le:
            raise refuse(f"input should be less than or equal to {le}", value)
        return int(value)
    return check


def number(value: Any) -> float:
    """A float, or an integer as a float (not a bool, not an integer beyond the floats)."""
    if isinstance(value, float):
        return float(value)
    if is_int(value):
        try:
            return float(value)
        except OverflowError:
            pass
    raise refuse("input should be a valid number", value)


def boolean(value: Any) -> bool:
    """true or false, nothing else."""
    if not isinstance(value, bool):
        raise refuse("input should be a valid boolean", value)
    return value


def string(max_length: int | None = None) -> Check:
    """A string of at most ``max_length`` characters where given."""
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise refuse("input should be a valid string", value)
        if max_length is not None and len(value) > max_length:
            raise refuse(f"string should have at most {max_length} characters", value)
        return str(value)
    return check


def optional(check: Check) -> Check:
    """null, or what ``check`` accepts."""
    return lambda value: None if value is None else check(value)


def one_of(*options: str) -> Check:
    """One of the listed strings."""
    quoted = [repr(o) for o in options]
    rule = "input should be " + (" or ".join([", ".join(quoted[:-1]), quoted[-1]])
                                 if len(quoted) > 1 else quoted[0])

    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise refuse(rule, value)
        return value
    return check


def mapping(values: Check | None = None) -> Check:
    """A mapping with string keys (its values checked by ``values`` where given)."""
    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise refuse("input should be a valid dictionary", value)
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise refuse("input should be a valid string", k, k)
            if values is None:
                out[k] = v
                continue
            try:
                out[k] = values(v)
            except RuleError as exc:
                raise _inside(exc, k) from None
        return out
    return check


def _items(value: Any, item: Check, upto: int | None = None) -> list[Any]:
    """The checked items of a sequence; the first refused one's error (key: its index)."""
    out = []
    for i, v in enumerate(value):
        try:
            out.append(item(v))
        except RuleError as exc:
            raise _inside(exc, i) from None
        if upto is not None and len(out) > upto:
            raise refuse(f"tuple should have at most {upto} items after validation, "
                         f"not {len(value)}", value)
    return out


def pair(item: Check) -> Check:
    """Exactly two items (a YAML list), each accepted by ``item``: a tuple."""
    def check(value: Any) -> tuple[Any, Any]:
        if not isinstance(value, _SEQUENCES):
            raise refuse("input should be a valid tuple", value)
        if len(value) > 2:
            raise refuse(f"tuple should have at most 2 items after validation, not {len(value)}",
                         value)
        got = _items(list(value), item)
        if len(got) < 2:
            raise refuse("field required", list(value), len(got))
        return got[0], got[1]
    return check


def items(item: Check, min_length: int, max_length: int) -> Check:
    """``min_length`` to ``max_length`` items (a YAML list), each accepted by ``item``: a tuple."""
    def check(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, _SEQUENCES):
            raise refuse("input should be a valid tuple", value)
        got = _items(list(value), item, upto=max_length)
        if len(got) < min_length:
            plural = "" if min_length == 1 else "s"
            raise refuse(f"tuple should have at least {min_length} item{plural} after "
                         f"validation, not {len(got)}", value)
        return tuple(got)
    return check


def scalar(value: Any) -> Any:
    """null, a bool, an integer, a float or a string (kept as it is)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise refuse("input should be a valid boolean", value)
