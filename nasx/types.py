"""Type names shared by every layer: the scalars of spaces, recipes and metrics, and JSON.

``Scalar`` is one value of a space parameter, a sampled value, a recipe key or a metric.
``JSONValue``/``JSONObject`` name data at nasx's edges only: JSON cells and meta of the SQLite
store, the payload sent to a Ray worker, summary.json, provenance.json, ``--format json``/``--json``
output and YAML documents written back. Inside the program typed objects travel instead.
Dependency-free: the lowest layer, beside ``nasx.errors``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

Scalar: TypeAlias = int | float | str | bool | None  # a runtime union
# Containers as Mapping/Sequence: read-only views are covariant, so a ``dict[str, Scalar]`` (a
# recipe, metrics) or a tuple is a JSON value as it stands; json.loads gives dicts and lists.
JSONValue: TypeAlias = "Scalar | Sequence[JSONValue] | Mapping[str, JSONValue]"
JSONObject: TypeAlias = dict[str, "JSONValue"]  # one JSON document (or cell) being read or built
