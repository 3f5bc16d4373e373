"""digits: shapes, stratified fixed splits, normalisation, channel replication, determinism."""

from __future__ import annotations

import pytest
import torch

from nasx.data import DataCache, load_dataset
from nasx.errors import DataError
from nasx.train.recipe import Recipe


@pytest.fixture(scope="module")
def cache() -> DataCache:
    return DataCache(max_items=4)


def test_digits_shapes_and_split(cache: DataCache) -> None:
    ds = load_dataset(Recipe(data="digits"), 16, 1, "cpu", cache)
    # 1437 training images of the fixed 1437/360 split: 144 (10%) of them validate
    assert ds.x_train.shape == (1293, 1, 16, 16) and ds.x_val.shape == (144, 1, 16, 16)
    assert ds.x_test.shape == (360, 1, 16, 16)
    assert ds.y_train.dtype == torch.int64 and ds.num_classes == 10
    # stratified: every class holds 35 or 36 of the 360 test images
    counts = torch.bincount(ds.y_test, minlength=10)
    assert int(counts.min()) >= 35 and int(counts.max()) <= 37
    # standardised with the statistics of the training part
    assert abs(float(ds.x_train.mean())) < 1e-4
    assert float(ds.x_train.std()) == pytest.approx(1.0, abs=1e-3)
    assert not ds.flip and not ds.crop  # no augmentation for digits


def test_digits_deterministic_and_replicated(cache: DataCache) -> None:
    a = load_dataset(Recipe(data="digits"), 8, 1, "cpu")  # no cache: a fresh load
    b = load_dataset(Recipe(data="digits"), 8, 3, "cpu", cache)
    assert torch.equal(a.y_train, b.y_train) and torch.equal(a.y_test, b.y_test)
    assert torch.equal(a.y_val, b.y_val)
    assert b.x_train.shape == (1293, 3, 8, 8)
    assert torch.equal(b.x_train[:, 0], b.x_train[:, 2])
    assert torch.allclose(a.x_train[:, 0], b.x_train[:, 1])


def test_cache_hits_and_train_fraction(cache: DataCache) -> None:
    load_dataset(Recipe(data="digits"), 12, 1, "cpu", cache)
    hits = cache.hits
    half = load_dataset(Recipe(data="digits", train_fraction=0.5), 12, 1, "cpu", cache)
    assert cache.hits == hits + 1
    assert half.x_train.shape[0] == 646 and half.x_test.shape[0] == 360
    assert half.x_val.shape[0] == 144  # train_fraction subsets the training part only
    again = load_dataset(Recipe(data="digits", train_fraction=0.5), 12, 1, "cpu", cache)
    assert torch.equal(half.y_train, again.y_train)  # the subset does not depend on any trial seed


def test_channel_mismatch_is_data_error(cache: DataCache) -> None:
    with pytest.raises(DataError, match="in_channels 2"):
        load_dataset(Recipe(data="digits"), 8, 2, "cpu", cache)


def test_cache_evicts_oldest() -> None:
    c = DataCache(max_items=1)
    c.get_or_load(("a",), lambda: "A")  # type: ignore[arg-type,return-value]
    c.get_or_load(("b",), lambda: "B")  # type: ignore[arg-type,return-value]
    assert len(c) == 1 and c.misses == 2
    assert c.get_or_load(("b",), lambda: "X") == "B"  # type: ignore[arg-type,return-value]
