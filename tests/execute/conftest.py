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
    """One local Ray (2 CPUs, loopback) shared by the tests of a module; train_run reuses it."""
    import logging

    import ray

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = worker_env()["PYTHONPATH"]  # raylet and workers inherit it
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1", logging_level=logging.WARNING)
    try:
        yield
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
