"""Number formatting shared by the CLI, the analysis verdicts and the report's figures."""

from __future__ import annotations

_SI = ((1e9, "G"), (1e6, "M"), (1e3, "K"))


def si(x: float, digits: int = 3, small_digits: int | None = None) -> str:
    """``x`` with a G/M/K suffix at ``digits`` significant digits: 2K, 1.5M, 3G.

    Values under 1000 show ``small_digits`` significant digits (default ``digits``).
    """
    for scale, unit in _SI:
        if abs(x) >= scale:
            return f"{x / scale:.{digits}g}{unit}"
    return f"{x:.{digits if small_digits is None else small_digits}g}"
