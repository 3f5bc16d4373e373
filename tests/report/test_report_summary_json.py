"""summary.json is pinned: every case of summary_cases.py gives the JSON of summary_pinned.json
(same keys in the same order, same strings, numbers equal to 1e-9 relative). Generated from the
dict-building code, regenerated once on purpose when the comparisons got one normalised
comparison (headline, normalized_by, normalized per measure; the runs' own normalised EDFs gone);
every other value was checked equal to the earlier pin then."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from summary_cases import CASES, case_json

PINNED = json.loads((Path(__file__).parent / "summary_pinned.json").read_text(encoding="utf-8"))


def _same(got: Any, want: Any, where: str = "$") -> None:
    """Equal JSON values: dict keys in order, floats to 1e-9 relative (other libraries' rounding)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        assert list(got) == list(want), f"{where}: keys {list(got)} != {list(want)}"
        for k in want:
            _same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-9,
                                                              abs_tol=1e-12), where
    else:
        assert type(got) is type(want) and got == want, f"{where}: {got!r} != {want!r}"


def test_every_case_is_pinned():
    assert sorted(PINNED) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_summary_json_is_unchanged(name, tmp_path):
    _same(case_json(name, tmp_path), PINNED[name])
