"""Image folders: ``train/<class>/*`` and ``val/<class>/*`` read with Pillow, resized on load.

The folder named ``val/`` is the *test* part (ImageNet's naming: its labelled held-out set); the
validation part that selection uses is carved from ``train/`` like for every other data set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasx.data.base import RawData
from nasx.errors import DataError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}


def _classes(split: Path) -> list[str]:
    return sorted(p.name for p in split.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read_split(
    split: Path, classes: list[str], resolution: int, mode: str
) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, cls in enumerate(classes):
        folder = split / cls
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in EXTENSIONS:
                continue
            try:
                with Image.open(path) as im:
                    im = im.convert(mode).resize(
                        (resolution, resolution), Image.Resampling.BILINEAR
                    )
                    arr = np.asarray(im, dtype=np.uint8)
            except (UnidentifiedImageError, OSError) as exc:
                raise DataError(f"cannot read image ({exc})", where=str(path)) from None
            images.append(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1))
            labels.append(label)
    if not images:
        raise DataError(
            f"no images ({', '.join(sorted(EXTENSIONS))}) in any class folder", where=str(split)
        )
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def load_imagefolder_raw(data_dir: str | None, resolution: int, in_channels: int) -> RawData:
    """Read ``data_dir/train`` (training) and ``data_dir/val`` (test); classes: train sub-folders."""
    expected = "expected data_dir/train/<class>/*.png|jpg and data_dir/val/<class>/*"
    if not data_dir:
        raise DataError(f"data 'imagefolder' needs a data_dir; {expected}", key="data_dir")
    root = Path(data_dir).expanduser()
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise DataError(
                f"missing folder {split}/; {expected}", where=str(root / split), key="data_dir"
            )
    if in_channels not in (1, 3):
        raise DataError(
            rule="in_channels must be 1 or 3 for image folders", value=in_channels,
            where=str(root),
            key="in_channels",
        )
    classes = _classes(root / "train")
    if len(classes) < 2:
        raise DataError(
            f"needs at least 2 class folders; found {len(classes)}", where=str(root / "train")
        )
    extra = sorted(set(_classes(root / "val")) - set(classes))
    if extra:
        raise DataError(
            f"class folder '{extra[0]}' is not in train/", where=str(root / "val" / extra[0])
        )
    mode = "L" if in_channels == 1 else "RGB"
    x_tr, y_tr = _read_split(root / "train", classes, resolution, mode)
    x_te, y_te = _read_split(root / "val", classes, resolution, mode)
    return RawData(
        name="imagefolder",
        x_train=x_tr,
        y_train=y_tr,
        x_test=x_te,
        y_test=y_te,
        num_classes=len(classes),
        flip=True,
        crop=True,
    )
