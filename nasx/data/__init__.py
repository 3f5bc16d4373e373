"""Data sets read from their prepared stores as lazy train/validation/test views (torch lazily).

``load_dataset(recipe, resolution, in_channels, device, cache=None) -> Dataset`` (the store is
prepared on first use: ``nasx.data.prepare``); ``DataCache`` keeps loaded data sets alive in a
worker between trials. The names load on first use: the recipe's check of ``data`` reads only
the registry (:mod:`nasx.data.sets`), so sampling never loads the data machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nasx.data.base import DataCache, Dataset, RawData, stratified_split
    from nasx.data.loader import load_dataset

_LAZY = {"DataCache": "nasx.data.base", "Dataset": "nasx.data.base", "RawData": "nasx.data.base",
         "stratified_split": "nasx.data.base", "load_dataset": "nasx.data.loader"}

__all__ = ["DataCache", "Dataset", "RawData", "load_dataset", "stratified_split"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nasx.data' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
