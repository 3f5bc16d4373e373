"""Reading a space file into a frozen, validated :class:`SearchSpace` (format: docs/spaces.md).

The file's structure is checked strictly (``nasx.space.fields``: no silent coercion of ``"8"`` to
8); every violation becomes one :class:`~nasx.errors.SpaceError` naming the file, the key, the rule
and the value. Family-specific checks (which keys a family accepts) happen in ``nasx.sample``, the first
layer that may import the families.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from nasx.constants import INPUT_DEFAULTS
from nasx.errors import RuleError, SpaceError
from nasx.space.constraints import RELATIONS, Bound, parse_bounds
from nasx.space.dists import (
    DIST_KINDS,
    MAX_MAGNITUDE,
    MAX_STRING,
    ChoiceDist,
    Dist,
    Fixed,
    Param,
)
from nasx.space.fields import Field, Parsed, integer, mapping, optional, string
from nasx.space.measured import MEASURED_KEYS, MeasureSettings, check_measured_bounds
from nasx.space.shipped import resolve_space
from nasx.types import JSONObject, Scalar
from nasx.yamlio import YamlLimitError, clip, load_yaml, read_text

DEFAULT_N = 100
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SECTIONS = ("input", "params", "per_stage", "relations", "constraints", "measure", "train")
# Limits that keep a small file from costing much memory or time (sizes: nasx.yamlio).
MAX_N = 100_000  # samples per run
MAX_STAGES = 32  # a network has 4 to 7
MAX_SEED = 2**63 - 1
MAX_NAME = 100  # the run folder's name
MAX_KEYS = 256  # entries of one section
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class _SpaceFile(Parsed):
    """Top-level structure of a space file; entries are parsed further by :func:`parse_space`."""

    name: str | None
    description: str
    family: str
    n: int
    seed: int
    input: dict[str, object]
    params: dict[str, object]
    stages: int | None
    per_stage: dict[str, object]
    relations: dict[str, str]
    constraints: dict[str, object]
    measure: dict[str, object]  # MeasureSettings, validated with the measured constraints
    train: dict[str, object]
    lineage: dict[str, object]  # YAML provenance, checked only as a mapping
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("name", optional(string()), None),
        Field("description", string(10 * MAX_STRING), ""),
        Field("family", string()),
        Field("n", integer(1, MAX_N), DEFAULT_N),
        Field("seed", integer(0, MAX_SEED), 0),
        Field("input", mapping(), factory=dict),
        Field("params", mapping(), factory=dict),
        Field("stages", optional(integer(1, MAX_STAGES)), None),
        Field("per_stage", mapping(), factory=dict),
        Field("relations", mapping(string()), factory=dict),
        Field("constraints", mapping(), factory=dict),
        Field("measure", mapping(), factory=dict),
        Field("train", mapping(), factory=dict),
        Field("lineage", mapping(), factory=dict),
    )


@dataclass(frozen=True)
class SearchSpace:
    """A validated design space. Params are :class:`Fixed` or distributions (``sample(rng)``)."""

    path: Path
    text: str = field(repr=False)
    sha256: str
    name: str
    family: str
    n: int
    seed: int
    input: dict[str, Param]
    params: dict[str, Param]
    stages: int | None = None
    per_stage: dict[str, tuple[Param, ...]] = field(default_factory=dict)
    relations: dict[str, str] = field(default_factory=dict)
    constraints: dict[str, tuple[Bound, Bound]] = field(default_factory=dict)  # analytic ones
    # latency_ms / memory_mb: judged on a figure measured as `measure` says (nasx.space.measured)
    measured: dict[str, tuple[Bound, Bound]] = field(default_factory=dict)
    measure: MeasureSettings = field(default_factory=MeasureSettings)
    train_fixed: dict[str, Scalar] = field(default_factory=dict)
    train_dists: dict[str, Dist] = field(default_factory=dict)
    description: str = ""  # free text: where the space comes from (narrow writes one)
    lineage: JSONObject = field(default_factory=dict, repr=False)  # YAML provenance, not sampled
    # What layers above derive from this parsed space, kept with it so a command that parses the
    # space once also derives each thing once (nasx.train.recipe.space_recipe: its recipes).
    memo: dict[object, object] = field(default_factory=dict, repr=False, compare=False)


def _located(exc: RuleError, where: str, prefix: str) -> SpaceError:
    """A field's RuleError as the space file's SpaceError, its key below ``prefix``."""
    parts = [p for p in (prefix, exc.key) if p]
    return exc.at(where=where, key=".".join(clip(p, 64) for p in parts) or None, kind=SpaceError)


def parse_param(raw: object, *, where: str, key: str) -> Param:
    """A fixed scalar or a distribution mapping -> :class:`Fixed` / a distribution."""
    if isinstance(raw, dict):
        kinds = [k for k in raw if k in DIST_KINDS]
        if len(kinds) != 1:
            found = clip(", ".join(map(str, raw)), 80) or "nothing"
            raise SpaceError(
                "a distribution needs exactly one of int, float, pow2, choice "
                f"(found: {found})",
                where=where, key=key,
            )
        try:
            return DIST_KINDS[kinds[0]].parse(raw)  # type: ignore[return-value]
        except RuleError as exc:
            raise _located(exc, where, key) from None
    if raw is None or isinstance(raw, (bool, str, numbers.Real)):
        if isinstance(raw, numbers.Real) and not isinstance(raw, bool):
            if not (isinstance(raw, int) or math.isfinite(raw)) or abs(raw) > MAX_MAGNITUDE:
                raise SpaceError(rule=f"a number must be finite and within +-{MAX_MAGNITUDE:.0e}",
                                 value=raw, where=where, key=key)
            if not isinstance(raw, int):
                raw = float(raw)
        if isinstance(raw, str) and len(raw) > MAX_STRING:
            raise SpaceError(rule=f"a string value may have at most {MAX_STRING} characters",
                             value=raw, shown=str(len(raw)), where=where, key=key)
        return Fixed(value=raw)
    raise SpaceError(
        rule="expected a fixed scalar or a distribution mapping", value=raw, where=where, key=key,
    )


def _is_numeric(p: Param) -> bool:
    if isinstance(p, Fixed):
        return isinstance(p.value, numbers.Real) and not isinstance(p.value, bool)
    if isinstance(p, ChoiceDist):
        return all(isinstance(o, numbers.Real) and not isinstance(o, bool) for o in p.options)
    return True


def _check_keys(raw: dict[object, object], where: str) -> None:
    """Keys of the sections are short identifiers, at most MAX_KEYS per section."""
    for section in _SECTIONS:
        entries = raw.get(section)
        if not isinstance(entries, dict):
            continue  # the schema reports it
        if len(entries) > MAX_KEYS:
            raise SpaceError(rule=f"at most {MAX_KEYS} entries", value=len(entries), where=where,
                             key=section)
        for key in entries:
            if not (isinstance(key, str) and _KEY.match(key)):
                raise SpaceError(
                    rule="keys must be identifiers of at most 64 letters, digits or '_'",
                    value=key, where=where, key=section,
                )


def _top_level(text: str, where: str) -> _SpaceFile:
    """The file's top-level structure: a YAML mapping of known keys with identifier keys."""
    try:
        raw = load_yaml(text)
    except YamlLimitError as exc:
        raise exc.at(where=where, kind=SpaceError) from None
    if not isinstance(raw, dict):
        raise SpaceError(
            rule="a space file must be a mapping of keys", value=raw,
            shown=type(raw).__name__, where=where
        )
    for section in _SECTIONS:  # `params:` with nothing under it means empty
        if section in raw and raw[section] is None:
            raw[section] = {}
    _check_keys(raw, where)
    try:
        return _SpaceFile.parse(raw)
    except RuleError as exc:
        raise _located(exc, where, "") from None


