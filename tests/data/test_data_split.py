"""The validation split: stratified, disjoint, covering, seeded by split_seed; every data set has it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from idx_files import write_idx_set, write_imagenet_npz
from PIL import Image

from nasx.data import DataCache, load_dataset, stratified_split
from nasx.data.digits import load_digits_raw
from nasx.data.imagefolder import load_imagefolder_raw
from nasx.data.sets import names
from nasx.data.sources import SyntheticSource, describe
from nasx.errors import DataError
from nasx.train.recipe import Recipe


@dataclass(frozen=True)
class Case:
    """A data set as the loader sees it, and its training part before the split."""

    recipe: Recipe
    resolution: int
    in_channels: int
    x: np.ndarray  # the reader's training images, float, before normalisation
    y: np.ndarray
    normalised: bool  # standardised by the loader (every data set now)


def _digits(tmp_path: Path) -> Case:
    raw = load_digits_raw()
    return Case(Recipe(data="digits"), 8, 1, raw.x_train.astype(np.float64), raw.y_train, True)


def _cifar(tmp_path: Path) -> Case:
    rng = np.random.default_rng(0)
    xs, ys = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (8, 3072), dtype=np.uint8)
        labels = (np.arange(8) % 4).astype(np.uint8)  # 4 classes, 10 training images each
        rec = np.concatenate([labels[:, None], data], axis=1)
        (tmp_path / f"{name}.bin").write_bytes(rec.tobytes())
        if name != "test_batch":
            xs.append(data.reshape(-1, 3, 32, 32))
            ys.append(labels.astype(np.int64))
    x = np.concatenate(xs).astype(np.float64) / 255.0
    return Case(Recipe(data="cifar10", data_dir=str(tmp_path)), 32, 3, x, np.concatenate(ys), True)


def _imagefolder(tmp_path: Path) -> Case:
    rng = np.random.default_rng(1)
    for split, per_class in (("train", 5), ("val", 2)):
        for cls in ("ant", "bee", "cow"):
            folder = tmp_path / split / cls
            folder.mkdir(parents=True)
            for i in range(per_class):
                arr = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
                Image.fromarray(arr).save(folder / f"{i}.png")
    raw = load_imagefolder_raw(str(tmp_path), 8, 3)
    recipe = Recipe(data="imagefolder", data_dir=str(tmp_path))
    return Case(recipe, 8, 3, raw.x_train.astype(np.float64) / 255.0, raw.y_train, True)


def _idx(name: str) -> Callable[[Path], Case]:
    def make(tmp_path: Path) -> Case:
        s = write_idx_set(tmp_path, gz=name == "fashion_mnist", classes=10, n_train=50, size=10)
        x = s.x_train[:, None].astype(np.float64) / 255.0
        recipe = Recipe(data=name, data_dir=str(tmp_path))
        return Case(recipe, 10, 1, x, s.y_train.astype(np.int64), True)

    return make


def _synthetic(tmp_path: Path) -> Case:
    recipe = Recipe(data="synthetic", synthetic_train=60, synthetic_test=10, synthetic_classes=3)
    spec = describe("synthetic", None, 4, 2, (60, 10, 3))
    x, y, _ = SyntheticSource(spec).read("train", 0, 60)  # what its prepared store holds
    return Case(recipe, 4, 2, x.astype(np.float64) / 255.0, y.astype(np.int64), True)


def _imagenet_npz(tmp_path: Path) -> Case:
    x, y = write_imagenet_npz(tmp_path, size=8)
    return Case(Recipe(data="imagenet_npz", data_dir=str(tmp_path)), 8, 3,
                x.astype(np.float64) / 255.0, y, True)


CASES: dict[str, Callable[[Path], Case]] = {
    "digits": _digits,
    "cifar10": _cifar,
    "imagefolder": _imagefolder,
    "fashion_mnist": _idx("fashion_mnist"),
    "mnist_idx": _idx("mnist_idx"),
    "synthetic": _synthetic,
    "imagenet_npz": _imagenet_npz,
}


def test_every_data_set_has_a_case() -> None:
    assert set(CASES) == set(names())
    for name in names():
        Recipe(data=name).validate()


def _half_up(v: float) -> int:
    return int(np.floor(v + 0.5))


def _stats(case: Case, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of the training part only (what standardisation must use)."""
    if not case.normalised:
        return np.zeros(case.in_channels), np.ones(case.in_channels)
    part = case.x[train]
    return part.mean(axis=(0, 2, 3)), part.std(axis=(0, 2, 3))


