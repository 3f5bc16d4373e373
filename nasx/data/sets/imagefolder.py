"""``imagefolder``: ``train/`` and ``val/`` folders of class subfolders (any image files)."""

from __future__ import annotations

from nasx.data.sets.entry import DataSetEntry, Found, Source, SourceSpec, Wanted


def _describe(wanted: Wanted) -> Found:
    from nasx.data.imagesrc import describe_imagefolder

    return describe_imagefolder(wanted.data_dir, wanted.size, wanted.channels)


def _open(spec: SourceSpec) -> tuple[Source, SourceSpec]:
    from nasx.data.imagesrc import ImageFolderSource

    src = ImageFolderSource.scan(spec)
    return src, src.spec


# Stored at the training resolution and the space's channels; its size is known once listed.
ENTRY = DataSetEntry(
    name="imagefolder", help="train/ and val/ folders of class subfolders (--data-dir)",
    describe=_describe, open=_open, scale=255.0,
    scale_text="Pillow: converted to RGB (3 channels) or L (1 channel), shorter side "
               "resized to the stored size (bilinear) and the centre cropped square when "
               "prepared, then 8-bit values divided by 255",
    channels=(3, 1), images=None, sized=True,
)
