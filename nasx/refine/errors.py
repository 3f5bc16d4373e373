"""Where narrow and refine have always imported their error from; it lives in nasx.errors."""

from __future__ import annotations

from nasx.errors import RefineError

__all__ = ["RefineError"]
