"""``fashion_mnist``: Fashion-MNIST, 60,000 + 10,000 28x28 grey images (IDX files)."""

from __future__ import annotations

from pathlib import Path

from nasx.data.sets.entry import DataSetEntry, Found, Source, SourceSpec, Wanted
from nasx.errors import DataError


def _describe(wanted: Wanted) -> Found:
    from nasx.data.fashion_mnist import CLASSES, DEFAULT_DIR
    from nasx.data.idx import find_files, header_counts
    from nasx.data.prepared import fingerprint
    from nasx.data.sets.arrays import file_lines

    folder = Path(wanted.data_dir or DEFAULT_DIR).expanduser()
    if not wanted.data_dir and not folder.is_dir():
        raise DataError("no Fashion-MNIST here; install Debian's dataset-fashion-mnist "
                        "(apt-get install dataset-fashion-mnist) or give --data-dir",
                        where=str(folder), key="data_dir")
    files = find_files(folder)
    native, n_train, n_test = header_counts(files)
    return Found(str(folder.resolve()), f"fashion_mnist {folder.resolve()}",
                 fingerprint(file_lines(files)), wanted.size or native, CLASSES,
                 {"train": n_train, "test": n_test})


def _open(spec: SourceSpec) -> tuple[Source, SourceSpec]:
    from nasx.data.idx import load_idx_raw
    from nasx.data.sets.arrays import open_arrays

    raw = load_idx_raw(spec.source, spec.kind, num_classes=len(spec.classes))
    return open_arrays(spec, {"train": (raw.x_train, raw.y_train),
                              "test": (raw.x_test, raw.y_test)})


# A mirrored garment is the same garment, and a shifted crop keeps it recognisable.
ENTRY = DataSetEntry(
    name="fashion_mnist",
    help="Fashion-MNIST (Debian's dataset-fashion-mnist or --data-dir)",
    describe=_describe, open=_open, scale=255.0, scale_text="8-bit grey divided by 255",
    channels=(1,), images=70000,
)
