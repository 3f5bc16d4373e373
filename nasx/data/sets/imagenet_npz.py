"""``imagenet_npz``: the downsampled ImageNet (Chrabaszcz et al. 2017) npz batches."""

from __future__ import annotations

from nasx.data.sets.entry import DataSetEntry, Found, Source, SourceSpec, Wanted


def _describe(wanted: Wanted) -> Found:
    from nasx.data.imagesrc import describe_imagenet_npz

    return describe_imagenet_npz(wanted.data_dir, wanted.size)


def _open(spec: SourceSpec) -> tuple[Source, SourceSpec]:
    from nasx.data.imagesrc import NpzImagenetSource

    return NpzImagenetSource(spec), spec


# The published variants differ in size (8, 16, 32, 64 px): counted from the files when read.
ENTRY = DataSetEntry(
    name="imagenet_npz",
    help="downsampled ImageNet npz batches (Chrabaszcz et al. 2017; --data-dir)",
    describe=_describe, open=_open, scale=255.0, scale_text="8-bit RGB divided by 255",
    channels=(3,), images=None,
)
