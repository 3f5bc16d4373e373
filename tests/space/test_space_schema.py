"""Space files: parsing, defaults, per-stage expansion, relations, constraints, train block."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasx.errors import SpaceError
from nasx.space import Fixed, FloatDist, IntDist, load_space, parse_space

REPO = Path(__file__).resolve().parents[2]

ANYNET = """
family: anynet
stages: 3
params:
  group_w: {pow2: [1, 8]}
per_stage:
  depth: {int: [1, 4]}
  width: [{int: [8, 64], q: 8}, 32, {int: [64, 128], q: 8}]
relations:
  depth: non_decreasing
  group_w: shared
constraints:
  flops: [null, 0.4G]
  params: [10K, 2.5M]
train:
  epochs: 2
  lr: {float: [0.01, 0.1], log: true}
"""


def test_regnet_space_file():
    s = load_space(REPO / "spaces" / "regnet.yaml")
    assert (s.name, s.family, s.n, s.seed, s.stages) == ("regnet", "regnet", 500, 0, None)
    assert s.params["w0"] == IntDist.parse({"int": [8, 256], "q": 8, "log": True})
    assert s.params["bot_mul"] == Fixed(value=1.0)
    assert s.constraints == {"flops": (360_000_000, 400_000_000), "num_stages": (4, 4)}
    assert s.input == {"resolution": Fixed(value=224), "in_channels": Fixed(value=3),
                       "num_classes": Fixed(value=1000)}
    assert s.train_fixed == {"epochs": 10} and s.train_dists == {}
    assert len(s.sha256) == 64 and s.text.startswith("# RegNetX")


def test_defaults_and_per_stage_expansion(tmp_path):
    s = parse_space(ANYNET, tmp_path / "my_space.yaml")
    assert (s.name, s.n, s.seed) == ("my_space", 100, 0)  # name from the file stem
    assert len(s.per_stage["depth"]) == 3 and len(set(s.per_stage["depth"])) == 1
    assert s.per_stage["width"][1] == Fixed(value=32)
    assert s.relations == {"depth": "non_decreasing", "group_w": "shared"}
    assert s.constraints == {"flops": (None, 400_000_000), "params": (10_000, 2_500_000)}
    assert s.train_fixed == {"epochs": 2}
    assert isinstance(s.train_dists["lr"], FloatDist)
    assert s.input["resolution"] == Fixed(value=224)


def test_empty_sections_mean_empty(tmp_path):
    s = parse_space("family: regnet\nparams:\nconstraints:\n", tmp_path / "s.yaml")
    assert s.params == {} and s.constraints == {}


@pytest.mark.parametrize(("text", "key", "words"), [
    ("family: regnet\nparams: {depth: {int: [12, 28]}\n", None, "malformed yaml at line"),
    ("- family\n", None, "must be a mapping"),
    ("family: regnet\nsamples: 5\n", "samples", "extra inputs"),
    ("family: regnet\nlineage: [a]\n", "lineage", "valid dictionary"),
    ("params: {}\n", "family", "field required"),
    ("family: regnet\nn: 0\n", "n", "greater than or equal to 1, got 0"),
    ("family: regnet\nn: -3\n", "n", "greater than or equal to 1"),
    ("family: regnet\nn: '5'\n", "n", "valid integer"),
    ("family: regnet\nseed: -1\n", "seed", "greater than or equal to 0"),
    ("family: regnet\nname: a b\n", "name", "folder name"),
    ("family: regnet\ninput: {channels: 3}\n", "input.channels", "unknown input key"),
    ("family: regnet\nparams: {wm: {float: [3, 1.5]}}\n", "params.wm", "lo <= hi"),
    ("family: anynet\nper_stage: {depth: 2}\n", "stages", "required when per_stage"),
    ("family: anynet\nstages: 2\nper_stage: {depth: [1, 2, 3]}\n", "per_stage.depth",
     "one entry per stage (2), got 3"),
    ("family: anynet\nstages: 2\nparams: {depth: 1}\nper_stage: {depth: 2}\n",
     "per_stage.depth", "both under params and per_stage"),
    ("family: anynet\nstages: 2\nper_stage: {depth: 2}\nrelations: {depth: increasing}\n",
     "relations.depth", "unknown relation"),
    ("family: anynet\nstages: 2\nper_stage: {depth: 2}\nrelations: {width: shared}\n",
     "relations.width", "needs a per_stage parameter"),
    ("family: anynet\nstages: 2\nparams: {width: 8}\nrelations: {width: non_decreasing}\n",
     "relations.width", "needs a per_stage parameter"),
    ("family: anynet\nstages: 2\nper_stage: {stem: {choice: [a, b]}}\n"
     "relations: {stem: non_decreasing}\n", "relations.stem", "needs numeric values"),
    ("family: regnet\nconstraints: {flops: [400M, 360M]}\n", "constraints.flops", "lo <= hi"),
    ("family: regnet\nconstraints: {flops: [1 MB, null]}\n", "constraints.flops", "k/m/g"),
    ("family: regnet\nconstraints: {flops: 400M}\n", "constraints.flops", "list [lo, hi]"),
    ("family: regnet\ntrain: {lr: {float: [0.5, 0.1]}}\n", "train.lr", "lo <= hi"),
])
def test_bad_files_raise_one_line_errors(tmp_path, text, key, words):
    path = tmp_path / "bad.yaml"
    with pytest.raises(SpaceError) as info:
        parse_space(text, path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg
    if key:
        assert f"key '{key}'" in msg
    assert words in msg.lower()


def test_missing_file():
    with pytest.raises(SpaceError, match="no such space file"):
        load_space("nowhere/space.yaml")


def test_space_is_frozen(tmp_path):
    s = parse_space("family: regnet\n", tmp_path / "s.yaml")
    with pytest.raises(AttributeError):
        s.n = 5  # type: ignore[misc]


def test_description_and_lineage_are_kept_but_not_sampled(tmp_path):
    s = parse_space("family: regnet\ndescription: narrowed\nlineage: {parent: {sha256: ab}}\n",
                    tmp_path / "s.yaml")
    assert s.description == "narrowed" and s.lineage == {"parent": {"sha256": "ab"}}
    assert s.params == {}