def _name(top: _SpaceFile, path: Path) -> str:
    """The run's name: ``name:`` or the file's stem, usable as a folder name."""
    name = top.name if top.name is not None else path.stem
    if not _NAME.match(name) or len(name) > MAX_NAME:
        raise SpaceError(
            rule=f"must be at most {MAX_NAME} letters, digits, '.', '_' or '-' (a folder name)",
            value=name,
            where=str(path), key="name",
        )
    return name


def _input(raw: dict[str, object], where: str) -> dict[str, Param]:
    """The ``input:`` section over INPUT_DEFAULTS (only the input keys)."""
    inputs: dict[str, Param] = {k: Fixed(value=v) for k, v in INPUT_DEFAULTS.items()}
    for key, value in raw.items():
        if key not in INPUT_DEFAULTS:
            raise SpaceError(
                f"unknown input key (allowed: {', '.join(INPUT_DEFAULTS)})",
                where=where, key=f"input.{key}",
            )
        inputs[key] = parse_param(value, where=where, key=f"input.{key}")
    return inputs


def _params(raw: dict[str, object], where: str) -> dict[str, Param]:
    """The ``params:`` section: one fixed value or distribution per key."""
    return {k: parse_param(v, where=where, key=f"params.{k}") for k, v in raw.items()}


def _per_stage(top: _SpaceFile, params: Mapping[str, Param],
               where: str) -> dict[str, tuple[Param, ...]]:
    """The ``per_stage:`` section: one param per stage (a list, or one entry for every stage)."""
    if top.per_stage and top.stages is None:
        raise SpaceError("is required when per_stage is given", where=where, key="stages")
    stages = top.stages or 0
    per_stage: dict[str, tuple[Param, ...]] = {}
    for key, value in top.per_stage.items():
        at = f"per_stage.{key}"
        if key in params:
            raise SpaceError("is given both under params and per_stage", where=where, key=at)
        if not isinstance(value, list):
            per_stage[key] = (parse_param(value, where=where, key=at),) * stages
            continue
        if len(value) != stages:
            raise SpaceError(
                rule=f"a per-stage list needs one entry per stage ({stages})", value=value,
                shown=str(len(value)),
                where=where, key=at,
            )
        per_stage[key] = tuple(
            parse_param(v, where=where, key=f"{at}.{i + 1}") for i, v in enumerate(value)
        )
    return per_stage


