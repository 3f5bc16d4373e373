"""Helpers for the sampler tests."""

from __future__ import annotations

import pytest

from nasx.space import SearchSpace, parse_space


@pytest.fixture
def make_space(tmp_path):
    """Build a SearchSpace from YAML text (written to tmp_path/NAME.yaml)."""

    def make(text: str, name: str = "space") -> SearchSpace:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        return parse_space(text, path)

    return make
