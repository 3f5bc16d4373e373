"""Fashion-MNIST (Xiao et al. 2017): 60,000 + 10,000 28x28 grayscale images of 10 kinds of clothing.

Read from IDX files (:mod:`nasx.data.idx`), by default where Debian's ``dataset-fashion-mnist``
package installs them; ``data_dir`` points at any other copy in the same layout.
"""

from __future__ import annotations

from pathlib import Path

from nasx.data.base import RawData
from nasx.data.idx import load_idx_raw
from nasx.errors import DataError

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")


def load_fashion_mnist_raw(data_dir: str | None) -> RawData:
    """Fashion-MNIST as RawData (uint8 (N, 1, 28, 28), labels 0..9) from ``data_dir`` or Debian's."""
    folder = Path(data_dir or DEFAULT_DIR)
    if not data_dir and not folder.is_dir():
        raise DataError("no Fashion-MNIST here; install Debian's dataset-fashion-mnist "
                        "(apt-get install dataset-fashion-mnist) or give --data-dir",
                        where=str(folder), key="data_dir")
    # A mirrored garment is the same garment, and a shifted crop keeps it recognisable.
    return load_idx_raw(folder, "fashion_mnist", num_classes=len(CLASSES), flip=True, crop=True)
