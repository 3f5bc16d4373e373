"""`nasx report` through the CLI: outputs, one-line errors (exit 2, nothing written), atomicity."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from synth_runs import make_run

import nasx.fsutil as fsutil
import nasx.report.write as report_write
from nasx.analysis import read_runs, summarize
from nasx.cli.main import main
from nasx.store.run_store import RunStore


def _one_line_error(capsys, argv: list[str], pattern: str) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("nasx report: error: ")
    assert "Traceback" not in err and pattern in err


def test_single_trial_report_with_default_out(tmp_path, monkeypatch, capsys):
    run = make_run(tmp_path / "runs" / "solo", "solo", n=1, seed=4)
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(run), "--normalize", "none", "--seed", "1"]) == 0
    verdict, printed = capsys.readouterr().out.strip().splitlines()
    assert printed == str((tmp_path / "reports" / "solo" / "index.html").absolute())
    assert verdict.startswith("solo: 1 finished sampled models, median validation error ")
    summary = json.loads((tmp_path / "reports" / "solo" / "summary.json").read_text())
    (r,) = summary["runs"]
    assert r["edf"]["n"] == 1 and r["edf"]["F"] == [0.0] and r["edf"]["F_after"] == [1.0]
    assert "normalized" not in r and summary["comparisons"] == []
    assert r["best_of_k"] == [{"k": 1, "mean": r["edf"]["x"][0], "std": 0.0,
                               "p2.5": r["edf"]["x"][0], "p50": r["edf"]["x"][0],
                               "p97.5": r["edf"]["x"][0]}]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["solo"]


def test_empty_run_via_subprocess(tmp_path):
    RunStore.create(tmp_path / "empty", "name: empty\n", {"name": "empty"}).close()
    out = tmp_path / "rep"
    res = subprocess.run([sys.executable, "-m", "nasx", "report", str(tmp_path / "empty"),
                          "--out", str(out)], capture_output=True, text=True, timeout=120,
                         check=False)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "the run has no trials" in res.stderr and not out.exists()


def test_unanalysable_runs_are_one_line_errors(tmp_path, capsys):
    unfinished = make_run(tmp_path / "u", "u", n=0, n_failed=1, n_diverged=1, n_pending=2)
    a = make_run(tmp_path / "a", "a", n=5, seed=1)
    other = make_run(tmp_path / "o", "o", n=5, seed=2, data="synthetic")
    out = tmp_path / "reports" / "x"
    _one_line_error(capsys, ["report", str(unfinished), "--out", str(out)],
                    "no finished (done) trial")
    _one_line_error(capsys, ["report", str(a), str(other), "--out", str(out)],
                    "runs a and o cannot be compared")
    _one_line_error(capsys, ["report", str(tmp_path / "nope"), "--out", str(out)], "no run here")
    _one_line_error(capsys, ["report", str(a), "--bins", "0", "--out", str(out)], "--bins")
    assert not (tmp_path / "reports").exists()


def test_failed_write_leaves_nothing_and_keeps_old_report(tmp_path, monkeypatch):
    run = make_run(tmp_path / "r", "r", n=8, n_failed=2, seed=5)
    monkeypatch.setattr(report_write, "page_of", lambda summary, built: "<html>v1</html>")
    out = tmp_path / "rep"
    index = report_write.write_report([run], out=out)
    assert index.read_text() == "<html>v1</html>"

    def boom(tmp, target, **_):
        raise OSError("disk full")

    monkeypatch.setattr(fsutil, "install_folder", boom)
    with pytest.raises(OSError):
        report_write.write_report([run], out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r", "rep"]  # no temp folder left
    assert index.read_text() == "<html>v1</html>"
    monkeypatch.undo()
    monkeypatch.setattr(report_write, "page_of", lambda summary, built: "<html>v2</html>")
    report_write.write_report([run], out=out)
    assert index.read_text() == "<html>v2</html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r", "rep"]


def test_params_normalisation_and_default_names(tmp_path):
    a = make_run(tmp_path / "a", "a", n=40, seed=1)
    b = make_run(tmp_path / "b", "b", n=30, seed=2)
    s = summarize(read_runs([a, b]), normalize="params", bins=5).to_json()
    (c,) = s["comparisons"]
    assert s["settings"]["normalize"] == "params"
    assert c["normalized"]["params"]["K"] == 5 and c["normalized"]["flops"]["K"] == 5
    if c["carried_by"] == "normalized":
        assert c["normalized_by"] == ["params"]
    assert str(report_write.default_out(["a", "b"])) == "reports/a__vs__b"
    assert str(report_write.default_out(["x/y"])) == "reports/x_y"
