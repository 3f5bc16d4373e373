"""The prepared store through its CLI: prepare, info, verify, bad input, changed sources."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from image_folders import make_mixed_folder, truncate

from nasx.cli.main import main
from nasx.data import load_dataset
from nasx.data.augment import train_batches
from nasx.data.prepared import HEADER, open_store, verify_store
from nasx.errors import DataError
from nasx.train.recipe import Recipe


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _stores(cache: Path) -> list[Path]:
    root = cache / "prepared"
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name != "stats") \
        if root.is_dir() else []


def test_prepare_info_verify_and_reuse(tmp_path: Path, nasx_cache: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    make_mixed_folder(tmp_path / "f")
    sel = ["--data", "imagefolder", "--data-dir", str(tmp_path / "f"), "--size", "16"]
    code, out, _ = _cli(capsys, "data", "prepare", *sel)
    assert code == 0 and "prepared 48 images (train 36, test 12) at 16 px" in out
    [folder] = _stores(nasx_cache)
    header = json.loads((folder / HEADER).read_text())
    assert header["counts"] == {"train": 36, "test": 12} and header["classes"] == ["ant", "bee",
                                                                                  "cow"]
    x = np.load(folder / "train_images.npy", mmap_mode="r")
    assert x.shape == (36, 3, 16, 16) and x.dtype == np.uint8
    code, out, _ = _cli(capsys, "data", "prepare", *sel)
    assert code == 0 and out.startswith("already prepared")
    code, out, _ = _cli(capsys, "data", "info", *sel)
    assert code == 0
    for want in ("train 36, test 12", "3 (ant, bee, cow)", "16 x 16 px", "raw", "mean", "std"):
        assert want in out
    code, out, _ = _cli(capsys, "data", "verify", str(folder))
    assert code == 0 and out.startswith("ok: ")
    # training finds it: no second store, the same images
    ds = load_dataset(Recipe(data="imagefolder", data_dir=str(tmp_path / "f")), 16, 3, "cpu")
    assert _stores(nasx_cache) == [folder] and ds.x_test.shape == (12, 3, 16, 16)
    want = (torch.from_numpy(np.array(np.load(folder / "test_images.npy")[:2])).float() / 255
            - torch.tensor(ds.mean).view(1, 3, 1, 1)) / torch.tensor(ds.std).view(1, 3, 1, 1)
    assert torch.allclose(ds.x_test[0:2], want, atol=1e-6)


def test_a_truncated_jpeg_is_one_line_and_leaves_nothing(
        tmp_path: Path, nasx_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = make_mixed_folder(tmp_path / "f")
    bad = next(p for p in files if p.suffix == ".jpg" and "train" in p.parts)
    truncate(bad, 0.4)
    sel = ["--data", "imagefolder", "--data-dir", str(tmp_path / "f"), "--size", "16"]
    code, out, err = _cli(capsys, "data", "prepare", *sel)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(bad) in err and "cannot read image" in err
    assert _stores(nasx_cache) == [] and not list((nasx_cache / "prepared").glob("*.partial"))
    code, out, _ = _cli(capsys, "data", "prepare", *sel, "--skip-bad")
    assert code == 0 and "prepared 47 images (train 35, test 12)" in out
    assert "skipped 1 unreadable image(s)" in out
    [folder] = _stores(nasx_cache)
    assert open_store(folder).header.skipped == 1 and verify_store(folder).counts["train"] == 35


def test_a_store_cut_short_or_flipped_is_one_line(
        tmp_path: Path, nasx_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = Recipe(data="synthetic", synthetic_train=300, synthetic_test=30)
    load_dataset(recipe, 8, 3, "cpu")
    capsys.readouterr()
    [folder] = _stores(nasx_cache)
    images = folder / "train_images.npy"
    blob = bytearray(images.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one flipped byte: sizes agree, the checksum does not
    images.write_bytes(bytes(blob))
    code, _, err = _cli(capsys, "data", "verify", str(folder))
    assert code == 2 and err.count("\n") == 1 and "checksum mismatch" in err
    images.write_bytes(bytes(blob[: len(blob) - 100]))  # cut short
    for argv in (("data", "info", str(folder)), ("data", "verify", str(folder))):
        code, _, err = _cli(capsys, *argv)
        assert code == 2 and err.count("\n") == 1 and "cut short" in err and str(images) in err
    with pytest.raises(DataError, match="cut short"):
        load_dataset(recipe, 8, 3, "cpu")  # never a silent misread


def test_a_changed_source_is_prepared_again(tmp_path: Path, nasx_cache: Path) -> None:
    files = make_mixed_folder(tmp_path / "f", train=4, val=2)
    recipe = Recipe(data="imagefolder", data_dir=str(tmp_path / "f"))
    first = load_dataset(recipe, 8, 3, "cpu")
    [folder] = _stores(nasx_cache)
    before = open_store(folder).header
    files[0].unlink()
    again = load_dataset(recipe, 8, 3, "cpu")
    after = open_store(folder).header
    assert after.fingerprint != before.fingerprint and after.counts["train"] == 11
    assert first.x_train.shape[0] + first.x_val.shape[0] == 12
    assert again.x_train.shape[0] + again.x_val.shape[0] == 11 and _stores(nasx_cache) == [folder]


def test_same_seed_same_batches(nasx_cache: Path) -> None:
    ds = load_dataset(Recipe(data="synthetic", synthetic_train=200, synthetic_test=20), 8, 3,
                      "cpu")

    def epoch(seed: int) -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        return [x for x, _ in train_batches(ds.x_train, ds.y_train, 32, gen)]

    a, b, c = epoch(1), epoch(1), epoch(2)
    assert len(a) == 5 and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])
    # a batch is the rows its indices name, gathered from the store
    gen = torch.Generator().manual_seed(1)
    perm = torch.randperm(ds.x_train.shape[0], generator=gen)[:32]
    assert torch.equal(a[0], ds.x_train.tensor()[perm])


def test_out_folder_and_data_dir_naming_it(tmp_path: Path, nasx_cache: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "prepared_digits"
    code, text, _ = _cli(capsys, "data", "prepare", "--data", "digits", "--out", str(out))
    assert code == 0 and (out / HEADER).is_file() and _stores(nasx_cache) == []
    ds = load_dataset(Recipe(data="digits", data_dir=str(out)), 8, 1, "cpu")
    assert ds.x_test.shape == (360, 1, 8, 8) and _stores(nasx_cache) == []
    with pytest.raises(DataError, match="the folder holds a prepared 'digits' data set, "
                                        "got 'cifar10'"):
        load_dataset(Recipe(data="cifar10", data_dir=str(out)), 32, 3, "cpu")


SPACE = """name: folder32
family: anynet
n: 4
seed: 0
input: {resolution: 32, in_channels: 3, num_classes: 3}
stages: 2
params: {stem: cifar, stem_width: 8, se_ratio: 0.0}
per_stage:
  depth: {int: [1, 2]}
  width: {int: [8, 16], q: 8}
  bot_mul: 1
  group_w: {pow2: [1, 8]}
