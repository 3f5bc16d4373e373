"""imagefolder: train/ and val/ class folders read with Pillow and resized."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nasx.data import load_dataset
from nasx.errors import DataError
from nasx.train.recipe import Recipe


def make_folder(root: Path, per_class: int = 3) -> None:
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for cls in ("cat", "dog", "emu"):
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(per_class):
                size = (10 + i, 12)  # mixed sizes: every image is resized
                arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
                Image.fromarray(arr).save(folder / f"{i}.png")
    (root / "train" / "cat" / "notes.txt").write_text("not an image")


def test_imagefolder_loads(tmp_path: Path) -> None:
    make_folder(tmp_path)
    ds = load_dataset(Recipe(data="imagefolder", data_dir=str(tmp_path)), 8, 3, "cpu")
    # train/ is split (1 of its 9 images validates); val/ is the test part, whole
    assert ds.x_train.shape == (8, 3, 8, 8) and ds.x_val.shape == (1, 3, 8, 8)
    assert ds.x_test.shape == (9, 3, 8, 8)
    assert ds.num_classes == 3
    assert sorted(ds.y_train.tolist() + ds.y_val.tolist()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert ds.y_test.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    gray = load_dataset(Recipe(data="imagefolder", data_dir=str(tmp_path)), 6, 1, "cpu")
    assert gray.x_train.shape == (8, 1, 6, 6)


def test_imagefolder_missing_val(tmp_path: Path) -> None:
    make_folder(tmp_path)
    for p in sorted((tmp_path / "val").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (tmp_path / "val").rmdir()
    with pytest.raises(DataError, match="missing folder val/"):
        load_dataset(Recipe(data="imagefolder", data_dir=str(tmp_path)), 8, 3, "cpu")


def test_imagefolder_unknown_val_class(tmp_path: Path) -> None:
    make_folder(tmp_path)
    (tmp_path / "val" / "yak").mkdir()
    with pytest.raises(DataError, match="'yak' is not in train/"):
        load_dataset(Recipe(data="imagefolder", data_dir=str(tmp_path)), 8, 3, "cpu")
