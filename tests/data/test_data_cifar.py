"""cifar10: tiny fixtures in both distributed layouts; wrong folders name the missing file."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from nasx.data import load_dataset
from nasx.data.cifar import load_cifar10_raw
from nasx.errors import DataError
from nasx.train.recipe import Recipe

PER_BATCH = 4


def _batches(seed: int = 0) -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return [
        (
            n,
            rng.integers(0, 256, (PER_BATCH, 3072), dtype=np.uint8),
            rng.integers(0, 10, PER_BATCH).astype(np.int64),
        )
        for n in names
    ]


def write_bin(folder: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    folder.mkdir(parents=True, exist_ok=True)
    batches = _batches()
    for name, data, labels in batches:
        rec = np.concatenate([labels.astype(np.uint8)[:, None], data], axis=1)
        (folder / f"{name}.bin").write_bytes(rec.tobytes())
    return batches


def write_py(folder: Path, protocol: int = 2) -> list[tuple[str, np.ndarray, np.ndarray]]:
    folder.mkdir(parents=True, exist_ok=True)
    batches = _batches()
    for name, data, labels in batches:
        d = {b"batch_label": name.encode(), b"labels": [int(v) for v in labels], b"data": data}
        (folder / name).write_bytes(pickle.dumps(d, protocol=protocol))
    meta = {b"label_names": [f"c{i}".encode() for i in range(10)]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))
    return batches


def _py2_str(x: bytes) -> bytes:
    """A Python 2 ``str`` in a pickle (BINSTRING): what the official batches hold."""
    return b"T" + len(x).to_bytes(4, "little") + x


def py2_batch(data: np.ndarray, labels: np.ndarray) -> bytes:
    """A batch pickled the way Python 2's cPickle wrote CIFAR-10 (numpy.core globals, py2 str)."""
    dtype = b"cnumpy\ndtype\n" + _py2_str(b"u1") + b"K\x00K\x01\x87R(K\x03" + _py2_str(b"|")
    dtype += b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    shape = b"K" + bytes([data.shape[0]]) + b"M" + (3072).to_bytes(2, "little") + b"\x86"
    array = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + _py2_str(b"b")
    array += b"\x87R(K\x01" + shape + dtype + b"\x89" + _py2_str(data.tobytes()) + b"tb"
    ints = b"".join(b"K" + bytes([int(v)]) for v in labels)
    return b"\x80\x02}(" + _py2_str(b"data") + array + _py2_str(b"labels") + b"](" + ints + b"eu."


def _check(raw_dir: Path, batches: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    raw = load_cifar10_raw(str(raw_dir))
    assert raw.x_train.shape == (5 * PER_BATCH, 3, 32, 32) and raw.x_test.shape == (
        PER_BATCH,
        3,
        32,
        32,
    )
    assert np.array_equal(raw.x_train[:PER_BATCH].reshape(PER_BATCH, -1), batches[0][1])
    assert np.array_equal(raw.y_test, batches[-1][2])
    assert raw.flip and raw.crop


def test_binary_layout_in_subfolder(tmp_path: Path) -> None:
    batches = write_bin(tmp_path / "cifar-10-batches-bin")
    _check(tmp_path, batches)


@pytest.mark.parametrize("protocol", [2, 5])
def test_python_layout(tmp_path: Path, protocol: int) -> None:
    batches = write_py(tmp_path / "cifar-10-batches-py", protocol)
    _check(tmp_path, batches)
    _check(tmp_path / "cifar-10-batches-py", batches)


def test_python2_pickles_like_the_official_files(tmp_path: Path) -> None:
    batches = write_py(tmp_path)
    for name, data, labels in batches:
        (tmp_path / name).write_bytes(py2_batch(data, labels))
    _check(tmp_path, batches)


def test_load_dataset_cifar_tensors(tmp_path: Path) -> None:
    write_bin(tmp_path)
    ds = load_dataset(Recipe(data="cifar10", data_dir=str(tmp_path)), 16, 3, "cpu")
    # 20 training images: 2 (10%) carved off for validation; the test batch stays whole
    assert ds.x_train.shape == (18, 3, 16, 16) and ds.x_val.shape == (2, 3, 16, 16)
    assert ds.y_test.shape == (4,)
    assert ds.x_train.dtype == torch.float32 and ds.num_classes == 10


def test_missing_batch_names_the_file(tmp_path: Path) -> None:
    write_bin(tmp_path)
    (tmp_path / "data_batch_3.bin").unlink()
    with pytest.raises(DataError, match=r"missing data_batch_3\.bin") as err:
        load_cifar10_raw(str(tmp_path))
    assert "binary layout" in str(err.value) and "\n" not in str(err.value)


def test_missing_python_test_batch(tmp_path: Path) -> None:
    write_py(tmp_path)
    (tmp_path / "test_batch").unlink()
    with pytest.raises(DataError, match="missing test_batch.*python layout"):
        load_cifar10_raw(str(tmp_path))


def test_empty_folder_explains_layout(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing data_batch_1.bin.*binary layout.*python layout"):
        load_cifar10_raw(str(tmp_path))
    with pytest.raises(DataError, match="no such folder"):
        load_cifar10_raw(str(tmp_path / "nope"))
    with pytest.raises(DataError, match="needs a data_dir"):
        load_cifar10_raw(None)


def test_truncated_binary_batch(tmp_path: Path) -> None:
    write_bin(tmp_path)
    (tmp_path / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(DataError, match="test_batch.bin.*3073-byte"):
        load_cifar10_raw(str(tmp_path))


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (eval, ("1 + 1",))


def test_restricted_unpickler_refuses_code(tmp_path: Path) -> None:
    write_py(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(pickle.dumps({b"data": _Evil(), b"labels": []}))
    with pytest.raises(DataError, match="builtins.eval is not allowed"):
        load_cifar10_raw(str(tmp_path))
