"""Every data test caches decoded data sets in its own temporary folder, never in ~/.cache."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def nasx_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$NASX_CACHE pointed at a fresh empty folder for this test."""
    folder = tmp_path_factory.mktemp("nasx_cache")
    monkeypatch.setenv("NASX_CACHE", str(folder))
    return folder
