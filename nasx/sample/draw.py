"""Drawing candidate value sets in batches: one numpy array per value key.

Batches keep the per-candidate cost low (the sampler may need 100k candidates for a narrow flops
window) and let a family prefilter work on whole columns. The draw order is fixed (params in file
order, then per-stage keys stage by stage with their relation applied, then input keys), so a seed
always gives the same candidates.
"""

from __future__ import annotations

import numpy as np

from nasx.sample.bind import Bound
from nasx.types import Scalar


def _relate(matrix: np.ndarray, relation: str | None) -> np.ndarray:
    """Apply a relation to a (size, stages) matrix of per-stage draws (see space.apply_relation)."""
    if relation == "shared":
        return np.repeat(matrix[:, :1], matrix.shape[1], axis=1)
    if relation == "non_decreasing":
        return np.sort(matrix, axis=1)
    if relation == "non_increasing":
        return np.sort(matrix, axis=1)[:, ::-1]
    return matrix


def draw_columns(bound: Bound, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """``size`` candidates as columns ``{value key: array}`` (per-stage keys as ``KEY_i``)."""
    space = bound.space
    stages = space.stages or 0
    cols: dict[str, np.ndarray] = {}
    for key, param in space.params.items():
        column = param.sample_many(rng, size)
        if key in bound.broadcast:
            for i in range(1, stages + 1):
                cols[f"{key}_{i}"] = column
        else:
            cols[key] = column
    for key, params in space.per_stage.items():
        drawn = [p.sample_many(rng, size) for p in params]
        if any(p.kind == "fixed" for p in params):  # as object: a fixed 8 stays an int beside floats
            drawn = [x.astype(object) for x in drawn]
        matrix = np.stack(drawn, axis=1)
        matrix = _relate(matrix, space.relations.get(key))
        for i in range(stages):
            cols[f"{key}_{i + 1}"] = matrix[:, i]
    for key, param in space.input.items():
        cols[key] = param.sample_many(rng, size)
    return cols


def to_rows(cols: dict[str, np.ndarray], index: np.ndarray | None = None
            ) -> list[dict[str, Scalar]]:
    """Columns -> one plain dict of Python scalars per candidate (only ``index`` when given)."""
    keys = list(cols)
    lists = [(cols[k] if index is None else cols[k][index]).tolist() for k in keys]
    return [dict(zip(keys, row, strict=True)) for row in zip(*lists, strict=True)]