def _relations(raw: Mapping[str, str], params: Mapping[str, Param],
               per_stage: Mapping[str, tuple[Param, ...]], where: str) -> dict[str, str]:
    """The ``relations:`` section: a known relation per per-stage key (``shared`` also for a
    per-stage key under params); the monotone ones need numbers."""
    for key, rel in raw.items():
        at = f"relations.{key}"
        if rel not in RELATIONS:
            raise SpaceError(
                rule=f"unknown relation (allowed: {', '.join(RELATIONS)})", value=rel,
                where=where, key=at,
            )
        if key in per_stage:
            if rel != "shared" and not all(_is_numeric(p) for p in per_stage[key]):
                raise SpaceError(f"{rel} needs numeric values", where=where, key=at)
        elif not (key in params and rel == "shared"):
            raise SpaceError(
                "a relation needs a per_stage parameter of that name", where=where, key=at
            )
    return dict(raw)


Limits = dict[str, tuple[Bound, Bound]]


def _constraints(raw: dict[str, object], where: str) -> tuple[Limits, Limits]:
    """The ``constraints:`` section: ``[lo, hi]`` bounds per quantity, split into the analytic
    ones and the measured ones (``latency_ms``, ``memory_mb``: non-negative, one side at least)."""
    analytic: Limits = {}
    measured: Limits = {}
    for key, value in raw.items():
        try:
            bounds = parse_bounds(value)
            if key in MEASURED_KEYS:
                check_measured_bounds(key, bounds)
        except RuleError as exc:
            raise exc.at(where=where, key=f"constraints.{key}", kind=SpaceError) from None
        except ValueError as exc:
            raise SpaceError(str(exc), where=where, key=f"constraints.{key}") from None
        (measured if key in MEASURED_KEYS else analytic)[key] = bounds
    return analytic, measured


def _measure(raw: dict[str, object], where: str) -> MeasureSettings:
    """The ``measure:`` block: how measured constraints are measured (all keys optional)."""
    try:
        return MeasureSettings.parse(raw)
    except RuleError as exc:
        raise _located(exc, where, "measure") from None


def _train(raw: dict[str, object], where: str) -> tuple[dict[str, Scalar], dict[str, Dist]]:
    """The ``train:`` section split into fixed recipe keys and sampled distributions."""
    fixed: dict[str, Scalar] = {}
    dists: dict[str, Dist] = {}
    for key, value in raw.items():
        param = parse_param(value, where=where, key=f"train.{key}")
        if isinstance(param, Fixed):
            fixed[key] = param.value
        else:
            dists[key] = param
    return fixed, dists


def parse_space(text: str, path: str | Path) -> SearchSpace:
    """Validate the YAML ``text`` of the space file ``path`` (used for errors and the default name).

    Sections are validated in the file's reading order, so the first error reported is the one
    it always was: top level, name, input, params, per_stage, relations, constraints, measure,
    train.
    """
    path = Path(path)
    where = str(path)
    top = _top_level(text, where)
    name = _name(top, path)
    inputs = _input(top.input, where)
    params = _params(top.params, where)
    per_stage = _per_stage(top, params, where)
    relations = _relations(top.relations, params, per_stage, where)
    constraints, measured = _constraints(top.constraints, where)
    measure = _measure(top.measure, where)
    train_fixed, train_dists = _train(top.train, where)
    return SearchSpace(
        path=path, text=text, sha256=hashlib.sha256(text.encode()).hexdigest(), name=name,
        family=top.family, n=top.n, seed=top.seed, input=inputs, params=params,
        stages=top.stages, per_stage=per_stage, relations=relations,
        constraints=constraints, measured=measured, measure=measure, train_fixed=train_fixed,
        train_dists=train_dists,
        description=top.description, lineage=top.lineage,
    )


def load_space(path: str | Path) -> SearchSpace:
    """Read and validate a space file (or a shipped space by name, ``nasx.space.shipped``);
    SpaceError naming file, key, rule and value otherwise."""
    path = resolve_space(path)
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise SpaceError("no such space file", where=str(path)) from None
    except IsADirectoryError:
        raise SpaceError("is a folder, not a space file", where=str(path)) from None
    except OSError as exc:
        raise SpaceError(f"cannot read the space file ({exc.strerror or exc})",
                         where=str(path)) from None
    except YamlLimitError as exc:
        raise exc.at(where=str(path), kind=SpaceError) from None
    return parse_space(text, path)
