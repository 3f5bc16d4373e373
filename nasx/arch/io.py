"""ArchSpec files: YAML written by :func:`save_spec`, read by :func:`load_spec` (safe_load only).

A spec file is one of: the full spec (``ArchSpec.to_dict()``, what save_spec writes);
``{family: NAME, values: {...}}`` decoded by the family; or ``{zoo: MODEL}``. Every problem is a
:class:`SpaceError` naming the file and the key.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import yaml

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.errors import NasxError, SpaceError
from nasx.fsutil import atomic_write_text
from nasx.types import JSONObject
from nasx.yamlio import YamlLimitError, load_yaml, read_text

_TOP = {"family", "stem", "stages", "head", "resolution", "in_channels", "name"}


def _check_value(file: str, key: str, value: Any, hint: Any) -> None:
    """SpaceError unless ``value`` fits the field type ``hint`` (int, float, str, bool, Literal)."""
    if typing.get_origin(hint) is typing.Literal:
        ok, rule = value in typing.get_args(hint), f"one of {', '.join(typing.get_args(hint))}"
    elif hint is bool:
        ok, rule = isinstance(value, bool), "a boolean"
    elif hint is int:
        ok, rule = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        rule = "a number"
    else:
        ok, rule = isinstance(value, str), "a string"
    if not ok:
        raise SpaceError(rule=f"must be {rule}", value=value, where=file, key=key)


def _section(file: str, key: str, data: Any, cls: type) -> JSONObject:
    """A dataclass section checked against the fields of ``cls`` (unknown/missing/type)."""
    if not isinstance(data, Mapping):
        raise SpaceError(rule="must be a mapping", value=data, shown=type(data).__name__,
                         where=file, key=key)
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    for k in data:
        if k not in names:
            raise SpaceError(f"unknown field (allowed: {', '.join(sorted(names))})",
                             where=file, key=f"{key}.{k}")
    for f in fields(cls):
        if f.name not in data:
            if f.default is MISSING:
                raise SpaceError("required field is missing", where=file, key=f"{key}.{f.name}")
            continue
        _check_value(file, f"{key}.{f.name}", data[f.name], hints[f.name])
    return dict(data)


def spec_from_dict(data: Any, file: str = "<spec>") -> ArchSpec:
    """An ArchSpec from a loaded spec document (any of the three forms), fully checked."""
    if not isinstance(data, Mapping):
        raise SpaceError("a spec file must hold a mapping", where=file)
    if "zoo" in data:
        return _from_zoo(data, file)
    if "values" in data:
        return _from_values(data, file)
    return _from_full(data, file)


def _from_zoo(data: Mapping[str, Any], file: str) -> ArchSpec:
    """``{zoo: MODEL}``."""
    import nasx.arch.zoo as zoo

    try:
        return zoo.get(data["zoo"])
    except NasxError as err:
        raise SpaceError(str(err), where=file, key="zoo") from None


def _from_values(data: Mapping[str, Any], file: str) -> ArchSpec:
    """``{family: NAME, values: {...}}``, decoded by the family."""
    from nasx.arch.families import decode

    if not isinstance(data["values"], Mapping):
        raise SpaceError("must be a mapping of family values", where=file, key="values")
    try:
        return decode(data.get("family", ""), data["values"])
    except NasxError as err:
        raise err.at(where=file) from None


def _from_full(data: Mapping[str, Any], file: str) -> ArchSpec:
    """The full spec (what :func:`save_spec` writes), every section and field checked."""
    for k in data:
        if k not in _TOP:
            raise SpaceError(f"unknown key (allowed: {', '.join(sorted(_TOP))}, or zoo / "
                             "family + values)", where=file, key=str(k))
    for k in ("family", "stem", "stages", "head"):
        if k not in data:
            raise SpaceError("required key is missing", where=file, key=k)
    if not isinstance(data["stages"], list) or not data["stages"]:
        raise SpaceError("must be a non-empty list of stages", where=file, key="stages")
    doc = {
        "family": data["family"],
        "stem": _section(file, "stem", data["stem"], StemSpec),
        "stages": [_section(file, f"stages[{i}]", s, StageSpec)
                   for i, s in enumerate(data["stages"])],
        "head": _section(file, "head", data["head"], HeadSpec),
    }
    for k, hint in (("family", str), ("name", str), ("resolution", int), ("in_channels", int)):
        if k in data:
            _check_value(file, k, data[k], hint)
            doc[k] = data[k]
    spec = ArchSpec.from_dict(doc)
    check_spec(spec, file)
    return spec


def check_spec(spec: ArchSpec, file: str = "<spec>") -> None:
    """SpaceError for a spec no network can have (non-positive sizes, groups not dividing)."""
    positive = [("resolution", spec.resolution), ("in_channels", spec.in_channels),
                ("stem.width", spec.stem.width), ("stem.kernel", spec.stem.kernel),
                ("stem.stride", spec.stem.stride), ("head.num_classes", spec.num_classes)]
    for i, st in enumerate(spec.stages):
        positive += [(f"stages[{i}].{k}", getattr(st, k))
                     for k in ("depth", "width", "stride", "groups", "kernel")]
        if st.block == "bottleneck":
            positive.append((f"stages[{i}].bottleneck", st.bottleneck))
            if st.bottleneck % st.groups:
                raise SpaceError(f"bottleneck {st.bottleneck} is not divisible by groups "
                                 f"{st.groups}", where=file, key=f"stages[{i}].groups")
    for key, value in positive:
        if value < 1:
            raise SpaceError(rule="must be >= 1", value=value, where=file, key=key)


def load_spec(path: str | os.PathLike[str]) -> ArchSpec:
    """Read an ArchSpec YAML file; SpaceError naming the file (and key) on any problem."""
    file = str(path)
    try:
        data = load_yaml(read_text(path))
    except OSError as err:
        raise SpaceError(f"cannot read spec file: {err.strerror or err}", where=file) from None
    except YamlLimitError as err:  # spec files have always said "invalid YAML"
        raise SpaceError(str(err).replace("malformed YAML", "invalid YAML", 1), where=file) \
            from None
    return spec_from_dict(data, file)


def save_spec(spec: ArchSpec, path: str | os.PathLike[str]) -> Path:
    """Write ``spec`` as YAML (atomically: a complete file or none); returns the path."""
    out = Path(path)
    text = yaml.safe_dump(spec.to_dict(), sort_keys=False)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, text)
    except OSError as err:
        raise SpaceError(f"cannot write spec file: {err.strerror or err}", where=str(out)) from None
    return out
