"""``digits``: scikit-learn's 1,797 8x8 handwritten digits (embedded, no download)."""

from __future__ import annotations

import os

from nasx.data.sets.entry import DataSetEntry, Found, Source, SourceSpec, Wanted

SKLEARN_ENV = ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")


def _describe(wanted: Wanted) -> Found:
    from nasx.data.prepared import fingerprint

    return Found("scikit-learn digits", "digits", fingerprint(["digits 1"]), wanted.size or 8,
                 tuple(str(i) for i in range(10)), {"train": 1437, "test": 360})


def _open(spec: SourceSpec) -> tuple[Source, SourceSpec]:
    import numpy as np

    from nasx.data.digits import load_digits_raw
    from nasx.data.sets.arrays import open_arrays

    # Importing scikit-learn sets KMP_* variables in os.environ; a driver that prepares
    # digits before its trials keeps its environment as it was (its processes' settings).
    saved = {k: os.environ.get(k) for k in SKLEARN_ENV}
    raw = load_digits_raw()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    to_u8 = [np.rint(x * 16).astype(np.uint8) for x in (raw.x_train, raw.x_test)]
    return open_arrays(spec, {"train": (to_u8[0], raw.y_train), "test": (to_u8[1], raw.y_test)})


# Flips and shifted crops change what a digit means (or cut it off at 8x8): no augmentation.
ENTRY = DataSetEntry(
    name="digits", help="scikit-learn's 8x8 handwritten digits (embedded)",
    describe=_describe, open=_open, scale=16.0,
    scale_text="scikit-learn digits: values 0..16 divided by 16",
    channels=(1,), images=1797, flip=False, crop=False,
)
