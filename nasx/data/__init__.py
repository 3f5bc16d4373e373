"""Data sets as whole in-memory train/validation/test tensors on the device (torch lazily).

``load_dataset(recipe, resolution, in_channels, device, cache=None) -> Dataset``; ``DataCache``
keeps loaded data sets alive in a worker between trials.
"""

from nasx.data.base import DataCache, Dataset, RawData, stratified_split
from nasx.data.loader import load_dataset

__all__ = ["DataCache", "Dataset", "RawData", "load_dataset", "stratified_split"]
