"""``cifar10``: CIFAR-10 from a local folder (python or binary layout), 50,000 + 10,000 images."""

from __future__ import annotations

from pathlib import Path

from nasx.data.sets.entry import DataSetEntry, Found, Source, SourceSpec, Wanted
from nasx.errors import DataError

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")


def _describe(wanted: Wanted) -> Found:
    from nasx.data.cifar import BIN_FILES, EXPECTED, PY_FILES, find_layout
    from nasx.data.prepared import fingerprint
    from nasx.data.sets.arrays import file_lines

    if not wanted.data_dir:
        raise DataError(f"data 'cifar10' needs a data_dir; {EXPECTED}", key="data_dir")
    root = Path(wanted.data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"no such folder; {EXPECTED}", where=str(root), key="data_dir")
    layout, folder = find_layout(root)  # the reader's own layout rule
    names = BIN_FILES if layout == "bin" else PY_FILES
    return Found(str(root.resolve()), f"cifar10 {root.resolve()}",
                 fingerprint(file_lines([folder / n for n in names])), wanted.size or 32,
                 CLASSES, {"train": -1, "test": -1})


def _open(spec: SourceSpec) -> tuple[Source, SourceSpec]:
    from nasx.data.cifar import load_cifar10_raw
    from nasx.data.sets.arrays import open_arrays

    raw = load_cifar10_raw(spec.source)
    return open_arrays(spec, {"train": (raw.x_train, raw.y_train),
                              "test": (raw.x_test, raw.y_test)})


ENTRY = DataSetEntry(
    name="cifar10", help="CIFAR-10 from --data-dir (python or binary layout)",
    describe=_describe, open=_open, scale=255.0, scale_text="8-bit RGB divided by 255",
    channels=(3,), images=60000,
)
