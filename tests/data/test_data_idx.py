"""IDX data sets (fashion_mnist, mnist_idx): the reader on tiny generated files, its one-line
errors for every malformation, the decoded-array cache, and the real Fashion-MNIST when present."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from idx_files import IMAGES, LABELS, idx_bytes, write_file, write_idx_set

import nasx.data.idx as idx
from nasx.data import DataCache, load_dataset
from nasx.data.fashion_mnist import DEFAULT_DIR, load_fashion_mnist_raw
from nasx.errors import DataError
from nasx.train.recipe import Recipe


@pytest.mark.parametrize("gz", [False, True])
def test_reads_raw_and_gzipped_files_exactly(gz: bool, tmp_path: Path) -> None:
    s = write_idx_set(tmp_path, gz=gz)
    raw = idx.load_mnist_idx_raw(str(tmp_path))
    assert raw.name == "mnist_idx" and raw.num_classes == 4
    assert raw.x_train.shape == (40, 1, 8, 8) and raw.x_test.shape == (12, 1, 8, 8)
    assert np.array_equal(raw.x_train[:, 0], s.x_train) and np.array_equal(raw.x_test[:, 0],
                                                                            s.x_test)
    assert raw.y_train.dtype == np.int64 and raw.y_train.tolist() == s.y_train.tolist()
    assert raw.y_test.tolist() == s.y_test.tolist()
    assert not raw.flip and not raw.crop  # glyphs: no augmentation


def test_a_raw_file_wins_over_its_gz_twin(tmp_path: Path) -> None:
    write_idx_set(tmp_path, gz=True, seed=1)
    s = write_idx_set(tmp_path, gz=False, seed=2)
    files = idx.find_files(tmp_path)
    assert [p.name for p in files] == [IMAGES[0], LABELS[0], IMAGES[1], LABELS[1]]
    assert np.array_equal(idx.load_mnist_idx_raw(str(tmp_path)).x_train[:, 0], s.x_train)


def _replace(name: str, blob: bytes, gz: bool = False) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        for p in folder.glob(name + "*"):
            p.unlink()
        write_file(folder / name, blob, gz)

    return make


_IMG = np.zeros((40, 8, 8), dtype=np.uint8)
_GOOD = idx_bytes(_IMG)

# (case, how to break the folder, the file the error names, its key, a regex of its rule)
MALFORMED: list[tuple[str, Callable[[Path], None], str, str | None, str]] = [
    ("wrong magic", _replace(IMAGES[0], idx_bytes(_IMG, magic=b"\x1f\x00")), IMAGES[0], "magic",
     "magic number must start with two zero bytes, got 0x1f000803"),
    ("wrong dtype", _replace(IMAGES[0], idx_bytes(_IMG.astype(">f4"), code=0x0D)), IMAGES[0],
     "dtype", r"dtype code must be 0x08 \(unsigned byte\), got 0x0d \(float\)"),
    ("unknown dtype", _replace(LABELS[0], idx_bytes(np.zeros(40, np.uint8), code=0x42)),
     LABELS[0], "dtype", r"got 0x42 \(unknown\)"),
    ("wrong dims", _replace(LABELS[1], idx_bytes(np.zeros((12, 1), np.uint8))), LABELS[1], "dims",
     r"must have 1 dimension\(s\), got 2"),
    ("truncated", _replace(IMAGES[1], idx_bytes(np.zeros((12, 8, 8), np.uint8))[:-5]), IMAGES[1],
     "size", "truncated: dims 12x8x8 need 784 bytes; the file has 779"),
    ("truncated gz", _replace(IMAGES[1], idx_bytes(np.zeros((12, 8, 8), np.uint8))[:-5], gz=True),
     IMAGES[1] + ".gz", "size", "truncated: dims 12x8x8 need 784 bytes"),
    ("trailing bytes", _replace(LABELS[0], idx_bytes(np.zeros(40, np.uint8)) + b"\x00"),
     LABELS[0], "size", "trailing bytes: dims 40 need 48 bytes; the file has 49"),
    ("truncated header", _replace(IMAGES[0], _GOOD[:9]), IMAGES[0], "dims",
     r"truncated header: 3 dimension\(s\) need 16 bytes, got 9"),
    ("empty file", _replace(LABELS[0], b""), LABELS[0], None, "IDX header needs 4 bytes"),
    ("count mismatch", _replace(LABELS[0], idx_bytes(np.zeros(39, np.uint8))), LABELS[0], "count",
     f"39 labels for the 40 images of {IMAGES[0]}; the counts must match"),
    ("no images", lambda f: (_replace(IMAGES[1], idx_bytes(np.zeros((0, 8, 8), np.uint8)))(f),
                             _replace(LABELS[1], idx_bytes(np.zeros(0, np.uint8)))(f)),
     IMAGES[1], "count", "holds no images"),
    ("test size differs", _replace(IMAGES[1], idx_bytes(np.zeros((12, 7, 8), np.uint8))),
     IMAGES[1], "dims", "test images are 7x8 but training images 8x8; they must match"),
    ("broken gzip", lambda f: ((f / IMAGES[0]).unlink(),
                               (f / (IMAGES[0] + ".gz")).write_bytes(gzip.compress(_GOOD)[:-30])),
     IMAGES[0] + ".gz", None, "cannot read the gzip file"),
    ("gzip without .gz", _replace(IMAGES[0], gzip.compress(_GOOD)), IMAGES[0], "magic",
     r"got 0x1f8b0800 \(a gzip file: name it .*\.gz\)"),
    ("not gzip", lambda f: (f / IMAGES[0]).rename(f / (IMAGES[0] + ".gz")), IMAGES[0] + ".gz",
     None, r"cannot read the gzip file \(Not a gzipped file"),
    ("missing file", lambda f: (f / LABELS[1]).unlink(), LABELS[1], "data_dir",
     rf"missing {LABELS[1]} \(nor {LABELS[1]}.gz\); expected the MNIST IDX layout: "
     rf"{IMAGES[0]}\[.gz\], {LABELS[0]}\[.gz\], {IMAGES[1]}\[.gz\], {LABELS[1]}\[.gz\]"),
]


@pytest.mark.parametrize(("case", "breaks", "file", "key", "rule"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_every_malformation_is_one_line_naming_the_file_and_rule(
    case: str, breaks: Callable[[Path], None], file: str, key: str | None, rule: str,
    tmp_path: Path,
) -> None:
    write_idx_set(tmp_path)
    breaks(tmp_path)
    with pytest.raises(DataError, match=rule) as err:
        idx.load_mnist_idx_raw(str(tmp_path))
    text = str(err.value)
    assert "\n" not in text
    assert err.value.where == str(tmp_path / file) and text.startswith(str(tmp_path / file))
    assert err.value.key == key
    # and through the loader, as a trial meets it
    with pytest.raises(DataError, match=rule):
        load_dataset(Recipe(data="mnist_idx", data_dir=str(tmp_path)), 8, 1, "cpu")


def test_folder_and_data_dir_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataError, match="key 'data_dir': data 'mnist_idx' needs a data_dir"):
        idx.load_mnist_idx_raw(None)
    with pytest.raises(DataError, match="no such folder; expected the MNIST IDX layout") as err:
        idx.load_mnist_idx_raw(str(tmp_path / "nope"))
    assert err.value.where == str(tmp_path / "nope")
    import nasx.data.fashion_mnist as fm

    monkeypatch.setattr(fm, "DEFAULT_DIR", str(tmp_path / "absent"))
    with pytest.raises(DataError, match="install Debian's dataset-fashion-mnist .* or give "
                                        "--data-dir") as err:
        fm.load_fashion_mnist_raw(None)
    assert err.value.where == str(tmp_path / "absent") and "\n" not in str(err.value)


def test_fashion_mnist_from_a_folder_checks_its_ten_classes(tmp_path: Path) -> None:
    s = write_idx_set(tmp_path, classes=10, gz=True)
    raw = load_fashion_mnist_raw(str(tmp_path))
    assert raw.name == "fashion_mnist" and raw.num_classes == 10 and raw.flip and raw.crop
    assert np.array_equal(raw.x_test[:, 0], s.x_test)
    write_idx_set(tmp_path / "more", classes=12, n_train=48)
    with pytest.raises(DataError, match=r"key 'labels': fashion_mnist labels must be in 0..9, "
                                        "got 11") as err:
        load_fashion_mnist_raw(str(tmp_path / "more"))
    assert err.value.where is not None and err.value.where.endswith("train-labels-idx1-ubyte")


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = idx._decode

    def counting(files: list[Path]) -> idx.IdxArrays:
        calls.append(len(files))
        return real(files)

    monkeypatch.setattr(idx, "_decode", counting)
    return calls


@pytest.mark.parametrize("gz", [False, True])
def test_second_load_reads_the_cache_and_a_changed_file_invalidates_it(
    gz: bool, tmp_path: Path, nasx_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_decodes(monkeypatch)
    s = write_idx_set(tmp_path / "d", gz=gz)
    first = idx.load_idx_arrays(tmp_path / "d")
    entries = list((nasx_cache / "idx").glob("*.npz"))
    assert calls == [4] and len(entries) == 1
    with np.load(entries[0], allow_pickle=False) as z:  # plain arrays, no pickles
        assert sorted(z.files) == ["signature", "x_test", "x_train", "y_test", "y_train"]
    second = idx.load_idx_arrays(tmp_path / "d")
    assert calls == [4]  # read from the cache
    for a, b in ((first.x_train, second.x_train), (first.y_test, second.y_test)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    # another content, same size, forced to another mtime: decoded again, cache overwritten
    new = write_idx_set(tmp_path / "d", gz=gz, seed=9)
    target = next((tmp_path / "d").glob(IMAGES[0] + "*"))
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = idx.load_idx_arrays(tmp_path / "d")
    assert calls == [4, 4] and np.array_equal(third.x_train[:, 0], new.x_train)
    assert not np.array_equal(third.x_train[:, 0], s.x_train)
    assert list((nasx_cache / "idx").glob("*.npz")) == entries  # one entry per folder
    assert np.array_equal(idx.load_idx_arrays(tmp_path / "d").x_train, third.x_train)
    assert calls == [4, 4]
    # another folder with the same files gets its own entry
    write_idx_set(tmp_path / "e", gz=gz)
    idx.load_idx_arrays(tmp_path / "e")
    assert calls == [4, 4, 4] and len(list((nasx_cache / "idx").glob("*.npz"))) == 2


def test_a_damaged_or_unwritable_cache_costs_only_time(
    tmp_path: Path, nasx_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_decodes(monkeypatch)
    s = write_idx_set(tmp_path / "d")
    idx.load_idx_arrays(tmp_path / "d")
    (entry,) = (nasx_cache / "idx").glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:100])  # cut short
    assert np.array_equal(idx.load_idx_arrays(tmp_path / "d").x_test[:, 0], s.x_test)
    assert calls == [4, 4]
    idx.load_idx_arrays(tmp_path / "d")
    assert calls == [4, 4]  # rewritten whole
    # a cache folder that cannot be made (a file is in the way): loads, every time from the files
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("NASX_CACHE", str(blocker))
    for _ in range(2):
        assert np.array_equal(idx.load_idx_arrays(tmp_path / "d").y_train, s.y_train)
    assert calls == [4, 4, 4, 4]
    assert not [p for p in tmp_path.rglob(".*.tmp*")]  # no temporaries left behind


def test_cache_folder_defaults_to_home_cache(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.delenv("NASX_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert idx.cache_dir() == tmp_path / ".cache" / "nasx"
    monkeypatch.setenv("NASX_CACHE", "~/elsewhere")
    assert idx.cache_dir() == tmp_path / "elsewhere"


def test_resized_and_replicated_input(tmp_path: Path) -> None:
    write_idx_set(tmp_path, size=28, n_train=40, n_test=10)
    recipe = Recipe(data="mnist_idx", data_dir=str(tmp_path))
    cache = DataCache()
    half = load_dataset(recipe, 14, 1, "cpu", cache)
    assert tuple(half.x_train.shape[1:]) == (1, 14, 14) and half.resolution == 14
    assert half.x_val.shape[0] == 4 and half.x_test.shape == (10, 1, 14, 14)
    rgb = load_dataset(recipe, 28, 3, "cpu", cache)
    assert tuple(rgb.x_test.shape[1:]) == (3, 28, 28)
    assert torch.equal(rgb.x_test[:, 0], rgb.x_test[:, 2])
    assert cache.misses == 2


REAL = Path(DEFAULT_DIR)


@pytest.mark.skipif(not REAL.is_dir(), reason="Fashion-MNIST not installed "
                    "(apt-get install dataset-fashion-mnist)")
def test_the_real_fashion_mnist() -> None:
    raw = load_fashion_mnist_raw(None)
    assert raw.x_train.shape == (60000, 1, 28, 28) and raw.x_test.shape == (10000, 1, 28, 28)
    assert raw.x_train.dtype == np.uint8 and raw.num_classes == 10
    assert np.bincount(raw.y_train).tolist() == [6000] * 10
    assert np.bincount(raw.y_test).tolist() == [1000] * 10
    again = load_fashion_mnist_raw(None)  # from the cache
    assert np.array_equal(again.x_test, raw.x_test) and np.array_equal(again.y_train, raw.y_train)
    ds = load_dataset(Recipe(data="fashion_mnist"), 14, 1, "cpu")
    assert (ds.x_train.shape[0], ds.x_val.shape[0], ds.x_test.shape[0]) == (54000, 6000, 10000)
    assert tuple(ds.x_train.shape[1:]) == (1, 14, 14)
    assert torch.bincount(ds.y_val).tolist() == [600] * 10
