"""The sampled parameters ("slots") of a space, and how drawn slot values become trial values.

A slot is one distribution that a sampler draws: a scalar ``params`` entry, one stage of a
``per_stage`` key (only stage 1 for a ``shared`` relation), an ``input`` entry, or a ``train``
distribution (an hparam). Narrow cuts each slot's range; refine gives each slot an Optuna
distribution. :func:`assemble` rebuilds the value dict exactly as the sampler lays it out
(fixed values and input keys included, per-stage keys as ``KEY_1 .. KEY_S``, relations applied).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from nasx.arch.families import FAMILIES
from nasx.space import Dist, Fixed, Param, SearchSpace, apply_relation
from nasx.types import Scalar

Section = Literal["params", "per_stage", "input", "train"]


@dataclass(frozen=True)
class Slot:
    """One sampled distribution of a space."""

    name: str  # unique: the value key ("w0", "width_2", "resolution") or "h.<key>" for hparams
    section: Section
    key: str  # the key in its section of the space file ("width" for "width_2")
    stage: int | None  # 1-based stage of a per-stage slot
    dist: Dist
    broadcast: bool = False  # a per-stage key under params: one draw copied to KEY_1 .. KEY_S

    @property
    def value_key(self) -> str:
        """The key of this slot in a trial's values (stage 1's copy for a broadcast key)."""
        return f"{self.key}_1" if self.broadcast else self.name

    @property
    def column(self) -> str:
        """Its column in ``RunStore.dataframe()`` (``v.KEY`` or ``h.KEY``)."""
        return f"h.{self.key}" if self.section == "train" else f"v.{self.value_key}"


def broadcast_keys(space: SearchSpace) -> set[str]:
    """Per-stage keys of the family given under ``params`` (the sampler copies them per stage)."""
    family = FAMILIES.get(space.family)
    if family is None or not space.stages:
        return set()
    return {k for k in space.params if k in family.per_stage_keys}


def space_slots(space: SearchSpace) -> list[Slot]:
    """Every sampled distribution of ``space``, in the sampler's order."""
    slots: list[Slot] = []
    copied = broadcast_keys(space)
    for key, p in space.params.items():
        if not isinstance(p, Fixed):
            slots.append(Slot(key, "params", key, None, p, broadcast=key in copied))
    for key, per in space.per_stage.items():
        shared = space.relations.get(key) == "shared"
        for i, p in enumerate(per[:1] if shared else per, start=1):
            if not isinstance(p, Fixed):
                slots.append(Slot(f"{key}_{i}", "per_stage", key, i, p))
    for key, p in space.input.items():
        if not isinstance(p, Fixed):
            slots.append(Slot(key, "input", key, None, p))
    for key, d in space.train_dists.items():
        slots.append(Slot(f"h.{key}", "train", key, None, d))
    return slots


def assemble(space: SearchSpace, drawn: Mapping[str, Scalar]
             ) -> tuple[dict[str, Scalar], dict[str, Scalar]]:
    """(values, hparams) from drawn slot values (keyed by ``Slot.name``) and the fixed values."""

    def pick(name: str, p: Param) -> Scalar:
        """A fixed value, or the drawn value of slot ``name``."""
        return p.value if isinstance(p, Fixed) else drawn[name]

    copied = broadcast_keys(space)
    values: dict[str, Scalar] = {}
    for key, p in space.params.items():
        if key in copied:
            values.update({f"{key}_{i}": pick(key, p) for i in range(1, (space.stages or 0) + 1)})
        else:
            values[key] = pick(key, p)
    for key, per in space.per_stage.items():
        relation = space.relations.get(key)
        if relation == "shared":
            stage_values = [pick(f"{key}_1", per[0])] * len(per)
        else:
            stage_values = [pick(f"{key}_{i}", p) for i, p in enumerate(per, start=1)]
        for i, v in enumerate(apply_relation(stage_values, relation), start=1):
            values[f"{key}_{i}"] = v
    values.update({k: pick(k, p) for k, p in space.input.items()})
    hparams = {k: drawn[f"h.{k}"] for k in space.train_dists}
    return values, hparams


def slot_value(slot: Slot, values: Mapping[str, Any], hparams: Mapping[str, Any]) -> Any:
    """The value a stored trial holds for ``slot`` (None when absent)."""
    if slot.section == "train":
        return hparams.get(slot.key)
    return values.get(slot.value_key)
