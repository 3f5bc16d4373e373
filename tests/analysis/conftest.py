"""Fixtures of the analysis tests: synthetic run stores (see synth_runs.make_run)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from synth_runs import make_run  # noqa: E402

__all__ = ["make_run"]
