"""Each family declared once: the value model gives keys, defaults, ranges and the docs table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nasx.arch import zoo
from nasx.arch.families import FAMILIES, decode
from nasx.arch.families.model import INPUT_KEYS, Key
from nasx.arch.family_table import markdown
from nasx.constants import INPUT_DEFAULTS
from nasx.errors import InvalidSample, SpaceError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "spaces.md"

# What each family accepted before its value model existed (pinned: sample.bind, the sampler's
# screens and refine read these).
KEYS = {
    "regnet": {"depth", "w0", "wa", "wm", "group_w", "bot_mul", "se_ratio", "stem_width", "stem"},
    "anynet": {"se_ratio", "stem_width", "stem"},
    "resnext": {"groups", "width_per_group", "flops_target", "match", "stem_width"},
    "efficientnet": {"phi", "alpha", "beta", "gamma", "width_mult", "depth_mult",
                     "base_resolution", "se_ratio", "dropout", "stem_width", "head_width"},
    "mobilenetv2": {"width_mult", "stem_width", "head_width", "dropout"},
}
PER_STAGE = {"anynet": ("depth", "width", "group_w", "bot_mul"), "resnext": ("depth",)}
DEFAULTS = {
    "regnet": {"bot_mul": 1.0, "se_ratio": 0.0, "stem_width": 32, "stem": "imagenet"},
    "anynet": {"se_ratio": 0.0, "stem_width": 32, "stem": "imagenet", "bot_mul": 1.0},
    "resnext": {"depth_1": 3, "depth_2": 4, "depth_3": 6, "depth_4": 3, "groups": 1,
                "width_per_group": None, "flops_target": None, "match": None, "stem_width": 64},
    "efficientnet": {"phi": 0.0, "alpha": 1.2, "beta": 1.1, "gamma": 1.15, "width_mult": None,
                     "depth_mult": None, "base_resolution": None, "se_ratio": 0.25,
                     "dropout": 0.2, "stem_width": 32, "head_width": 1280},
    "mobilenetv2": {"width_mult": 1.0, "stem_width": 32, "head_width": 1280, "dropout": 0.2},
}
# Values every key's range check starts from (the required keys), and what a key needs to be read.
BASE: dict[str, dict[str, Any]] = {
    "regnet": {"depth": 13, "w0": 24, "wa": 36.44, "wm": 2.49, "group_w": 8},
    "anynet": {"depth": 1, "width": 24, "group_w": 8, "depth_1": 1},
}
NEEDS = {("efficientnet", "gamma"): {"base_resolution": 224}}


def test_models_give_the_pinned_keys_and_defaults() -> None:
    assert sorted(FAMILIES) == sorted(KEYS)
    for name, family in FAMILIES.items():
        assert family.keys == KEYS[name] | set(INPUT_DEFAULTS), name
        assert family.per_stage_keys == PER_STAGE.get(name, ()), name
        assert dict(family.defaults) == DEFAULTS[name], name
    assert {k.name: k.default for k in INPUT_KEYS} == dict(INPUT_DEFAULTS)


def _cases() -> list[tuple[str, Key]]:
    return [(name, key) for name, fam in sorted(FAMILIES.items()) if fam.model
            for key in (*fam.model.own, *INPUT_KEYS)]


@pytest.mark.parametrize(("family", "key"), _cases(), ids=lambda v: getattr(v, "name", v))
def test_every_declared_range_is_what_decode_enforces(family: str, key: Key) -> None:
    name = f"{key.name}_1" if key.per_stage else key.name
    values = {**BASE.get(family, {}), **NEEDS.get((family, key.name), {})}
    if key.options:
        with pytest.raises(SpaceError, match=f"key '{name}'.*must be one of"):
            decode(family, {**values, name: "nope"})
        decode(family, {**values, name: key.options[-1]})
        return
    edge = key.gt if key.gt is not None else key.lo
    assert edge is not None, f"{family}.{key.name} declares no range"
    bad = edge if key.gt is not None else edge - (1 if key.kind == "int" else 0.5)
    with pytest.raises(InvalidSample, match=f"key '{name}'"):
        decode(family, {**values, name: bad})
    if key.kind == "int":
        with pytest.raises(SpaceError, match=f"key '{name}'.*must be an integer"):
            decode(family, {**values, name: 2.5})


def test_zoo_configs_are_checked_keywords() -> None:
    entry = zoo.ZOO["RegNetY-200MF"]
    assert entry.family == "regnet" and entry.values["se_ratio"] == 0.25
    assert FAMILIES["regnet"].config(depth=13, w0=24) == {"depth": 13, "w0": 24}
    with pytest.raises(SpaceError, match="key 'colour': unknown key for family 'regnet'"):
        FAMILIES["regnet"].config(colour=3)


def test_docs_table_is_generated_from_the_models() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert markdown() in text, "regenerate: python -m nasx.arch.family_table docs/spaces.md"
    for name, family in FAMILIES.items():
        assert f"**`{name}`**: {family.doc}" in text
        for key in family.keys | set(family.per_stage_keys):
            assert f"| `{key}" in text
