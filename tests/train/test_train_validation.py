"""Train on train, select on validation, test once: recipe keys, curves, metrics, pruning hook."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
import torch
from torch import nn

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.data import DataCache
from nasx.errors import TrainError
from nasx.train import loop, trainer
from nasx.train.job import TrialJob
from nasx.train.recipe import Recipe
from nasx.train.trainer import train_trial

SPEC = ArchSpec(
    family="anynet",
    stem=StemSpec(width=8, stride=1),
    stages=(StageSpec(block="basic", depth=1, width=8, stride=2),),
    head=HeadSpec(num_classes=10),
    resolution=8,
    in_channels=1,
)
RECIPE = Recipe(data="digits", epochs=2, batch_size=256, lr=0.1, threads=1)
CLASS = 3  # digits: 15 of the 144 validation images and 37 of the 360 test images are 3s


@pytest.fixture(scope="module")
def cache() -> DataCache:
    return DataCache()


def job(recipe: Recipe = RECIPE, seed: int = 0) -> TrialJob:
    return TrialJob(trial_id=1, spec=SPEC, recipe=recipe, seed=seed)


class Always(nn.Module):
    """Predicts CLASS whatever it is shown; its one parameter gets no gradient (finite loss)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(x.shape[0], 10, device=x.device)
        logits[:, CLASS] = 1.0
        return logits + 0.0 * self.w


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def use(monkeypatch: pytest.MonkeyPatch, cls: type[nn.Module]) -> None:
    monkeypatch.setattr(trainer, "_build_model", lambda spec, seed: cls())


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("val_fraction", 0.0, "must be in (0, 0.5], got 0.0"),
        ("val_fraction", 0.6, "must be in (0, 0.5], got 0.6"),
        ("val_fraction", -0.1, "must be in (0, 0.5], got -0.1"),
        ("split_seed", -1, "got -1"),  # a seed: non-negative
    ],
)
def test_recipe_split_keys_are_validated(key: str, value: float, rule: str) -> None:
    with pytest.raises(TrainError) as err:
        Recipe().override({key: value}, source="space.yaml")
    text = str(err.value)
    assert err.value.key == key and rule in text and "space.yaml" in text and "\n" not in text


def test_recipe_split_defaults_and_overrides() -> None:
    assert (Recipe().val_fraction, Recipe().split_seed) == (0.1, 0)
    r = Recipe().override({"val_fraction": 0.5, "split_seed": 7})
    assert (r.val_fraction, r.split_seed) == (0.5, 7)
    assert Recipe.from_dict(r.to_dict()) == r


def test_pinned_errors_of_a_constant_model(
    monkeypatch: pytest.MonkeyPatch, cache: DataCache
) -> None:
    """A model that always says 3: its errors are the share of non-3s in each part, exactly."""
    use(monkeypatch, Always)
    res = train_trial(job(), cache)
    assert res.status == "done", res.message
    m = res.metrics
    assert (m["train_images"], m["val_images"], m["test_images"]) == (1293, 144, 360)
    assert res.error == m["val_error"] == pytest.approx(100 * (1 - 15 / 144))
    assert m["test_error"] == pytest.approx(100 * (1 - 37 / 360))
    assert m["best_val_error"] == m["val_error"]
    assert 80.0 < m["train_error"] < 100.0
    # cross-entropy of the fixed logits: log(e + 9) less 1 for each image that is a 3
    assert m["val_loss"] == pytest.approx(math.log(math.e + 9) - 15 / 144)
    assert m["test_loss"] == pytest.approx(math.log(math.e + 9) - 37 / 360)


def test_trial_has_train_val_and_test_errors(
    monkeypatch: pytest.MonkeyPatch, cache: DataCache
) -> None:
    use(monkeypatch, Tiny)
    sizes: list[int] = []
    real = loop.evaluate

    def counting(model: nn.Module, x: torch.Tensor, *a: Any, **kw: Any) -> tuple[float, float]:
        sizes.append(int(x.shape[0]))
        return real(model, x, *a, **kw)

    monkeypatch.setattr(loop, "evaluate", counting)
    recipe = dataclasses.replace(RECIPE, epochs=5, eval_every=2, val_fraction=0.2, split_seed=4)
    res = train_trial(job(recipe), cache)
    assert res.status == "done", res.message
    # validated at epochs 2, 4 and 5 (287 images); tested once, at the end (360 images)
    assert sizes == [287, 287, 287, 360]
    assert [r["val_error"] is not None for r in res.curves] == [False, True, False, True, True]
    assert [r["test_error"] is not None for r in res.curves] == [False] * 4 + [True]
    assert set(res.metrics) == {
        "epochs", "train_error", "val_error", "val_loss", "best_val_error", "test_error",
        "test_loss", "images_per_second", "train_seconds", "train_images", "val_images",
        "test_images",
    }
    assert res.error == res.metrics["val_error"] == res.curves[-1]["val_error"]
    assert res.metrics["best_val_error"] == min(res.curves[i]["val_error"] for i in (1, 3, 4))
    assert res.metrics["train_error"] == res.curves[-1]["train_error"]
    assert res.metrics["test_error"] == res.curves[-1]["test_error"]
    assert res.metrics["val_images"] == 287 and res.metrics["train_images"] == 1437 - 287


def test_split_does_not_follow_the_trial_seed(
    monkeypatch: pytest.MonkeyPatch, cache: DataCache
) -> None:
    use(monkeypatch, Always)
    a, b = train_trial(job(seed=1), cache), train_trial(job(seed=2), cache)
    assert a.error == b.error  # the same validation images whatever the trial seed
    other = train_trial(job(dataclasses.replace(RECIPE, split_seed=1)), cache)
    assert other.metrics["val_images"] == 144
    assert other.metrics["test_error"] == a.metrics["test_error"]  # the test part is fixed


class FakeTrial:
    """The two methods of an Optuna trial the pruning hook uses."""

    def __init__(self) -> None:
        self.reports: list[tuple[float, int]] = []

    def report(self, value: float, step: int) -> None:
        self.reports.append((value, step))

    def should_prune(self) -> bool:
        return len(self.reports) >= 2


def test_pruning_reports_validation_error() -> None:
    """The refine pruner reports each validated epoch once and relays the study's decision."""
    from nasx.refine.prune import StudyPruner

    fake = FakeTrial()
    pruner = StudyPruner("median", {5: fake}, {5: []})  # type: ignore[dict-item]
    assert pruner.report(5, 1, 12.5) is False
    assert pruner.report(5, 2, 40.0) is True and pruner.pruned == {5}
    assert pruner.report(5, 2, 40.0) is True  # a step Optuna holds is not reported twice
    assert fake.reports == [(12.5, 1), (40.0, 2)]
    assert pruner.report(6, 1, 10.0) is False  # a trial the study does not own: never pruned
