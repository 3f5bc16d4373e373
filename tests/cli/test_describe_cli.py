"""`nasx describe`: zoo models (pinned complexity), spec files, space files and runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasx.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def _json(capsys, argv):
    assert main(["describe", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("name", "flops", "params", "acts"), [
    ("RegNetX-200MF", 199040872, 2684792, 2164056),
    ("efficientnet-b0", 385825092, 5288548, 6748036),
])
def test_zoo_model_complexity(capsys, name, flops, params, acts):
    d = _json(capsys, [name])
    assert (d["flops"], d["params"], d["acts"]) == (flops, params, acts)
    assert d["kind"] == "model" and d["resolution"] == 224


def test_regnet_stage_table(capsys):
    d = _json(capsys, ["RegNetX-200MF"])
    assert [(s["depth"], s["width"], s["stride"]) for s in d["stages"]] == [
        (1, 24, 2), (1, 56, 2), (4, 152, 2), (7, 368, 2)]
    assert [s["groups"] for s in d["stages"]] == [3, 7, 19, 46]  # bottleneck / group width 8
    assert all(s["se_ratio"] == 0 for s in d["stages"])
    assert main(["describe", "RegNetX-200MF"]) == 0
    text = capsys.readouterr().out
    assert "flops 199040872" in text and "368" in text


def test_spec_file(capsys, tmp_path):
    spec = tmp_path / "m.yaml"
    spec.write_text("zoo: RegNetX-200MF\n")
    assert _json(capsys, [str(spec)])["flops"] == 199040872


def test_space_file_summary_and_probe(capsys):
    d = _json(capsys, [str(REPO / "spaces" / "regnet.yaml"), "--probe", "2000"])
    assert (d["kind"], d["family"], d["n"]) == ("space", "regnet", 500)
    assert d["params"]["w0"] == "int [8, 256] q=8 log"
    assert d["constraints"]["flops"] == [360_000_000, 400_000_000]
    p = d["probe"]
    assert p["attempts"] == 2000 and p["accepted"] + sum(p["rejected"].values()) == 2000
    assert main(["describe", str(REPO / "spaces" / "anynet_e.yaml")]) == 0
    text = capsys.readouterr().out
    assert "per_stage.width: int [8, 1024] q=8 log  (non_decreasing)" in text


def test_run_folder(capsys, tmp_path):
    from nasx.sample import create_run

    store, _ = create_run(REPO / "spaces" / "regnet_digits.yaml", n=2, out=tmp_path / "r",
                          progress=False)
    store.close()
    d = _json(capsys, [str(tmp_path / "r")])
    assert d["counts"]["pending"] == 2 and d["meta"]["family"] == "regnet"


@pytest.mark.parametrize(("target", "words"), [
    ("NoSuchNet", "unknown zoo model 'NoSuchNet'"),
    ("spaces/missing.yaml", "no such file or folder"),
])
def test_unknown_targets(capsys, target, words):
    assert main(["describe", target]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_bad_space_file(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("family: regnet\nparams: {wm: {float: [3, 1]}}\n")
    assert main(["describe", str(bad)]) == 2
    assert f"{bad}: key 'params.wm'" in capsys.readouterr().err


DIGITS = (REPO / "spaces" / "regnet_digits.yaml").read_text()
# Files `nasx sample` rejects for the file's sake; describe must reject them with the same words.
SAME = [
    ("rare_type", DIGITS.replace("stem: cifar", "stem: {choice: [cifar, cifar, cifar, cifar, 7]}")),
    ("unknown_quantity", DIGITS.replace("num_stages: [2, 4]", "num_stages: [2, 4]\n  lat: [0, 1]")),
    ("depth_limit", DIGITS.replace("depth: {int: [2, 8]}", "depth: {int: [2, 1000000000]}")),
    ("train_block", DIGITS.replace("epochs: 5", "epochs: \"8\"")),
    ("stages", DIGITS + "stages: 100000\n"),
    ("alias", DIGITS.replace("lr: 0.1", "lr: &x 0.1\n  momentum: *x")),
    ("nested", DIGITS + "lineage: " + "[" * 2000 + "]" * 2000 + "\n"),
    ("constraint", DIGITS.replace("[null, 1.5M]", "[null, 1e400]")),
    ("range", DIGITS.replace("{float: [4, 32], log: true}", "{float: [-1.0e+308, 1.0e+308]}")),
    ("non_finite", DIGITS.replace("lr: 0.1", "lr: .nan")),
]


@pytest.mark.parametrize(("case", "text"), SAME, ids=[c[0] for c in SAME])
def test_describe_rejects_what_sample_rejects_in_the_same_words(capsys, tmp_path, monkeypatch,
                                                                 case, text):
    space = tmp_path / "s.yaml"
    space.write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["sample", str(space), "--n", "2"]) == 2
    sample_err = capsys.readouterr().err
    assert main(["describe", str(space)]) == 2
    describe_err = capsys.readouterr().err
    assert sample_err.removeprefix("nasx sample: error: ") == describe_err.removeprefix(
        "nasx describe: error: ")
    assert describe_err.count("\n") == 1 and str(space) in describe_err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize(("values", "key"), [
    ("{depth: 1000000000, w0: 24, wa: 36.44, wm: 2.49, group_w: 8}", "values.depth"),
    ("{depth: 13, w0: 24, wa: 36.44, wm: 2.49, group_w: 8, resolution: 100000}",
     "values.resolution"),
])
def test_spec_file_values_are_bounded(capsys, tmp_path, values, key):
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"family: regnet\nvalues: {values}\n")
    assert main(["describe", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}: key '{key}': must be at most" in err and err.count("\n") == 1


def test_space_values_reach_the_terminal_escaped(capsys, tmp_path):
    space = tmp_path / "s.yaml"
    space.write_text(DIGITS.replace("data: digits", 'data: digits\n  data_dir: "/d\\x1b[2J"'))
    assert main(["describe", str(space)]) == 0
    out = capsys.readouterr().out
    assert "train.data_dir: /d\\x1b[2J" in out and "\x1b" not in out
