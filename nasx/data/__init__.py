"""Data sets read from their prepared stores as lazy train/validation/test views (torch lazily).

``load_dataset(recipe, resolution, in_channels, device, cache=None) -> Dataset`` (the store is
prepared on first use: ``nasx.data.prepare``); ``DataCache`` keeps loaded data sets alive in a
worker between trials.
"""

from nasx.data.base import DataCache, Dataset, RawData, stratified_split
from nasx.data.loader import load_dataset

__all__ = ["DataCache", "Dataset", "RawData", "load_dataset", "stratified_split"]
