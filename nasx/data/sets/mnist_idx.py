"""``mnist_idx``: any folder in the MNIST IDX layout (MNIST, KMNIST, EMNIST digits, ...)."""

from __future__ import annotations

from pathlib import Path

from nasx.data.sets.entry import DataSetEntry, Found, Source, SourceSpec, Wanted
from nasx.errors import DataError


def _describe(wanted: Wanted) -> Found:
    from nasx.data.idx import LAYOUT, find_files, header_counts
    from nasx.data.prepared import fingerprint
    from nasx.data.sets.arrays import file_lines

    if not wanted.data_dir:
        raise DataError(f"data 'mnist_idx' needs a data_dir; expected {LAYOUT}",
                        key="data_dir")
    folder = Path(wanted.data_dir).expanduser()
    files = find_files(folder)
    native, n_train, n_test = header_counts(files)
    return Found(str(folder.resolve()), f"mnist_idx {folder.resolve()}",
                 fingerprint(file_lines(files)), wanted.size or native, (),
                 {"train": n_train, "test": n_test})


def _open(spec: SourceSpec) -> tuple[Source, SourceSpec]:
    from nasx.data.idx import load_idx_raw
    from nasx.data.sets.arrays import open_arrays

    raw = load_idx_raw(spec.source, spec.kind, num_classes=len(spec.classes) or None)
    return open_arrays(spec, {"train": (raw.x_train, raw.y_train),
                              "test": (raw.x_test, raw.y_test)})


# Flipped or shifted glyphs change what they mean. Counted as MNIST-sized for packing (KMNIST,
# EMNIST-digits' test sets differ a little).
ENTRY = DataSetEntry(
    name="mnist_idx", help="any folder in the MNIST IDX layout (--data-dir)",
    describe=_describe, open=_open, scale=255.0, scale_text="8-bit grey divided by 255",
    channels=(1,), images=70000, flip=False, crop=False,
)
