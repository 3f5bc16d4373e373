"""`nasx ls`: JSON, CSV and table listings of a run's trials, and of a folder of runs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.sample import create_run

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_dir(tmp_path):
    out = tmp_path / "runs" / "digits"
    store, _ = create_run(REPO / "spaces" / "regnet_digits.yaml", n=4, seed=0, out=out,
                          progress=False)
    with store:
        for tid, err in ((1, 30.0), (2, 12.5)):
            store.mark_running(tid, {"epochs": 3}, device="cpu")
            store.finish(tid, "done", error=err, train_seconds=1.0)
        store.mark_running(3, {})
        store.finish(3, "failed", message="boom")
    return out


def test_json_has_one_object_per_trial(run_dir, capsys):
    assert main(["ls", str(run_dir), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    assert [r["status"] for r in rows] == ["done", "done", "failed", "pending"]
    assert [r["error"] for r in rows] == [30.0, 12.5, None, None]
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


def test_csv_flattens_values(run_dir, capsys):
    assert main(["ls", str(run_dir), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 4 and rows[1]["error"] == "12.5" and rows[3]["error"] == ""
    assert {"v.depth", "v.w0", "v.resolution", "flops"} <= set(rows[0])


def test_table(run_dir, capsys):
    assert main(["ls", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "error(%)" in out and "12.5" in out and "pending" in out and "depth" in out


def test_folder_of_runs(run_dir, capsys):
    assert main(["ls", str(run_dir.parent), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["name"], row["trials"], row["done"], row["failed"], row["best_error"]) == (
        "regnet_digits", 4, 2, 1, 12.5)


def test_missing_run_is_exit_2(tmp_path, capsys):
    assert main(["ls", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nasx ls: error: ") and "no run here" in err and err.count("\n") == 1
