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
     "must be in (0, 100], got 0.0"),
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


# `nasx run` validates the space and the full recipe (train: block + command line) first.
RUN_BAD = [
    ("epochs_0", DIGITS, ["--epochs", "0"], "command line: key 'epochs': must be in [1, 10000]"),
    ("lr_neg", DIGITS, ["--lr", "-1"], "command line: key 'lr': must be in (0, 100], got -1.0"),
    ("lr_nan", DIGITS, ["--lr", "nan"], "command line: key 'lr': must be a finite number, got nan"),
    ("lr_inf", DIGITS, ["--lr", "inf"], "command line: key 'lr': must be a finite number, got inf"),
    ("data", DIGITS, ["--data", "NAME"], "command line: key 'data': must be digits, cifar10,"),
    ("threads", DIGITS, ["--threads", "1000000000"], "key 'threads': must be in [0, 1024]"),
    ("cpus", DIGITS, ["--cpus-per-trial", "inf"], "key 'cpus_per_trial': must be in (0, 1024]"),
    ("n", DIGITS, ["--n", "1000000"], "s.yaml: key 'n': must be in [1, 100000]"),
    ("epochs_1e12", DIGITS.replace("epochs: 5", "epochs: 1e12"), [],
     "s.yaml: key 'train.epochs': must be an integer, got '1e12'"),
    ("epochs_1e12_float", DIGITS.replace("epochs: 5", "epochs: 1.0e+12"), [],
     "s.yaml: key 'train.epochs': must be in [1, 10000], got 1000000000000"),
    ("epochs_str", DIGITS.replace("epochs: 5", "epochs: \"8\""), [],
     "s.yaml: key 'train.epochs': must be an integer, got '8'"),
    ("wd_inf", DIGITS.replace("epochs: 5", "weight_decay: .inf"), [],
     "s.yaml: numbers must be finite, got '.inf' at line"),
    # together only: warm-up longer than the epochs the command line asks for
    ("warmup", DIGITS.replace("epochs: 5", "epochs: 5\n  warmup_epochs: 3"), ["--epochs", "2"],
     "key 'warmup_epochs': must be in [0, epochs]"),
]


@pytest.mark.parametrize(("case", "text", "flags", "rule"), RUN_BAD, ids=[c[0] for c in RUN_BAD])
def test_run_validates_everything_before_it_samples(tmp_path, capsys, monkeypatch, case, text,
                                                    flags, rule):
    space = _space(tmp_path, text)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = ["run", str(space), "--n", "2", "--executor", "inline", "--no-progress", *flags]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nasx run: error: ") and rule in err, err
    assert list(work.iterdir()) == []  # no run folder, no temporary folder


def test_run_with_cuda_on_a_machine_without_it_samples_nothing(tmp_path, capsys, monkeypatch):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    space = _space(tmp_path)
    assert main(["run", str(space), "--n", "2", "--device", "cuda", "--no-progress"]) == 2
    assert "command line: key 'device': CUDA is not available" in capsys.readouterr().err
    _space(tmp_path, DIGITS.replace("epochs: 5", "epochs: 5\n  device: cuda:0"))
    assert main(["run", str(space), "--n", "2", "--executor", "inline", "--no-progress"]) == 2
    assert "s.yaml: key 'train.device': CUDA is not available" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