constraints: {flops: [null, 5M]}
train: {data: imagefolder, epochs: 1, batch_size: 8, lr: 0.05}
"""


def test_prepared_folder_trains_and_is_not_prepared_again(
        tmp_path: Path, nasx_cache: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import math

    from nasx.store import RunStore

    make_mixed_folder(tmp_path / "f")
    (tmp_path / "s.yaml").write_text(SPACE)
    monkeypatch.chdir(tmp_path)
    sel = ["--data-dir", str(tmp_path / "f")]
    assert main(["data", "prepare", "--data", "imagefolder", *sel, "--size", "32"]) == 0
    [folder] = _stores(nasx_cache)
    inode = (folder / HEADER).stat().st_ino
    for out in ("a", "b"):
        code = main(["run", "s.yaml", "--n", "4", "--epochs", "1", *sel, "--executor", "inline",
                     "--out", f"runs/{out}"])
        assert code == 0
        trials = RunStore.open(tmp_path / "runs" / out).trials()
        assert len(trials) == 4 and all(t.status == "done" for t in trials)
        assert all(t.error is not None and math.isfinite(t.error) for t in trials)
    assert _stores(nasx_cache) == [folder] and (folder / HEADER).stat().st_ino == inode


def test_background_gather_gives_the_same_batches(nasx_cache: Path) -> None:
    """The CUDA streaming path's background thread (run here on the CPU) changes nothing."""
    from nasx.data.stored import _prefetched

    ds = load_dataset(Recipe(data="synthetic", synthetic_train=300, synthetic_test=20), 8, 3,
                      "cpu")
    x = ds.x_train
    parts = [torch.randperm(len(x), generator=torch.Generator().manual_seed(i))[:16]
             for i in range(7)]
    ahead = list(_prefetched(x, [x.index[p.numpy()] for p in parts]))
    assert len(ahead) == 7
    assert all(torch.equal(a, x[p]) for a, p in zip(ahead, parts, strict=True))
    stopped = _prefetched(x, [x.index[p.numpy()] for p in parts])
    next(stopped)
    stopped.close()  # a consumer that stops early ends the thread


