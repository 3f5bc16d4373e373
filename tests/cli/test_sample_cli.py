"""`nasx sample`: the summary, and one-line errors with exit status 2 that write nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nasx.cli.main import main

REPO = Path(__file__).resolve().parents[2]
DIGITS = (REPO / "spaces" / "regnet_digits.yaml").read_text()


def _space(tmp_path: Path, text: str = DIGITS, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sample_writes_a_run_and_prints_a_summary(tmp_path, capsys):
    space = _space(tmp_path)
    out = tmp_path / "runs" / "d"
    assert main(["sample", str(space), "--n", "5", "--seed", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"sampled 5 architectures from {space} (seed 2) into {out}" in text
    assert "acceptance rate" in text and "flops" in text
    assert (out / "run.db").is_file()
    assert main(["sample", str(space), "--n", "5", "--seed", "2", "--out", str(out)]) == 0
    assert "already holds this run" in capsys.readouterr().out


BAD = [
    ("malformed", "family: regnet\nparams: {depth: [1\n", [], None, "malformed YAML at line"),
    ("family", DIGITS.replace("family: regnet", "family: vgg"), [], "family", "unknown family"),
    ("key", DIGITS.replace("  bot_mul: 1.0", "  bottle: 1.0"), [], "params.bottle",
     "unknown key for family 'regnet'"),
    ("lohi", DIGITS.replace("depth: {int: [2, 8]}", "depth: {int: [8, 2]}"), [], "params.depth",
     "lo <= hi"),
    ("q", DIGITS.replace("w0: {int: [8, 32], q: 8}", "w0: {int: [8, 36], q: 8}"), [], "params.w0",
     "q=8 must divide both bounds"),
    ("choice", DIGITS.replace("group_w: {pow2: [1, 8]}", "group_w: {choice: []}"), [],
     "params.group_w.choice", "at least 1"),
    ("n_file", DIGITS.replace("n: 32", "n: 0"), [], "n", "greater than or equal to 1"),
    ("n_flag", DIGITS, ["--n", "0"], "n", "must be in [1, 100000], got 0"),
    ("unsat", DIGITS.replace("flops: [null, 1.5M]", "flops: [10G, null]"), ["--n", "3"], None,
     "found only 0 of 3 architectures"),
    ("train", DIGITS.replace("  epochs: 5", "  epochz: 5"), [], "train.epochz",
     "unknown recipe key"),
    ("train_value", DIGITS.replace("  lr: 0.1", "  lr: {float: [0, 0.5]}"), [], "train.lr",
     "must be in (0, 100]; got 0.0"),
]


@pytest.mark.parametrize(("case", "text", "flags", "key", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, case, text, flags,
                                                         key, words):
    space = _space(tmp_path, text)
    out = tmp_path / "runs" / "x"
    assert main(["sample", str(space), "--out", str(out), "--no-progress", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"nasx sample: error: {space}") and "\n" not in err
    assert words in err
    if key:
        assert f"key '{key}'" in err
    assert not out.exists() and not (tmp_path / "runs").exists()


def test_folder_with_a_different_run(tmp_path, capsys):
    space = _space(tmp_path)
    out = tmp_path / "r"
    assert main(["sample", str(space), "--n", "3", "--out", str(out)]) == 0
    before = (out / "run.db").read_bytes()
    assert main(["sample", str(space), "--n", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out}: holds a different run" in err
    assert (out / "run.db").read_bytes() == before


def test_no_traceback_without_debug(tmp_path):
    space = _space(tmp_path, "family: regnet\nparams: {depth: {int: [9, 1]}}\n")
    cmd = [sys.executable, "-m", "nasx", "sample", str(space), "--out", str(tmp_path / "o")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    debug = subprocess.run(cmd[:3] + ["--debug"] + cmd[3:], capture_output=True, text=True,
                           cwd=tmp_path)
    assert "Traceback" in debug.stderr and "SpaceError" in debug.stderr


def test_sample_every_shipped_space_quickly(tmp_path):
    for path in sorted((REPO / "spaces").glob("*.yaml")):
        if path.stem.startswith(("anynet_", "regnet")) and "digits" not in path.stem:
            continue  # the 360M-400M spaces are covered by tests/sample; keep this test fast
        shutil.copy(path, tmp_path / path.name)
        out = tmp_path / "runs" / path.stem
        assert main(["sample", str(tmp_path / path.name), "--n", "2", "--out", str(out)]) == 0
