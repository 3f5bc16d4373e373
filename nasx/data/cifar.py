"""CIFAR-10 from a local folder in either distributed layout (no downloads).

binary: data_batch_1.bin .. data_batch_5.bin, test_batch.bin (records of 1 label byte + 3072 pixel
bytes, channel-major), possibly inside cifar-10-batches-bin/.
python: data_batch_1 .. data_batch_5, test_batch (pickled dicts), possibly inside
cifar-10-batches-py/. The binary layout is preferred when both are present.
"""

from __future__ import annotations

import importlib
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from nasx.data.base import RawData
from nasx.errors import DataError

BIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6)) + ("test_batch.bin",)
PY_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
BIN_SUBDIR = "cifar-10-batches-bin"
PY_SUBDIR = "cifar-10-batches-py"
RECORD = 1 + 3 * 32 * 32

EXPECTED = (
    "expected CIFAR-10 in the binary layout (data_batch_1.bin .. data_batch_5.bin, test_batch.bin) "
    f"or the python layout (data_batch_1 .. data_batch_5, test_batch), directly or inside "
    f"{BIN_SUBDIR}/ "
    f"or {PY_SUBDIR}/"
)

# The python batches are pickles, and unpickling can run arbitrary code. Only what a pickled dict of
# a numpy uint8 array and a list of ints needs may be resolved: numpy's array reconstructor, the
# ndarray and dtype types, and _codecs.encode (how protocol-2 pickles spell bytes). Anything else
# (os.system, eval, ...) is refused.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("_codecs", "encode"): ("_codecs", "encode"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals in ``_ALLOWED``."""

    def find_class(self, module: str, name: str) -> Any:  # noqa: ANN401 - pickle's own contract
        """Resolve an allowed global or refuse."""
        target = _ALLOWED.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        try:
            mod = importlib.import_module(target[0])
        except ImportError:  # numpy 1.x has no numpy._core
            mod = importlib.import_module(target[0].replace("numpy._core", "numpy.core"))
        return getattr(mod, target[1])


def find_layout(root: Path) -> tuple[str, Path]:
    """('bin' | 'py', folder) of the first layout with any file present."""
    candidates = [
        ("bin", root, BIN_FILES),
        ("bin", root / BIN_SUBDIR, BIN_FILES),
        ("py", root, PY_FILES),
        ("py", root / PY_SUBDIR, PY_FILES),
    ]
    for layout, folder, names in candidates:
        if any((folder / n).is_file() for n in names):
            missing = [n for n in names if not (folder / n).is_file()]
            if missing:
                raise DataError(
                    f"missing {missing[0]} (CIFAR-10 {'binary' if layout == 'bin' else 'python'} "
                    f"layout needs {names[0]} .. {names[-2]}, {names[-1]})",
                    where=str(folder / missing[0]),
                    key="data_dir",
                )
            return layout, folder
    raise DataError(
        f"no CIFAR-10 files found (missing data_batch_1.bin); {EXPECTED}",
        where=str(root),
        key="data_dir",
    )


def _read_bin(path: Path) -> tuple[np.ndarray, np.ndarray]:
    blob = np.fromfile(path, dtype=np.uint8)
    if blob.size == 0 or blob.size % RECORD:
        raise DataError(
            f"size {blob.size} bytes is not a positive multiple of the {RECORD}-byte "
            "CIFAR-10 record",
            where=str(path),
        )
    rec = blob.reshape(-1, RECORD)
    return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0].astype(np.int64)


def _read_py(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        # encoding="bytes": the official batches were written by Python 2 (keys come back as bytes).
        d = _RestrictedUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DataError(f"not a CIFAR-10 python batch ({exc})", where=str(path)) from None
    if not isinstance(d, dict):
        raise DataError("not a CIFAR-10 python batch (expected a dict)", where=str(path))
    d = {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}
    if "data" not in d or "labels" not in d:
        raise DataError(
            "a CIFAR-10 python batch needs 'data' and 'labels'",
            where=str(path),
            key="data" if "data" not in d else "labels",
        )
    data = np.asarray(d["data"], dtype=np.uint8)
    labels = np.asarray(d["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] != labels.shape[0]:
        raise DataError(
            rule="data must be (N, 3072) with N labels", value=data.shape,
            shown=f"{data.shape} and {labels.shape[0]} labels",
            where=str(path),
            key="data",
        )
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10_raw(data_dir: str | None) -> RawData:
    """Read CIFAR-10 from ``data_dir`` (uint8 images (N, 3, 32, 32), labels 0..9)."""
    if not data_dir:
        raise DataError(f"data 'cifar10' needs a data_dir; {EXPECTED}", key="data_dir")
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"no such folder; {EXPECTED}", where=str(root), key="data_dir")
    layout, folder = find_layout(root)
    read, names = (_read_bin, BIN_FILES) if layout == "bin" else (_read_py, PY_FILES)
    parts = [read(folder / n) for n in names]
    x_tr = np.concatenate([p[0] for p in parts[:-1]])
    y_tr = np.concatenate([p[1] for p in parts[:-1]])
    x_te, y_te = parts[-1]
    for y, n in ((y_tr, names[0]), (y_te, names[-1])):
        if y.size and (y.min() < 0 or y.max() > 9):
            raise DataError(
                rule="labels must be in 0..9", value=(int(y.min()), int(y.max())),
                shown=f"{int(y.min())}..{int(y.max())}",
                where=str(folder / n),
                key="labels",
            )
    return RawData(
        name="cifar10",
        x_train=x_tr,
        y_train=y_tr,
        x_test=x_te,
        y_test=y_te,
        num_classes=10,
        flip=True,
        crop=True,
    )
