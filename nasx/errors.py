"""The one user-facing exception family of nasx, and the helpers that keep its text safe.

Every error a user can cause is a ``NasxError``: the CLI prints ``str(err)`` on one line and exits 2
(traceback only with ``--debug``). An error keeps its parts as fields (``message``, ``where``,
``key``, ``value``, ``rule``) and composes ``<where>: key '<key>': <detail>`` when printed, so
code that adds the file or key an error came from calls :meth:`NasxError.at` instead of cutting
the text apart.

A raise site that rejects a value gives the rule and the value, never the value formatted into
the text: ``SpaceError(rule="must be >= 1", value=0, where=file, key="depth")``. The one line
(``must be >= 1, got 0``) is composed in one place, :attr:`NasxError.detail`, and a notebook can
read ``err.rule`` and ``err.value``. ``shown`` is for the few values whose repr is not what the
user wrote (``0.5`` for a float printed with ``:g``, a type's name): the text shown instead of the
shortened repr, ``value`` staying the value. ``message`` is for errors that are not a rule broken
by one value (a missing file, an unknown key).
"""

from __future__ import annotations

import enum
import math
from typing import Any, Final, TypeVar, overload

MAX_SHOWN = 40  # characters of a user value shown in an error message


def _escape_char(c: str) -> str:
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object, limit: int | None = None) -> str:
    """``str(text)`` safe for a terminal, cut to ``limit`` characters: every character Python
    does not call printable (C0/C1 controls such as ESC and CR, bidirectional overrides, lone
    surrogates of undecodable file names, line breaks) written as ``\\xNN`` / ``\\uNNNN``.

    The one escaping rule of nasx: bytes from user files that would move the cursor, recolour
    or reorder a terminal are never printed as they are."""
    out = str(text)
    if not out.isprintable():
        out = "".join(c if c.isprintable() else _escape_char(c) for c in out)
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 3, 0)] + "..."
    return out


def clip(text: str, limit: int = 120) -> str:
    """:func:`printable` for a text quoted inside a message: one line of at most ``limit``."""
    return printable(text[: limit * 4], limit)


def shorten(value: Any, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a huge value never floods a message.

    Huge ints are shown by their size (their repr alone can raise ValueError).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"<an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits>"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


class _Unset(enum.Enum):
    """Marks an argument not given (``None`` is a value an error can name)."""

    UNSET = enum.auto()


UNSET: Final = _Unset.UNSET
_E = TypeVar("_E", bound="NasxError")
_F = TypeVar("_F", bound="NasxError")


class NasxError(Exception):
    """Base of every user-facing error: its parts as fields, printed as one line.

    ``message`` is the detail as worded for the user; without it, the detail is composed from
    ``rule`` and ``value`` (``"<rule>, got <value>"``, the value shortened, or ``shown`` when
    given). ``where`` names the origin: a file or folder, ``command line``, a spec or a data set.
    """

    def __init__(self, message: str = "", *, where: str | None = None, key: str | None = None,
                 value: Any = UNSET, rule: str | None = None, shown: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.key = key
        self.value = value
        self.rule = rule
        self.shown = shown

    @property
    def detail(self) -> str:
        """The message without its place: ``message``, else ``rule`` with the value shortened."""
        if self.message or self.rule is None:
            return self.message
        if self.shown is not None:
            return f"{self.rule}, got {clip(self.shown, 2 * MAX_SHOWN)}"
        if self.value is UNSET:
            return self.rule
        return f"{self.rule}, got {shorten(self.value)}"

    def __str__(self) -> str:
        parts = []
        if self.where:
            parts.append(str(self.where))
        if self.key:
            parts.append(f"key '{self.key}'")
        prefix = ": ".join(parts)
        text = f"{prefix}: {self.detail}" if prefix else self.detail
        return " ".join(text.split())  # always one line

    @overload
    def at(self: _E, *, where: str | None | _Unset = ..., key: str | None | _Unset = ...,
           kind: None = None) -> _E: ...

    @overload
    def at(self, *, where: str | None | _Unset = ..., key: str | None | _Unset = ...,
           kind: type[_F]) -> _F: ...

    def at(self, *, where: str | None | _Unset = UNSET, key: str | None | _Unset = UNSET,
           kind: type[NasxError] | None = None) -> NasxError:
        """A copy relocated to ``where`` and/or ``key`` (those not given are kept), of class
        ``kind`` when given (e.g. a recipe's TrainError reported as the space file's SpaceError)."""
        cls = type(self) if kind is None else kind
        new = cls.__new__(cls)
        Exception.__init__(new, *self.args)
        new.__dict__.update(self.__dict__)
        if not isinstance(where, _Unset):
            new.where = where
        if not isinstance(key, _Unset):
            new.key = key
        return new


class SpaceError(NasxError):
    """A search-space file is malformed or violates a rule."""


class InvalidSample(NasxError):
    """A sampled value set decodes to no valid architecture (the sampler rejects it)."""


class SamplingError(NasxError):
    """The sampler could not produce the requested number of architectures."""


class StoreError(NasxError):
    """A run folder is missing, corrupt, or holds a different run."""


class DataError(NasxError):
    """A data set is missing or laid out wrongly."""


class TrainError(NasxError):
    """A training recipe or a training run is invalid."""


class CudaFatalError(TrainError):
    """A CUDA error that leaves the process's CUDA context unusable (a device-side assert, an
    illegal memory access): every later CUDA call of that process fails, so its worker must go."""


class ArchError(NasxError):
    """An ArchSpec that cannot be built (e.g. groups that do not divide a width)."""


class ScaleError(ArchError):
    """A model cannot be scaled as asked (bad strategy, factor, or a family with no rule)."""


class AnalysisError(NasxError):
    """Runs cannot be analysed (empty, nothing finished, incompatible metrics)."""


class RefineError(NasxError):
    """A run cannot be narrowed or refined as asked (too few models, bad option, bad study)."""


class NothingNarrowedError(RefineError):
    """No cut and no relation of ``nasx narrow`` has the evidence it needs; ``result`` (the
    narrow result) says why, one line per parameter, before the one-line error."""

    def __init__(self, message: str = "", *, result: Any = None, **parts: Any) -> None:
        super().__init__(message, **parts)
        self.result = result


class ExportError(NasxError):
    """An export cannot be made (failed trial, unknown id, unwritable folder)."""


class RuleError(NasxError, ValueError):
    """A value that breaks a rule, raised where a ValueError is the contract (a field
    check, a parser whose caller knows the file and key): the caller relocates it with
    :meth:`NasxError.at` (``kind=SpaceError``), keeping its rule and value."""


class YamlLimitError(NasxError, ValueError):
    """A YAML text is malformed, too large, or uses something nasx refuses.

    Also a ValueError, as it always was; readers turn it into their own error naming the file.
    """
