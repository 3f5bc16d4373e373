"""`nasx ls`: JSON, CSV and table listings of a run's trials (validation error by default, test
error beside it), and of a folder of runs; every format works as a shell pipe."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.sample import create_run
from nasx.train.recipe import Recipe

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_dir(tmp_path):
    out = tmp_path / "runs" / "digits"
    store, _ = create_run(REPO / "spaces" / "regnet_digits.yaml", n=4, seed=0, out=out,
                          progress=False)
    with store:
        # validation and test orders differ: trial 2 is best on validation, trial 1 on test
        for tid, err, test in ((1, 30.0, 9.0), (2, 12.5, 20.0)):
            store.mark_running(tid, Recipe(epochs=3), device="cpu")
            store.finish(tid, "done", error=err, train_seconds=1.0,
                         metrics={"val_error": err, "test_error": test, "train_error": 1.0})
        store.mark_running(3, None)
        store.finish(3, "failed", message="boom")
    return out


def test_json_has_one_object_per_trial(run_dir, capsys):
    assert main(["ls", str(run_dir), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    assert [r["status"] for r in rows] == ["done", "done", "failed", "pending"]
    assert [r["error"] for r in rows] == [30.0, 12.5, None, None]
    assert [r["val_error"] for r in rows] == [30.0, 12.5, None, None]
    assert [r["test_error"] for r in rows] == [9.0, 20.0, None, None]
    first = rows[0]
    assert {"id", "status", "values", "flops", "params", "acts", "error", "origin", "hparams",
            "attempts"} <= set(first)
    assert first["values"]["resolution"] == 8 and first["values"]["stem"] == "cifar"
    assert isinstance(first["flops"], int) and first["attempts"] == 1


def test_filters_sort_and_limit(run_dir, capsys):
    assert main(["ls", str(run_dir), "--format", "json", "--status", "done", "--sort", "error"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [2, 1]
    assert main(["ls", str(run_dir), "--format", "json", "--sort", "error", "--limit", "3"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [2, 1, 3]
    assert main(["ls", str(run_dir), "--format", "json", "--sort", "test_error"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [1, 2, 3, 4]


def test_negative_limit_is_a_usage_error(run_dir, capsys):
    with pytest.raises(SystemExit) as info:
        main(["ls", str(run_dir), "--limit", "-1"])
    assert info.value.code == 2 and "must be >= 0" in capsys.readouterr().err


def test_csv_flattens_values(run_dir, capsys):
    assert main(["ls", str(run_dir), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 4 and rows[1]["error"] == "12.5" and rows[3]["error"] == ""
    assert (rows[1]["val_error"], rows[1]["test_error"], rows[3]["test_error"]) == ("12.5", "20.0", "")
    assert {"v.depth", "v.w0", "v.resolution", "flops"} <= set(rows[0])


def test_table(run_dir, capsys):
    assert main(["ls", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "val err %" in out and "test err %" in out
    assert "12.5" in out and "20" in out and "pending" in out and "depth" in out
    header = next(line for line in out.splitlines() if "val err %" in line)
    assert header.index("val err %") < header.index("test err %")


def test_folder_of_runs(run_dir, capsys):
    assert main(["ls", str(run_dir.parent), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["name"], row["trials"], row["done"], row["failed"]) == ("regnet_digits", 4, 2, 1)
    # the best trial is chosen on validation error; its test error is shown beside it
    assert (row["best_val_error"], row["best_test_error"]) == (12.5, 20.0)
    assert main(["ls", str(run_dir.parent)]) == 0
    out = capsys.readouterr().out
    assert "best val err %" in out and "its test err %" in out and "12.5" in out


def test_missing_run_is_exit_2(tmp_path, capsys):
    assert main(["ls", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nasx ls: error: ") and "no run here" in err and err.count("\n") == 1


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_every_format_works_as_a_shell_pipe(run_dir, fmt):
    """`nasx ls RUN --format F | head -3`: three clean lines, nothing on stderr."""
    proc = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m nasx ls "{run_dir}" --format {fmt} | head -3'],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    assert len(proc.stdout.splitlines()) == 3
    if fmt == "csv":
        assert proc.stdout.splitlines()[0].startswith("id,origin,status,attempts")


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_a_reader_that_went_away_is_a_quiet_exit(run_dir, fmt):
    """The reader closes the pipe before anything is written: no traceback, SIGPIPE's 141."""
    proc = subprocess.Popen([sys.executable, "-m", "nasx", "ls", str(run_dir), "--format", fmt],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and err == b""
