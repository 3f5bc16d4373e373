"""train_trial end to end on digits: learns, is reproducible, reports divergence and crashes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch
from safetensors.torch import load
from torch import nn

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.data import DataCache
from nasx.train import trainer
from nasx.train.job import TrialJob
from nasx.train.recipe import Recipe
from nasx.train.trainer import train_trial

SPEC = ArchSpec(
    family="anynet",
    stem=StemSpec(width=8, stride=1),
    stages=(
        StageSpec(block="basic", depth=1, width=16, stride=2),
        StageSpec(block="basic", depth=1, width=32, stride=2),
    ),
    head=HeadSpec(num_classes=10),
    resolution=8,
    in_channels=1,
    name="tiny",
)
RECIPE = Recipe(data="digits", epochs=4, batch_size=64, lr=0.1, threads=1)


@pytest.fixture(scope="module")
def cache() -> DataCache:
    return DataCache()


def job(recipe: Recipe = RECIPE, seed: int = 0, spec: ArchSpec = SPEC, **kw: Any) -> TrialJob:
    return TrialJob(trial_id=7, spec=spec, recipe=recipe, seed=seed, **kw)


class TinyCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(32, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class NaNNet(TinyCNN):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * float("nan")


class Boom(TinyCNN):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom\nsecond line")


def use(monkeypatch: pytest.MonkeyPatch, cls: type[nn.Module]) -> None:
    monkeypatch.setattr(trainer, "_build_model", lambda spec, seed: cls())


def test_real_model_learns_digits_and_ships_weights(cache: DataCache) -> None:
    res = train_trial(job(return_weights=True), cache)
    assert res.status == "done", res.message
    assert res.error is not None and res.error < 30.0
    # the selection error is the validation error; the test error is measured beside it
    assert res.error == res.metrics["val_error"] == res.curves[-1]["val_error"]
    assert res.metrics["test_error"] == res.curves[-1]["test_error"] < 30.0
    assert res.metrics["epochs"] == 4 and len(res.curves) == 4
    assert res.metrics["best_val_error"] <= res.error
    assert res.metrics["images_per_second"] > 0 and res.seconds > 0
    assert res.device == "cpu" and res.host
    assert set(res.curves[0]) == {
        "epoch",
        "train_loss",
        "train_error",
        "val_loss",
        "val_error",
        "test_loss",
        "test_error",
        "lr",
        "seconds",
    }
    assert res.curves[-1]["train_loss"] < res.curves[0]["train_loss"]
    # the weights load back into a freshly built model and reproduce both errors
    from nasx.data import load_dataset
    from nasx.models import build_model
    from nasx.train.loop import evaluate

    fresh = build_model(SPEC, init=True, seed=123)
    fresh.load_state_dict(load(res.weights))  # strict: every key present, shapes equal
    ds = load_dataset(RECIPE, 8, 1, "cpu", cache)
    _, err = evaluate(fresh, ds.x_val, ds.y_val, RECIPE, torch.device("cpu"))
    assert err == pytest.approx(res.error)
    _, err = evaluate(fresh, ds.x_test, ds.y_test, RECIPE, torch.device("cpu"))
    assert err == pytest.approx(res.metrics["test_error"])


def test_same_seed_same_result(monkeypatch: pytest.MonkeyPatch, cache: DataCache) -> None:
    use(monkeypatch, TinyCNN)
    recipe = Recipe(data="digits", epochs=2, batch_size=128, lr=0.2, threads=1, warmup_epochs=1)
    a, b = train_trial(job(recipe, seed=3), cache), train_trial(job(recipe, seed=3), cache)
    c = train_trial(job(recipe, seed=4), cache)
    assert a.status == b.status == "done"
    assert a.error == b.error  # bitwise on CPU
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in a.curves]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in b.curves]
    assert [r["train_loss"] for r in c.curves] != [r["train_loss"] for r in a.curves]


def test_nan_model_diverges(monkeypatch: pytest.MonkeyPatch, cache: DataCache) -> None:
    use(monkeypatch, NaNNet)
    res = train_trial(job(), cache)
    assert res.status == "diverged"
    assert res.error is None and "nan" in (res.message or "")
    assert len(res.curves) == 1 and res.curves[0]["train_loss"] is None


def test_raising_model_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch, cache: DataCache
) -> None:
    use(monkeypatch, Boom)
    threads = torch.get_num_threads()
    res = train_trial(
        job(dataclasses.replace(RECIPE, threads=threads + 1), return_weights=True), cache
    )
    assert torch.get_num_threads() == threads  # restored after the trial
    assert res.status == "failed" and res.error is None and res.weights is None
    assert res.message == "RuntimeError: boom second line"


def test_on_epoch_stops_early(monkeypatch: pytest.MonkeyPatch, cache: DataCache) -> None:
    use(monkeypatch, TinyCNN)
    seen: list[int] = []

    def hook(epoch: int, record: dict[str, Any]) -> bool:
        seen.append(epoch)
        assert record["val_error"] is not None and record["test_error"] is None
        return epoch < 2

    recipe = Recipe(data="digits", epochs=4, batch_size=256, threads=1, eval_every=2)
    res = train_trial(job(recipe), cache, on_epoch=hook)
    assert res.status == "done" and res.metrics["stopped_early"] is True
    assert seen == [2] and res.metrics["epochs"] == 2 and res.error == res.curves[1]["val_error"]
    assert res.curves[0]["val_error"] is None  # epoch 1 not validated (eval_every 2)
    # the model where training stopped is tested once
    assert res.curves[1]["test_error"] == res.metrics["test_error"] is not None
    # a stop asked for after the last epoch changes nothing: the trial is complete
    res = train_trial(
        job(dataclasses.replace(recipe, epochs=2)), cache, on_epoch=lambda e, r: False
    )
    assert res.status == "done" and "stopped_early" not in res.metrics


@pytest.mark.parametrize(
    ("recipe", "spec", "expected"),
    [
        (
            RECIPE,
            ArchSpec(
                family="anynet",
                stem=SPEC.stem,
                stages=SPEC.stages,
                head=HeadSpec(num_classes=100),
                resolution=8,
                in_channels=1,
            ),
            "key 'num_classes': the spec has num_classes 100 but data 'digits' has 10 classes",
        ),
        (
            Recipe(data="digits", device="cuda:3") if not torch.cuda.is_available() else None,
            SPEC,
            "key 'device'",
        ),
        (Recipe(data="cifar10", data_dir="/nonexistent/cifar"), SPEC, "/nonexistent/cifar"),
    ],
)
def test_user_errors_become_failed(
    recipe: Recipe | None, spec: ArchSpec, expected: str, cache: DataCache
) -> None:
    if recipe is None:
        pytest.skip("a CUDA device is present")
    res = train_trial(job(recipe, spec=spec), cache)
    assert res.status == "failed" and expected in (res.message or "")
    assert "\n" not in (res.message or "")


def test_bad_recipe_and_spec_dicts_fail(cache: DataCache) -> None:
    bad = TrialJob(trial_id=1, spec=SPEC, recipe=Recipe(epochs=0), seed=0)
    res = train_trial(bad, cache)
    assert res.status == "failed" and "epochs" in (res.message or "")
    not_a_spec: Any = {"family": "x"}  # a hand-built job: the trainer checks what arrived
    res = train_trial(TrialJob(trial_id=1, spec=not_a_spec, recipe=RECIPE, seed=0))
    assert res.status == "failed" and "spec" in (res.message or "")


def test_adamw_label_smoothing_train_fraction(
    monkeypatch: pytest.MonkeyPatch, cache: DataCache
) -> None:
    use(monkeypatch, TinyCNN)
    recipe = Recipe(
        data="digits",
        epochs=2,
        batch_size=64,
        optimizer="adamw",
        lr=3e-3,
        weight_decay=0.05,
        label_smoothing=0.1,
        train_fraction=0.5,
        threads=1,
    )
    res = train_trial(job(recipe), cache)
    assert res.status == "done" and res.error is not None and res.error < 90.0


def test_synthetic_trains_with_on_device_augmentation(
    monkeypatch: pytest.MonkeyPatch, cache: DataCache
) -> None:
    from nasx.train import loop

    calls: list[tuple[bool, bool]] = []
    real = loop.random_crop_flip

    def counting(x: torch.Tensor, gen: torch.Generator, **kw: Any) -> torch.Tensor:
        calls.append((kw["crop"], kw["flip"]))
        return real(x, gen, **kw)

    monkeypatch.setattr(loop, "random_crop_flip", counting)
    spec = ArchSpec(
        family="anynet",
        stem=StemSpec(width=8, stride=1),
        stages=(StageSpec(block="basic", depth=1, width=8, stride=2),),
        head=HeadSpec(num_classes=5),
        resolution=8,
        in_channels=3,
    )
    recipe = Recipe(
        data="synthetic",
        synthetic_train=96,
        synthetic_test=32,
        synthetic_classes=5,
        epochs=2,
        batch_size=32,
        threads=1,
    )
    res = train_trial(job(recipe, spec=spec), cache)
    assert res.status == "done", res.message
    # 96 images less 10 for validation: 2 steps per epoch, 2 epochs
    assert calls == [(True, True)] * 4
    off = train_trial(job(dataclasses.replace(recipe, augment=False), spec=spec), cache)
    assert off.status == "done" and len(calls) == 4