@pytest.mark.parametrize("name", names())
@pytest.mark.parametrize(("fraction", "seed"), [(0.1, 0), (0.25, 3)])
def test_every_data_set_gets_the_split(
    name: str, fraction: float, seed: int, tmp_path: Path
) -> None:
    case = CASES[name](tmp_path)
    recipe = replace(case.recipe, val_fraction=fraction, split_seed=seed)
    ds = load_dataset(recipe, case.resolution, case.in_channels, "cpu")
    train, val = stratified_split(case.y, fraction, seed)
    # the loader's parts are exactly the stratified split of the reader's training set ...
    assert torch.equal(ds.y_train, torch.from_numpy(case.y[train]))
    assert torch.equal(ds.y_val, torch.from_numpy(case.y[val]))
    assert ds.x_val.shape[0] == _half_up(len(case.y) * fraction)
    # ... images and labels still paired, standardised with the training part's statistics
    mean, std = _stats(case, train)
    assert np.allclose(ds.mean, mean, atol=1e-6) and np.allclose(ds.std, std, atol=1e-6)
    want = (case.x - mean[None, :, None, None]) / std[None, :, None, None]
    assert np.allclose(ds.x_train.double().numpy(), want[train], atol=1e-4)
    assert np.allclose(ds.x_val.double().numpy(), want[val], atol=1e-4)
    # the same split on every load; another split_seed gives another split, same test part
    again = load_dataset(recipe, case.resolution, case.in_channels, "cpu")
    assert torch.equal(again.x_val, ds.x_val) and torch.equal(again.x_train, ds.x_train)
    other = load_dataset(
        replace(recipe, split_seed=seed + 1), case.resolution, case.in_channels, "cpu"
    )
    assert other.x_val.shape == ds.x_val.shape and not torch.equal(other.x_val, ds.x_val)
    assert torch.equal(other.y_test, ds.y_test)


@pytest.mark.parametrize("fraction", [0.05, 0.1, 0.3, 0.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_is_disjoint_covering_stratified(fraction: float, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    y = rng.choice(5, size=203, p=[0.4, 0.3, 0.15, 0.1, 0.05])  # imbalanced classes
    train, val = stratified_split(y, fraction, seed)
    assert np.intersect1d(train, val).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(y.size))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    assert val.size == _half_up(y.size * fraction)
    target = val.size / y.size
    for c in range(5):
        have, n_c = int(np.sum(y[val] == c)), int(np.sum(y == c))
        assert np.floor(n_c * target) <= have <= np.ceil(n_c * target)  # its own share
        assert have < n_c  # every class keeps training images
    a, b = stratified_split(y, fraction, seed), stratified_split(y, fraction, seed + 7)
    assert np.array_equal(a[1], val) and not np.array_equal(b[1], val)


def test_split_pinned_small_example() -> None:
    y = np.array([0, 1, 2] * 6 + [0, 1])
    assert stratified_split(y, 0.25, 0)[1].tolist() == [7, 10, 12, 17, 18]
    assert stratified_split(y, 0.25, 1)[1].tolist() == [1, 4, 5, 9, 18]
    # ties of the largest remainder go where the seed says; each class keeps a training image
    train, val = stratified_split(np.array([0] * 7 + [1] * 3), 0.5, 0)
    assert train.tolist() == [0, 1, 3, 6, 8] and val.tolist() == [2, 4, 5, 7, 9]
    assert stratified_split(np.array([3, 3]), 0.1, 0)[1].tolist() == [0]  # at least one image


def test_digits_default_split_pinned() -> None:
    y = load_digits_raw().y_train
    train, val = stratified_split(y, Recipe().val_fraction, Recipe().split_seed)
    assert (train.size, val.size) == (1293, 144)
    assert np.bincount(y[val]).tolist() == [14, 15, 14, 15, 15, 14, 15, 14, 14, 14]
    assert val[:8].tolist() == [5, 10, 25, 32, 36, 46, 78, 82]


def test_split_of_one_image_is_a_data_error() -> None:
    with pytest.raises(DataError, match="at least 2 training images.*got 1") as err:
        stratified_split(np.array([4]), 0.1, 0)
    assert err.value.key == "val_fraction"


def test_cache_key_has_the_split_and_train_fraction_spares_validation() -> None:
    cache = DataCache(max_items=4)
    base = Recipe(data="digits")
    a = load_dataset(base, 8, 1, "cpu", cache)
    b = load_dataset(replace(base, split_seed=1), 8, 1, "cpu", cache)
    c = load_dataset(replace(base, val_fraction=0.2), 8, 1, "cpu", cache)
    assert cache.misses == 3 and cache.hits == 0
    assert not torch.equal(a.y_val, b.y_val) and c.x_val.shape[0] == 287
    half = load_dataset(replace(base, train_fraction=0.5), 8, 1, "cpu", cache)
    assert cache.hits == 1  # the same loaded data set, subset afterwards
    assert torch.equal(half.x_val, a.x_val) and torch.equal(half.x_test, a.x_test)
    assert half.x_train.shape[0] == 646  # half of the 1293 images left for training
