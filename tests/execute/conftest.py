"""Shared fixtures of the executor tests: a scratch folder for the fakes, one Ray per module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from exec_helpers import worker_env


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """Folder the fake trial functions log to (passed to them as the recipe's data_dir)."""
    d = tmp_path / "scratch"
    d.mkdir()
    return d


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray shared by the tests of a module, started as nasx starts its own (loopback
    only, token auth, environment restored after); train_run reuses it."""
    from nasx.execute import ExecOptions
    from nasx.execute.ray_session import ray_session

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = worker_env()["PYTHONPATH"]  # raylet and workers inherit it
    try:
        with ray_session(ExecOptions(executor="ray", progress=False)):
            yield
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