def test_a_full_disk_leaves_nothing_that_looks_complete(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    from nasx.data.lookup import ensure_prepared
    from nasx.data.sources import describe

    monkeypatch.setenv("NASX_PREPARE_CHUNK", "64")
    spec = describe("synthetic", None, 8, 3, (600, 60, 4))
    ref, _ = ensure_prepared(spec, tmp_path / "ref")
    real, calls = os.pwrite, [0]

    def full(fd: int, data: bytes, offset: int) -> int:
        calls[0] += 1
        if calls[0] > 7:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(DataError, match="No space left on device.*continues where"):
        ensure_prepared(spec, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial" / HEADER).exists()
    monkeypatch.setattr(os, "pwrite", real)
    again, made = ensure_prepared(spec, tmp_path / "out")
    assert made and again.header.checksum == ref.header.checksum


def test_a_run_on_a_store_cut_short_is_one_line_and_exit_2(
        tmp_path: Path, nasx_cache: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_mixed_folder(tmp_path / "f", train=4, val=2)
    (tmp_path / "s.yaml").write_text(SPACE)
    monkeypatch.chdir(tmp_path)
    sel = ["--data-dir", str(tmp_path / "f")]
    assert main(["data", "prepare", "--data", "imagefolder", *sel, "--size", "32"]) == 0
    [folder] = _stores(nasx_cache)
    images = folder / "train_images.npy"
    images.write_bytes(images.read_bytes()[:-500])
    capsys.readouterr()
    code, _, err = _cli(capsys, "run", "s.yaml", "--n", "2", "--epochs", "1", *sel,
                        "--executor", "inline")
    assert code == 2 and "cut short" in err and str(images) in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


def test_jpeg_format_prepares_verifies_and_trains_close_to_raw(
        tmp_path: Path, nasx_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_mixed_folder(tmp_path / "f", train=6, val=2)
    sel = ["--data", "imagefolder", "--data-dir", str(tmp_path / "f"), "--size", "16"]
    assert _cli(capsys, "data", "prepare", *sel)[0] == 0
    code, out, _ = _cli(capsys, "data", "prepare", *sel, "--format", "jpeg")
    assert code == 0 and "prepared 24 images" in out
    [jpeg] = [p for p in _stores(nasx_cache) if p.name.endswith("-jpeg")]
    code, out, _ = _cli(capsys, "data", "info", str(jpeg))
    assert code == 0 and "jpeg (quality 90" in out
    assert verify_store(jpeg).format == "jpeg"
    raw = load_dataset(Recipe(data="imagefolder", data_dir=str(tmp_path / "f")), 16, 3, "cpu")
    jp = load_dataset(Recipe(data="imagefolder", data_dir=str(jpeg)), 16, 3, "cpu")
    assert jp.x_train.shape == raw.x_train.shape and torch.equal(jp.y_test, raw.y_test)

    def pixels(ds: object) -> torch.Tensor:  # back to [0, 1]
        mean, std = torch.tensor(ds.mean).view(1, 3, 1, 1), torch.tensor(ds.std).view(1, 3, 1, 1)
        return ds.x_test.tensor() * std + mean

    assert float((pixels(jp) - pixels(raw)).abs().mean()) < 0.05  # JPEG at quality 90
    blob = bytearray((jpeg / "train_jpeg.npy").read_bytes())
    blob[-10] ^= 0xFF
    (jpeg / "train_jpeg.npy").write_bytes(bytes(blob))
    code, _, err = _cli(capsys, "data", "verify", str(jpeg))
    assert code == 2 and "checksum mismatch" in err and err.count("\n") == 1
