"""Image sources of the prepared store: image folders (Pillow) and downsampled-ImageNet npz batches.

An image folder is ``train/<class>/*`` and ``val/<class>/*`` (``val/`` is the test part, ImageNet's
naming). Every image, whatever its file type (JPEG, PNG, WebP, ...) and mode (greyscale, palette,
RGBA, CMYK, 16 bit), is converted to RGB (or L), its shorter side resized to S (bilinear, Pillow's
antialiased filter; JPEGs first decoded at a reduced DCT scale when much larger) and centre-cropped
to S x S. The downsampled ImageNet of Chrabaszcz et al. (2017) is read from its published npz
batches (``train_data_batch_*.npz``, ``val_data.npz``: ``data`` [N, 3*S*S], labels 1..1000).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from nasx.data.sets.entry import Found
from nasx.errors import DataError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
EXPECTED = "expected data_dir/train/<class>/*.png|jpg and data_dir/val/<class>/*"


def _classes(split: Path) -> list[str]:
    return sorted(p.name for p in split.iterdir() if p.is_dir() and not p.name.startswith("."))


def _list(root: Path, classes: list[str]) -> dict[str, list[tuple[str, int]]]:
    """{split: [(path, label)]}: the image files under each class folder, sorted."""
    out: dict[str, list[tuple[str, int]]] = {}
    for split, name in (("train", "train"), ("test", "val")):
        items: list[tuple[str, int]] = []
        for label, cls in enumerate(classes):
            folder = root / name / cls
            if not folder.is_dir():
                continue
            # every image under the class folder, nested ones too (as torchvision's ImageFolder)
            names = sorted(str(e.relative_to(folder)) for e in folder.rglob("*")
                           if e.suffix.lower() in EXTENSIONS and e.is_file()
                           and not any(part.startswith(".") for part in
                                       e.relative_to(folder).parts))
            items.extend((str(folder / n), label) for n in names)
        if not items:
            raise DataError(f"no images ({', '.join(sorted(EXTENSIONS))}) in any class folder",
                            where=str(root / name))
        out[split] = items
    return out


def _check_root(data_dir: str | None) -> tuple[Path, list[str]]:
    if not data_dir:
        raise DataError(f"data 'imagefolder' needs a data_dir; {EXPECTED}", key="data_dir")
    root = Path(data_dir).expanduser().resolve()
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise DataError(f"missing folder {split}/; {EXPECTED}", where=str(root / split),
                            key="data_dir")
    classes = _classes(root / "train")
    if len(classes) < 2:
        raise DataError(f"needs at least 2 class folders; found {len(classes)}",
                        where=str(root / "train"))
    extra = sorted(set(_classes(root / "val")) - set(classes))
    if extra:
        raise DataError(f"class folder '{extra[0]}' is not in train/",
                        where=str(root / "val" / extra[0]))
    return root, classes


def describe_imagefolder(data_dir: str | None, size: int | None, channels: int) -> Found:
    """What describes an image folder: its listing, sizes and mtimes fingerprint it."""
    from nasx.data.prepared import fingerprint

    root, classes = _check_root(data_dir)
    if size is None:
        raise DataError("an image folder needs a size (--size S)", key="size")
    if channels not in (1, 3):
        raise DataError(rule="in_channels must be 1 or 3 for image folders", value=channels,
                        where=str(root), key="in_channels")
    items = _list(root, classes)
    lines = []
    for split, entries in items.items():
        for path, label in entries:
            st = Path(path).stat()
            lines.append(f"{split} {label} {Path(path).relative_to(root)} {st.st_size} "
                         f"{st.st_mtime_ns}")
    counts = {k: len(v) for k, v in items.items()}
    return Found(str(root), f"imagefolder {root}", fingerprint(lines), size, tuple(classes),
                 counts, channels=channels)


def decode_image(path: str, size: int, mode: str) -> np.ndarray:
    """One image file as uint8 [C, size, size]: shorter side to ``size``, centre crop."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # palette transparency, EXIF oddities: not the user's fault
        with Image.open(path) as im:
            im.draft(mode, (size, size))  # JPEG: decode at the smallest DCT scale still >= size
            im = im.convert(mode)
            w, h = im.size
            f = size / min(w, h)
            nw, nh = max(size, round(w * f)), max(size, round(h * f))
            if (nw, nh) != (w, h):
                im = im.resize((nw, nh), Image.Resampling.BILINEAR)
            left, top = (nw - size) // 2, (nh - size) // 2
            im = im.crop((left, top, left + size, top + size))
            arr = np.asarray(im, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def resize_square(im: np.ndarray, size: int) -> np.ndarray:
    """A uint8 [C, H, W] array resized (shorter side) and centre-cropped to [C, size, size]."""
    from PIL import Image

    c = im.shape[0]
    pil = Image.fromarray(im[0] if c == 1 else im.transpose(1, 2, 0))
    w, h = pil.size
    f = size / min(w, h)
    nw, nh = max(size, round(w * f)), max(size, round(h * f))
    pil = pil.resize((nw, nh), Image.Resampling.BILINEAR)
    left, top = (nw - size) // 2, (nh - size) // 2
    arr = np.asarray(pil.crop((left, top, left + size, top + size)), dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


@dataclass
class ImageFolderSource:
    """Decodes an image folder's files (costly: run in a process pool)."""

    spec: Any  # SourceSpec
    items: dict[str, list[tuple[str, int]]]
    parallel: bool = True

    @classmethod
    def scan(cls, spec: Any) -> ImageFolderSource:  # noqa: ANN401
        """List the folder again (the spec holds no file list)."""
        root = Path(spec.source)
        items = _list(root, list(spec.classes))
        return cls(replace(spec, counts={k: len(v) for k, v in items.items()}), items)

    def read(self, split: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray,
                                                               list[tuple[int, str, str]]]:
        """Decode images ``[start, stop)``; an unreadable one is zeros and listed as bad."""
        s, c = self.spec.size, self.spec.channels
        mode = "L" if c == 1 else "RGB"
        entries = self.items[split][start:stop]
        out = np.zeros((len(entries), c, s, s), dtype=np.uint8)
        bad: list[tuple[int, str, str]] = []
        for i, (path, _) in enumerate(entries):
            try:
                out[i] = decode_image(path, s, mode)
            except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for bad files
                reason = " ".join(str(exc).split()) or type(exc).__name__
                bad.append((start + i, path, reason))
        labels = np.array([label for _, label in entries], dtype=np.int32)
        return out, labels, bad


def _npz_files(data_dir: str | None) -> tuple[Path, list[Path], Path]:
    if not data_dir:
        raise DataError("data 'imagenet_npz' needs a data_dir holding train_data_batch_*.npz "
                        "and val_data.npz", key="data_dir")
    root = Path(data_dir).expanduser().resolve()
    train = sorted(root.rglob("train_data_batch_*.npz"),
                   key=lambda p: int(p.stem.rsplit("_", 1)[1]) if p.stem[-1].isdigit() else 0)
    val = sorted(root.rglob("val_data.npz"))
    if not train or not val:
        raise DataError("expected train_data_batch_1.npz ... and val_data.npz (the downsampled "
                        "ImageNet of Chrabaszcz et al. 2017)", where=str(root), key="data_dir")
    return root, train, val[0]


def describe_imagenet_npz(data_dir: str | None, size: int | None) -> Found:
    """What describes downsampled-ImageNet npz batches (labels read, pixels not)."""
    from nasx.data.prepared import fingerprint

    root, train, val = _npz_files(data_dir)
    lines, counts, native = [], {"train": 0, "test": 0}, 0
    for split, files in (("train", train), ("test", [val])):
        for p in files:
            st = p.stat()
            lines.append(f"{p.relative_to(root)} {st.st_size} {st.st_mtime_ns}")
            with np.load(p, allow_pickle=False) as z:
                counts[split] += int(np.asarray(z["labels"]).shape[0])
                native = native or int(round((z["data"].shape[1] / 3) ** 0.5))
    return Found(str(root), f"imagenet_npz {root}", fingerprint(lines), size or native,
                 tuple(str(i) for i in range(1000)), counts, params={"native": native})


@dataclass
class NpzImagenetSource:
    """Reads npz batches in order, one file in memory at a time."""

    spec: Any
    parallel: bool = False
    _loaded: dict[str, Any] = field(default_factory=dict)

    def _files(self, split: str) -> list[tuple[Path, int, int]]:
        if split not in self._loaded:
            _, train, val = _npz_files(self.spec.source)
            spans, at = [], 0
            for p in (train if split == "train" else [val]):
                with np.load(p, allow_pickle=False) as z:
                    n = int(np.asarray(z["labels"]).shape[0])
                spans.append((p, at, at + n))
                at += n
            self._loaded[split] = spans
        return self._loaded[split]  # type: ignore[no-any-return]

    def _arrays(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        if self._loaded.get("path") != path:
            with np.load(path, allow_pickle=False) as z:
                data, labels = np.asarray(z["data"]), np.asarray(z["labels"])
            native = self.spec.params["native"]
            self._loaded.update(path=path, x=data.reshape(-1, 3, native, native),
                                y=labels.astype(np.int32) - 1)
        return self._loaded["x"], self._loaded["y"]

    def read(self, split: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray,
                                                               list[tuple[int, str, str]]]:
        """Images ``[start, stop)``, labels 0..999 (the files count from 1)."""
        xs, ys = [], []
        for path, lo, hi in self._files(split):
            if hi <= start or lo >= stop:
                continue
            x, y = self._arrays(path)
            a, b = max(start, lo) - lo, min(stop, hi) - lo
            xs.append(x[a:b])
            ys.append(y[a:b])
        x_all, y_all = np.concatenate(xs), np.concatenate(ys)
        if x_all.shape[-1] != self.spec.size:
            x_all = np.stack([resize_square(im, self.spec.size) for im in x_all])
        return np.ascontiguousarray(x_all), y_all, []
