"""`nasx report A B`: the printed one-line verdict names its confounds; reports are written to a
folder named after the runs and never silently over another run's report."""

from __future__ import annotations

import json
import subprocess
import sys

from synth_runs import make_run

import nasx.report.write as report_write
from nasx.cli.main import main


def _one_line_error(capsys, argv: list[str], pattern: str) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("nasx report: error: ")
    assert "Traceback" not in captured.err and pattern in captured.err, captured.err
    return captured.err


def test_resolution_difference_is_named_in_the_printed_verdict(tmp_path, monkeypatch, capsys):
    make_run(tmp_path / "runs" / "regnet_digits", "regnet_digits", n=30, seed=1,
             resolution=8, flops_range=(1e5, 1.5e6))
    make_run(tmp_path / "runs" / "anynet_digits", "anynet_digits", n=30, seed=2,
             resolution=16, flops_range=(1e6, 1e7), n_other=2)
    monkeypatch.chdir(tmp_path)
    assert main(["report", "runs/regnet_digits", "runs/anynet_digits"]) == 0
    head, verdict, path = capsys.readouterr().out.splitlines()
    out = tmp_path / "reports" / "regnet_digits__vs__anynet_digits"
    assert path == str(out / "index.html")
    assert head.startswith("regnet_digits vs anynet_digits: ") and "KS normalised by" in head
    assert verdict.startswith("The complexity-normalised comparison carries the conclusion,"
                              " because their flops ranges barely overlap")
    assert "input resolution differs (8 px vs 16 px)" in verdict
    assert ("anynet_digits: 2 trials trained with another recipe (epochs 3 -> 5) are shown apart"
            in verdict)
    summary = json.loads((out / "summary.json").read_text())
    (c,) = summary["comparisons"]
    assert c["verdict"] == verdict and c["carried_by"] == "normalized"
    assert c["headline"] == head
    assert summary["settings"]["error"] == "validation top-1 error (%)"
    assert summary["report_of"] == [str((tmp_path / "runs" / n).resolve())
                                    for n in ("regnet_digits", "anynet_digits")]
    html = (out / "index.html").read_text()
    assert "input resolution differs (8 px vs 16 px)" in html
    assert "test error (not used to rank)" in html and "validation top-1 error (%)" in html


def test_the_same_run_twice_is_one_line(tmp_path, capsys):
    a = make_run(tmp_path / "a", "a", n=5, seed=1)
    _one_line_error(capsys, ["report", str(a), str(a)], "the same run is given twice")
    res = subprocess.run([sys.executable, "-m", "nasx", "report", str(a), f"{tmp_path}/./a"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "reports").exists()


def test_never_silently_over_another_runs_report(tmp_path, monkeypatch, capsys):
    # Two runs of one space (same name) in different folders: reports named after the folders.
    a = make_run(tmp_path / "runs" / "regnet", "regnet", n=6, seed=1)
    b = make_run(tmp_path / "runs" / "regnet_seed2", "regnet", n=6, seed=2)
    monkeypatch.chdir(tmp_path)
    # The figures are beside the point here (and slow): a page that names its runs.
    monkeypatch.setattr(report_write, "page_of", lambda s, built: " ".join(s.report_of))
    assert main(["report", str(a)]) == 0 and main(["report", str(b)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["regnet", "regnet_seed2"]
    first = (tmp_path / "reports" / "regnet" / "index.html").read_text()
    assert main(["report", str(a)]) == 0  # the same run again replaces its own report
    capsys.readouterr()
    out = tmp_path / "reports" / "regnet"
    _one_line_error(capsys, ["report", str(b), "--out", str(out)],
                    "holds the report of " + str(a.resolve()))
    assert (out / "index.html").read_text() == first
    assert main(["report", str(b), "--out", str(out), "--force"]) == 0
    capsys.readouterr()
    assert json.loads((out / "summary.json").read_text())["report_of"] == [str(b.resolve())]
    # A folder that is not a report is never replaced, not even with --force.
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    _one_line_error(capsys, ["report", str(a), "--out", str(mine), "--force"],
                    "not a nasx report")
    assert (mine / "notes.txt").read_text() == "keep me"
