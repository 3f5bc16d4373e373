"""Recipe values are validated strictly: types, finiteness and sane upper bounds, one-line errors."""

from __future__ import annotations

import math

import pytest

from nasx.errors import TrainError
from nasx.train.recipe import (
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_SYNTHETIC,
    MAX_THREADS,
    Recipe,
    resolve_recipe,
)

BAD = [
    ("epochs", 0, "must be in [1, 10000]"),
    ("epochs", MAX_EPOCHS + 1, "must be in [1, 10000]"),
    ("epochs", 1e12, "must be in [1, 10000]"),
    ("epochs", "8", "must be an integer, got '8'"),
    ("epochs", 2.5, "must be an integer"),
    ("epochs", True, "must be an integer"),
    ("epochs", 10**400, "must be in [1, 10000], got <an integer of about 401 digits>"),
    ("batch_size", MAX_BATCH + 1, "must be in [1, 65536]"),
    ("lr", -1.0, "must be in (0, 100]"),
    ("lr", 0, "must be in (0, 100]"),
    ("lr", math.nan, "must be a finite number, got nan"),
    ("lr", math.inf, "must be a finite number, got inf"),
    ("lr", "0.1", "must be a number, got '0.1'"),
    ("lr", 10**400, "must be a finite number"),
    ("weight_decay", math.inf, "must be a finite number"),
    ("weight_decay", -1e-4, "must be in [0, 1]"),
    ("momentum", -math.inf, "must be a finite number"),
    ("warmup_factor", 0.0, "must be in (0, 1]"),
    ("threads", 10**9, f"must be in [0, {MAX_THREADS}]"),
    ("threads", -1, f"must be in [0, {MAX_THREADS}]"),
    ("synthetic_train", MAX_SYNTHETIC + 1, "must be in [1, 200000]"),
    ("synthetic_test", 10**12, "must be in [1, 200000]"),
    ("synthetic_classes", 1, "must be in [2, 100000]"),
    ("split_seed", 2**64, "must be in [0, 2**63 - 1]"),
    ("eval_every", 0, "must be in [1, 10000]"),
    ("data", "mnist", "must be digits, cifar10, imagefolder, fashion_mnist, mnist_idx, synthetic or imagenet_npz"),
    ("data", 7, "must be a string, got 7"),
    ("device", "gpu", "must be auto, cpu, cuda or cuda:N"),
    ("device", "cuda:x", "must be auto, cpu, cuda or cuda:N"),
    ("optimizer", "adam", "must be sgd or adamw"),
    ("augment", 1, "must be true or false"),
    ("augment", "yes", "must be true or false"),
    ("data_dir", 5, "must be a string"),
    ("data_dir", "x" * 5000, "must have at most 4096 characters"),
]


@pytest.mark.parametrize(("key", "value", "rule"), BAD, ids=[f"{k}-{i}" for i, (k, _, _) in
                                                            enumerate(BAD)])
def test_bad_values_raise_one_short_line(key, value, rule):
    with pytest.raises(TrainError) as err:
        Recipe().override({key: value}, source="space.yaml")
    msg = str(err.value)
    assert msg.startswith(f"space.yaml: key '{key}': ")
    assert rule in msg
    assert "\n" not in msg and len(msg) < 200


def test_good_values_keep_their_types():
    r = Recipe().override({"epochs": 3.0, "lr": 1, "batch_size": 64, "device": "cuda:1",
                           "threads": 2, "data_dir": None, "weight_decay": 0})
    assert (r.epochs, r.lr, r.batch_size, r.device, r.threads, r.data_dir) == (
        3, 1.0, 64, "cuda:1", 2, None)
    assert isinstance(r.epochs, int) and isinstance(r.lr, float)
    assert isinstance(r.weight_decay, float)


def test_a_recipe_built_directly_is_checked_too():
    with pytest.raises(TrainError, match="key 'lr': must be a finite number, got nan"):
        Recipe(lr=math.nan).validate("x")
    with pytest.raises(TrainError, match="key 'epochs': must be in"):
        Recipe(epochs=10**6).validate("x")


def test_command_line_overrides_are_named_as_such():
    with pytest.raises(TrainError, match="^command line: key 'epochs': must be in"):
        resolve_recipe({"epochs": 2}, None, {"epochs": 0})
    with pytest.raises(TrainError, match="^s.yaml: key 'epochs': must be an integer, got '8'"):
        resolve_recipe({"epochs": "8"}, None, None, source="s.yaml")
