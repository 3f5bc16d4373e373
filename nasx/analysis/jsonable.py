"""The one conversion of analysis results to JSON (summary.json is the edge where dicts appear).

Results are frozen dataclasses; :func:`to_json` walks their fields in declaration order, so a
class's field order is its key order in summary.json. Field metadata adjusts a key:
``json_name("p2.5")`` (a key that is no identifier), ``OMIT_NONE`` (the key is left out while the
value is None), ``FLATTEN`` (the value's keys are written into the parent; a key written again
keeps its first place and takes the later value) and ``SKIP`` (not written). A dataclass with
its own ``to_dict()`` (EDF, Bins: derived values such as the bands) is written by it.
numpy values become Python values and non-finite floats ``null`` (strict JSON).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from nasx.types import JSONValue

OMIT_NONE = {"omit_none": True}
FLATTEN = {"flatten": True}
SKIP = {"skip": True}


def json_name(name: str) -> dict[str, str]:
    """Field metadata: write the field under ``name``."""
    return {"json": name}


def _fields(obj: object) -> dict[str, JSONValue]:
    out: dict[str, JSONValue] = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        meta = f.metadata
        value = getattr(obj, f.name)
        if meta.get("skip") or (value is None and meta.get("omit_none")):
            continue
        if meta.get("flatten"):
            if value is not None:
                out.update(to_json(value))  # type: ignore[arg-type]
            continue
        out[meta.get("json", f.name)] = to_json(value)
    return out


def to_json(obj: object) -> JSONValue:
    """``obj`` (results, containers, numpy values, frames as records) as strict-JSON values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        to_dict = getattr(obj, "to_dict", None)
        return to_json(to_dict()) if to_dict is not None else _fields(obj)
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return to_json(obj.to_dict(orient="records"))
    if isinstance(obj, np.ndarray):
        return to_json(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj  # type: ignore[return-value]
