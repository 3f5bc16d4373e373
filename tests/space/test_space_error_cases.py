"""Space-file errors pinned line by line: hundreds of one-key mutations of a valid file.

The cases (tests/space/data/space_error_cases.json) were recorded from the schema as it was when
pydantic validated it; the typed fields of ``nasx.space.fields`` give every line, key and rule
unchanged. Each case: top-level keys set (or deleted) on BASE -> [line, key, rule].
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from nasx.errors import SpaceError
from nasx.space import parse_space

BASE: dict[str, Any] = {
    "name": "t", "family": "regnet", "n": 5, "seed": 1, "input": {"resolution": 32},
    "params": {"depth": {"int": [12, 28]}, "w0": {"int": [8, 256], "q": 8, "log": True},
               "wa": {"float": [8, 256], "log": True}, "group_w": {"pow2": [1, 32]},
               "bot_mul": 1.0, "stem": {"choice": ["a", "b"]}},
    "constraints": {"flops": ["1M", "400M"]}, "train": {"epochs": 1},
}
CASES = json.loads((Path(__file__).parent / "data" / "space_error_cases.json").read_text())


def _decode(value: Any) -> Any:
    """A case's value: ``{"$repeat": [char, n]}`` stands for a long string."""
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            char, n = value["$repeat"]
            return char * n
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def test_the_base_file_is_valid() -> None:
    """Every case breaks exactly what its mutation changes."""
    assert parse_space(yaml.safe_dump(BASE, sort_keys=False), "s.yaml").name == "t"


@pytest.mark.parametrize("ops, expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_space_error_line_key_and_rule(ops: list[list[Any]], expected: list[Any]) -> None:
    """The one-line error, its key and its rule are the pinned ones."""
    raw = copy.deepcopy(BASE)
    for key, value in ops:
        if value == "<delete>":
            del raw[key]
        else:
            raw[key] = _decode(value)
    with pytest.raises(SpaceError) as err:
        parse_space(yaml.safe_dump(raw, sort_keys=False), "s.yaml")
    assert [str(err.value), err.value.key, err.value.rule] == expected
