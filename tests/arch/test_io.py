"""Spec YAML files: round trip, the three accepted forms, errors, fingerprint stability."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from nasx.arch import zoo
from nasx.arch.io import load_spec, save_spec, spec_from_dict
from nasx.errors import InvalidSample, SpaceError


@pytest.mark.parametrize("name", zoo.names())
def test_round_trip(tmp_path: Path, name: str) -> None:
    spec = zoo.get(name)
    path = save_spec(spec, tmp_path / "sub" / "spec.yaml")
    back = load_spec(path)
    assert back == spec and back.name == spec.name
    assert back.fingerprint() == spec.fingerprint()
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temporary left behind


def test_fingerprints_are_pinned() -> None:
    # sha256 of the sorted JSON of to_dict() without the name: stable across runs and machines
    assert zoo.get("RegNetX-200MF").fingerprint() == "01282ccee04bd915"
    assert zoo.get("EfficientNet-B0").fingerprint() == "22194ad4a56c132a"
    assert zoo.get("ResNet-50").fingerprint() == "e13c14e5812783c8"
    spec = zoo.get("ResNet-50")
    assert replace(spec, name="other").fingerprint() == spec.fingerprint()
    assert replace(spec, resolution=160).fingerprint() != spec.fingerprint()


def test_saved_file_is_plain_yaml(tmp_path: Path) -> None:
    path = save_spec(zoo.get("RegNetX-200MF"), tmp_path / "x.yaml")
    data = yaml.safe_load(path.read_text())
    assert data["family"] == "regnet" and data["name"] == "RegNetX-200MF"
    assert [s["width"] for s in data["stages"]] == [24, 56, 152, 368]
    assert "!!" not in path.read_text()


def test_family_values_and_zoo_forms(tmp_path: Path) -> None:
    f = tmp_path / "v.yaml"
    f.write_text("family: regnet\nvalues: {depth: 13, w0: 24, wa: 36.44, wm: 2.49, group_w: 8}\n")
    assert load_spec(f) == zoo.get("RegNetX-200MF")
    f.write_text("zoo: resnet-50\n")
    assert load_spec(f).name == "ResNet-50"


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    return f


def test_errors_name_file_and_key(tmp_path: Path) -> None:
    good = zoo.get("RegNetX-200MF").to_dict()
    with pytest.raises(SpaceError, match="missing.yaml: cannot read spec file"):
        load_spec(tmp_path / "missing.yaml")
    f = _write(tmp_path, "family: [unclosed\n")
    with pytest.raises(SpaceError, match=f"{f}: invalid YAML at line 2"):
        load_spec(f)
    with pytest.raises(SpaceError, match="invalid YAML"):
        load_spec(_write(tmp_path, "!!python/object/apply:os.system ['true']\n"))
    with pytest.raises(SpaceError, match="must hold a mapping"):
        load_spec(_write(tmp_path, "- 1\n"))
    cases = [
        ({**good, "colour": 1}, "key 'colour': unknown key"),
        ({k: v for k, v in good.items() if k != "head"}, "key 'head': required key is missing"),
        ({**good, "stages": []}, "key 'stages': must be a non-empty list"),
        ({**good, "stem": {**good["stem"], "width": "32"}}, "key 'stem.width': must be an integer"),
        ({**good, "stem": {**good["stem"], "act": "gelu"}}, "key 'stem.act': must be one of relu"),
        ({**good, "stages": [{**good["stages"][0], "bogus": 1}]},
         r"key 'stages\[0\].bogus': unknown field"),
        ({**good, "stages": [{k: v for k, v in good["stages"][0].items() if k != "depth"}]},
         r"key 'stages\[0\].depth': required field is missing"),
        ({**good, "stages": [{**good["stages"][0], "groups": 5}]},
         r"key 'stages\[0\].groups': bottleneck 24 is not divisible by groups 5"),
        ({**good, "stages": [{**good["stages"][0], "depth": 0}]},
         r"key 'stages\[0\].depth': must be >= 1"),
        ({**good, "resolution": True}, "key 'resolution': must be an integer"),
        ({"zoo": "nonet"}, "key 'zoo'.*unknown zoo model"),
        ({"family": "regnet", "values": [1]}, "key 'values': must be a mapping"),
        ({"family": "regnet", "values": {"depth": 13}}, "key 'w0'.*missing"),
    ]
    for data, message in cases:
        f = _write(tmp_path, yaml.safe_dump(data))
        with pytest.raises(SpaceError, match=f"{f}: {message}"):
            load_spec(f)


def test_invalid_sample_from_values_keeps_its_type() -> None:
    with pytest.raises(InvalidSample, match="<x>: .*distinct widths") as info:
        spec_from_dict({"family": "regnet",
                        "values": {"depth": 13, "w0": 8, "wa": 200, "wm": 1.5, "group_w": 8}},
                       "<x>")
    assert info.value.where == "<x>"
