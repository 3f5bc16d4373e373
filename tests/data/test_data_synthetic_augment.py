"""synthetic data shapes; on-device crop/flip and batching."""

from __future__ import annotations

import torch

from nasx.data import load_dataset
from nasx.data.augment import crop_padding, random_crop_flip, steps_per_epoch, train_batches
from nasx.train.recipe import Recipe


def test_synthetic_shapes_and_seeded() -> None:
    r = Recipe(data="synthetic", synthetic_train=64, synthetic_test=16, synthetic_classes=7)
    a = load_dataset(r, 32, 3, "cpu")
    b = load_dataset(r, 32, 3, "cpu")
    assert a.x_train.shape == (58, 3, 32, 32) and a.x_val.shape == (6, 3, 32, 32)
    assert a.x_test.shape == (16, 3, 32, 32)
    assert a.num_classes == 7 and int(a.y_train.max()) < 7
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)


def test_crop_is_a_shifted_window() -> None:
    x = torch.arange(3 * 2 * 6 * 6, dtype=torch.float32).view(3, 2, 6, 6) + 1
    gen = torch.Generator().manual_seed(0)
    out = random_crop_flip(x, gen, crop=True, flip=False, pad=2)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(3):  # each image equals some 6x6 window of its own padded image
        windows = [padded[i, :, r : r + 6, c : c + 6] for r in range(5) for c in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)


def test_flip_only_flips() -> None:
    x = torch.randn(64, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    out = random_crop_flip(x, torch.Generator().manual_seed(0), crop=False, flip=True)
    same = [torch.equal(out[i], x[i]) for i in range(64)]
    flipped = [torch.equal(out[i], x[i].flip(2)) for i in range(64)]
    assert all(s or f for s, f in zip(same, flipped, strict=True))
    assert 10 < sum(flipped) < 54


def test_batches_cover_a_permutation() -> None:
    x = torch.arange(10).float().view(10, 1, 1, 1)
    y = torch.arange(10)
    batches = list(train_batches(x, y, 3, torch.Generator().manual_seed(0)))
    assert len(batches) == steps_per_epoch(10, 3) == 3
    seen = torch.cat([b[1] for b in batches])
    assert len(set(seen.tolist())) == 9  # the partial last batch is dropped
    assert crop_padding(32) == 4 and crop_padding(8) == 1
