"""What the run store holds, as typed objects: new trials and trial records (their status and
origin are :mod:`nasx.status`'s, re-exported here).

The one conversion between the trials table and these objects lives here (:func:`encode_new`,
:func:`decode_row`): everything above the store reads attributes, never JSON cells.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeGuard, cast

from nasx.arch.spec import ArchSpec
from nasx.errors import NasxError, StoreError, printable
from nasx.status import Origin, TrialStatus
from nasx.train.job import EpochRecord, Metrics
from nasx.train.recipe import Recipe
from nasx.types import JSONObject, JSONValue, Scalar

STATUSES = tuple(s.value for s in TrialStatus)
ORIGINS = tuple(o.value for o in Origin)


@dataclass(frozen=True)
class NewTrial:
    """A sampled (or suggested) architecture to add to a run."""

    fingerprint: str
    values: dict[str, Scalar]  # sampled architecture values (what decode() received)
    spec: ArchSpec
    flops: int
    params: int
    acts: int
    seed: int
    hparams: dict[str, Scalar] = field(default_factory=dict)  # sampled values of the train: block
    origin: Origin = Origin.SAMPLED
    repeat_of: int | None = None  # a fidelity trial: the id of the trial it retrains
    repeat_epochs: int | None = None  # ... for this many epochs (None: the population's recipe)


@dataclass(frozen=True)
class TrialRecord:
    """One row of the trials table, decoded.

    ``recipe`` is the recipe the trial was trained with (None before its first start, or when
    the tool that started it recorded none), decoded from ``stored_recipe`` on first use (a
    report of 500 trials never pays for it); ``stored_recipe`` is the cell as written (older
    nasx wrote fewer keys): what the population rule of :mod:`nasx.train.population` compares.
    """

    id: int
    origin: Origin
    fingerprint: str
    values: dict[str, Scalar]
    hparams: dict[str, Scalar]
    spec: ArchSpec
    flops: int
    params: int
    acts: int
    seed: int
    status: TrialStatus
    attempts: int
    error: float | None  # validation top-1 error in percent (final epoch): what selection uses
    metrics: Metrics | None
    curves: list[EpochRecord] | None
    device: str | None
    host: str | None
    message: str | None
    weights: str | None  # path relative to the run folder
    created_at: float
    started_at: float | None
    finished_at: float | None
    train_seconds: float | None
    stored_recipe: dict[str, Scalar] | None = None
    repeat_of: int | None = None  # a fidelity trial: the id of the trial it retrains
    repeat_epochs: int | None = None  # ... for this many epochs (None: the population's recipe)
    where: str = field(default="", compare=False, repr=False)  # the database, for errors

    @cached_property
    def recipe(self) -> Recipe | None:
        """The stored recipe as a Recipe; a StoreError naming the cell when it is not one."""
        value = self.stored_recipe
        if not value:  # never started, or started by a tool that recorded no recipe
            return None
        try:
            return Recipe.from_dict(value)
        except NasxError as exc:
            raise StoreError(f"trial {self.id}: column 'recipe' is not a valid recipe "
                             f"({printable(exc, 120)})", where=self.where) from None

    @property
    def val_error(self) -> float | None:
        """Validation top-1 error in percent (the ``error`` column): what every selection uses."""
        return self.error

    @property
    def test_error(self) -> float | None:
        """Test top-1 error in percent from the metrics (None when not measured)."""
        value = (self.metrics or {}).get("test_error")
        return float(value) if is_number(value) else None

    @property
    def stopped_early(self) -> bool:
        """A pruner stopped the trial: its error is not a full-budget error."""
        return bool((self.metrics or {}).get("stopped_early"))


def dumps(obj: Any) -> str:
    """Compact, key-sorted JSON: the text form of every JSON cell."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def is_number(value: object) -> TypeGuard[int | float]:
    """An int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def encode_new(t: NewTrial, now: float) -> tuple[Any, ...]:
    """The INSERT parameters of a new trial (see ``RunStore.add_trials``)."""
    return (str(t.origin), t.fingerprint, dumps(t.values), dumps(t.hparams), dumps(t.spec.to_dict()),
            int(t.flops), int(t.params), int(t.acts), int(t.seed), now, t.repeat_of,
            t.repeat_epochs)


def encode_recipe(recipe: Recipe | None) -> str:
    """The recipe cell of a started trial (``{}``: the starting tool recorded no recipe)."""
    return dumps({} if recipe is None else recipe.to_dict())


def _kind(value: object) -> str:
    return "NULL" if value is None else f"a {type(value).__name__} value"


# (column, JSON type, NULL allowed)
_JSON_COLUMNS = (("arch_values", dict, False), ("hparams", dict, False), ("spec", dict, False),
                 ("recipe", dict, True), ("metrics", dict, True), ("curves", list, True))


class _Row:
    """One raw row being decoded; :meth:`bad` names the trial and the column of a corrupt cell."""

    def __init__(self, row: sqlite3.Row, root: Path) -> None:
        self.d = dict(zip(row.keys(), tuple(row), strict=True))
        self.where = str(root / "run.db")

    def bad(self, col: str, why: str) -> StoreError:
        return StoreError(f"trial {printable(self.d.get('id'), 20)}: column '{col}' {why}",
                          where=self.where)

    def check_scalars(self) -> None:
        d = self.d
        for col in ("id", "flops", "params", "acts", "seed", "attempts"):
            if type(d[col]) is not int:
                raise self.bad(col, f"holds {_kind(d[col])}, expected an integer")
        for col in ("repeat_of", "repeat_epochs"):  # absent from a run of schema 1 (read-only)
            v = d.setdefault(col, None)
            if v is not None and type(v) is not int:
                raise self.bad(col, f"holds {_kind(v)}, expected an integer")
        for col in ("created_at", "error", "started_at", "finished_at", "train_seconds"):
            v = d[col]
            if not is_number(v) and not (v is None and col != "created_at"):
                raise self.bad(col, f"holds {_kind(v)}, expected a number")
        for col in ("fingerprint", "device", "host", "message", "weights"):
            v = d[col]
            if not isinstance(v, str) and not (v is None and col != "fingerprint"):
                raise self.bad(col, f"holds {_kind(v)}, expected text")
        if d["status"] not in STATUSES:
            raise self.bad("status", f"holds an unknown status '{printable(d['status'], 20)}'")
        if d["origin"] not in ORIGINS:
            raise self.bad("origin", f"holds an unknown origin '{printable(d['origin'], 20)}'")

    def json_cell(self, col: str, kind: type, optional: bool) -> JSONValue:
        text = self.d[col]
        if text is None and optional:
            return None
        if not isinstance(text, str):
            raise self.bad(col, f"holds {_kind(text)}, expected JSON text")
        try:
            value: JSONValue = json.loads(text)
        except (ValueError, RecursionError) as exc:
            why = printable(type(exc).__name__ if isinstance(exc, RecursionError) else exc, 80)
            raise self.bad(col, f"is not valid JSON ({why})") from None
        if not isinstance(value, kind):
            raise self.bad(col, f"holds JSON {_kind(value)}, expected a JSON "
                                f"{'object' if kind is dict else 'array'}")
        return value

    def spec(self, value: JSONObject) -> ArchSpec:
        try:
            return ArchSpec.from_dict(value)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self.bad("spec", f"is not an architecture ({printable(exc, 80)})") from None


def decode_row(row: sqlite3.Row, root: Path) -> TrialRecord:
    """Decode and type-check one trials row; a corrupt cell is a StoreError naming it."""
    raw = _Row(row, root)
    raw.check_scalars()
    cells = {col: raw.json_cell(col, kind, optional) for col, kind, optional in _JSON_COLUMNS}
    # Each cell is checked to be a JSON object (array); its items are what nasx wrote: flat
    # scalars, and the curves' epoch records. The casts state that trust in one place.
    d = raw.d
    return TrialRecord(
        id=d["id"], origin=Origin(d["origin"]), fingerprint=d["fingerprint"],
        values=cast("dict[str, Scalar]", cells["arch_values"]),
        hparams=cast("dict[str, Scalar]", cells["hparams"]),
        spec=raw.spec(cast(JSONObject, cells["spec"])),
        flops=d["flops"], params=d["params"], acts=d["acts"], seed=d["seed"],
        status=TrialStatus(d["status"]), attempts=d["attempts"],
        error=d["error"], metrics=cast("Metrics | None", cells["metrics"]),
        curves=cast("list[EpochRecord] | None", cells["curves"]), device=d["device"],
        host=d["host"], message=d["message"],
        weights=d["weights"], created_at=d["created_at"], started_at=d["started_at"],
        finished_at=d["finished_at"], train_seconds=d["train_seconds"],
        stored_recipe=cast("dict[str, Scalar] | None", cells["recipe"]),
        repeat_of=d["repeat_of"], repeat_epochs=d["repeat_epochs"], where=raw.where,
    )


def _spec_dict(spec: ArchSpec) -> JSONObject:
    """``spec.to_dict()`` without dataclasses.asdict's deep copies (a report reads 500 of them)."""
    d = dict(vars(spec))
    d["stem"], d["head"] = dict(vars(spec.stem)), dict(vars(spec.head))
    d["stages"] = [dict(vars(s)) for s in spec.stages]
    return d


def trials_frame(trials: Iterable[TrialRecord]) -> Any:
    """Trials as a pandas DataFrame, one row each, one column per TrialRecord field.

    Values and hparams are expanded as ``v.KEY`` / ``h.KEY``; ``val_error`` repeats ``error``
    (the validation error), ``test_error`` comes from the metrics (None when not measured).
    The frame is analysis's tabular edge, so its cells are plain data: ``status`` and ``origin``
    strings, ``spec`` the ArchSpec's dict, ``recipe`` the cell as stored (what the population
    rule compares).
    """
    import pandas as pd  # lazy: `nasx sample` must not pay for pandas

    names = [f for f in TrialRecord.__dataclass_fields__ if f not in ("stored_recipe", "where")]
    rows = []
    for t in trials:
        row = {k: getattr(t, k) for k in names}
        row["status"], row["origin"] = t.status.value, t.origin.value
        row["recipe"] = t.stored_recipe
        row["spec"] = _spec_dict(t.spec)
        row["val_error"], row["test_error"] = t.val_error, t.test_error
        for k, v in t.values.items():
            row[f"v.{k}"] = v
        for k, v in t.hparams.items():
            row[f"h.{k}"] = v
        rows.append(row)
    return pd.DataFrame(rows)
