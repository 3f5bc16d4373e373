"""The error raised by narrow and refine for user mistakes (a NasxError: one line, exit 2)."""

from __future__ import annotations

from nasx.errors import NasxError


class RefineError(NasxError):
    """A run cannot be narrowed or refined as asked (too few models, bad option, bad study)."""
