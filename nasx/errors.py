"""The one user-facing exception family of nasx.

Every error a user can cause is a ``NasxError``: the CLI prints ``str(err)`` on one line and exits 2
(traceback only with ``--debug``). Messages name the file, the key, the rule and the value.
"""

from __future__ import annotations

import re

# C0 and C1 control characters (ESC, BEL, CR, backspace, the 8-bit CSI ...) and the Unicode
# bidirectional overrides: bytes from user files that would move the cursor, recolour or reorder
# the terminal if printed as they are, and lone surrogates (undecodable file names) that
# cannot be encoded at all.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, limit: int | None = None) -> str:
    """``str(text)`` safe for a terminal: control characters as ``\\xNN``, cut to ``limit`` chars."""
    out = _UNPRINTABLE.sub(_escape_char, str(text))
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 3, 0)] + "..."
    return out


class NasxError(Exception):
    """Base of every user-facing error; its message is one line."""

    def __init__(self, message: str, *, where: str | None = None, key: str | None = None) -> None:
        parts = []
        if where:
            parts.append(str(where))
        if key:
            parts.append(f"key '{key}'")
        prefix = ": ".join(parts)
        text = f"{prefix}: {message}" if prefix else message
        super().__init__(" ".join(text.split()))  # always one line
        self.where = where
        self.key = key


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


class AnalysisError(NasxError):
    """Runs cannot be analysed (empty, nothing finished, incompatible metrics)."""


class ExportError(NasxError):
    """An export cannot be made (failed trial, unknown id, unwritable folder)."""
