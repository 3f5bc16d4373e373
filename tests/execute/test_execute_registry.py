"""The executor registry's contract, checked for every entry: a new executor is tested here with
no new test code (accepted by ExecOptions, offered and explained by every ``--executor``, its
runner and session importable, and a tiny batch trained end to end with a fake trial)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterator

import exec_fakes
import pytest
from exec_helpers import fake_run

from nasx.cli.main import build_parser
from nasx.execute import EXECUTORS, ExecOptions, train_run
from nasx.execute.registry import DEFAULT_EXECUTOR, executor_help, uses_ray


def _executor_actions() -> Iterator[tuple[str, argparse.Action]]:
    """(verb, its ``--executor`` action) for every verb of the CLI that has one."""
    sub = next(a for a in build_parser()._actions if a.dest == "verb")
    for verb, parser in sub.choices.items():  # type: ignore[union-attr]
        for action in parser._actions:
            if action.dest == "executor":
                yield verb, action


def _load(path: str) -> object:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def test_the_cli_offers_the_registry_everywhere() -> None:
    verbs = dict(_executor_actions())
    assert {"train", "run", "demo", "refine", "fidelity"} <= set(verbs)
    for verb, action in verbs.items():
        assert tuple(action.choices or ()) == tuple(EXECUTORS), verb
        assert action.help == executor_help(), verb
    assert DEFAULT_EXECUTOR in EXECUTORS
    assert not uses_ray("dask")
    with pytest.raises(Exception, match=f"must be {' or '.join(EXECUTORS)}"):
        ExecOptions(executor="dask")


@pytest.mark.parametrize("name", sorted(EXECUTORS))
def test_entry_is_accepted_and_importable(name: str) -> None:
    entry = EXECUTORS[name]
    assert ExecOptions(executor=name).executor == name
    assert name in executor_help() and entry.help in executor_help()
    assert callable(_load(entry.runner))
    assert entry.session is None or callable(_load(entry.session))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXECUTORS))
def test_entry_trains_a_tiny_batch(tmp_path, scratch, name: str, request) -> None:
    if EXECUTORS[name].uses_ray:
        request.getfixturevalue("local_ray")
    store = fake_run(tmp_path / "run", 2)
    opts = ExecOptions(executor=name, progress=False, keep_weights=1,
                       overrides={"data_dir": str(scratch), "lr": 0.001})
    counts = train_run(store, opts, trial_fn=exec_fakes.ok_trial)
    assert counts["done"] == 2 and counts["failed"] == 0
    assert {t.metrics["executor"] for t in store.trials()} == {name}
    assert [t.id for t in store.trials() if t.weights] == [2]  # errors 8 and 5: trial 2 kept
