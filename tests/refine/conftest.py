"""Fixtures: a tiny AnyNet digits space, a run with synthetic errors, and a really trained run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nasx.store import RunStore

SPACE = Path(__file__).with_name("anynet_tiny.yaml")
REGNET = Path(__file__).with_name("regnet_tiny.yaml")


def synthetic_error(values: dict) -> float:
    """Lower error for wider last stages and growing widths: narrow must find both."""
    err = 80.0 - 0.8 * values["width_2"] + (15.0 if values["width_2"] < values["width_1"] else 0.0)
    return err + 0.01 * values["depth_1"]  # break ties deterministically


def fill_errors(store: RunStore, error_fn: Callable[[dict], float] = synthetic_error, *,
                validation: bool = False) -> None:
    """Mark every pending trial done with its synthetic error (no training); ``validation``: as
    a validation error (the way nasx trains now), else as a test error (older runs)."""
    for t in store.trials("pending"):
        error = error_fn(t.values)
        store.mark_running(t.id, None)
        kind = "val_error" if validation else "test_error"
        store.finish(t.id, "done", error=error,
                     metrics={"val_error": error, "test_error": error} if validation else {},
                     curves=[{"epoch": 1, kind: error}])


@pytest.fixture(scope="module")
def space_file() -> Path:
    return SPACE


@pytest.fixture(scope="module")
def regnet_file() -> Path:
    return REGNET


@pytest.fixture(scope="module")
def fill() -> Callable[..., None]:
    """The function that marks pending trials done with synthetic errors."""
    return fill_errors


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 sampled models of the tiny space with synthetic errors (nothing trains)."""
    from nasx.sample import create_run

    out = tmp_path_factory.mktemp("fake") / "run"
    store, _ = create_run(SPACE, n=40, seed=1, out=out, progress=False)
    fill_errors(store)
    store.close()
    return out


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 models of the tiny space really trained for 1 epoch on digits, inline."""
    from nasx.execute import ExecOptions, train_run
    from nasx.sample import create_run

    out = tmp_path_factory.mktemp("trained") / "run"
    store, _ = create_run(SPACE, n=10, seed=0, out=out, progress=False)
    counts = train_run(store, ExecOptions(executor="inline", progress=False, keep_weights=0))
    store.close()
    assert counts["done"] == 10
    return out
