"""The 8x8 handwritten digits shipped inside scikit-learn (1797 images, 10 classes, no download)."""

from __future__ import annotations

import numpy as np

from nasx.data.base import RawData

# The test split is fixed here, independent of any trial seed and of the recipe: every trial of
# every run is tested on the same 360 images. The validation split (recipe val_fraction and
# split_seed) is carved later from the 1437 training images.
TEST_SPLIT_SEED = 0
TEST_SIZE = 360


def load_digits_raw() -> RawData:
    """Digits scaled to [0, 1], shape (N, 1, 8, 8), stratified 1437 train / 360 test split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=TEST_SIZE, stratify=y, random_state=TEST_SPLIT_SEED
    )
    # Flips and shifted crops change what a digit means (or cut it off at 8x8): no augmentation.
    return RawData(
        name="digits",
        x_train=x_tr,
        y_train=y_tr,
        x_test=x_te,
        y_test=y_te,
        num_classes=10,
        flip=False,
        crop=False,
    )
