"""Bad exports: one-line errors (exit 2 from the CLI) and nothing half-written left behind."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

import nasx.export.trial as trial_mod
from nasx.cli.main import main
from nasx.errors import ExportError
from nasx.export import export_trial, knee, pareto_front
from nasx.store.run_store import RunStore


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["export", *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(("args", "message"), [
    (["--trial", "4"], "key '--trial': trial 4 failed: RuntimeError: boom; nothing to export"),
    (["--trial", "99"], "key '--trial': no trial with id 99 in this run"),
    (["--trial", "1", "--format", "yaml,pt"], "key '--format': must be a comma-separated subset"
     " of yaml,safetensors,torchscript,onnx, got pt"),
    (["--trial", "1", "--epochs", "2"], "key '--epochs': --epochs only applies with --train"),
    (["--trial", "1", "--device", "cpu"], "key '--device': --device only applies with --train"),
])
def test_cli_errors_are_one_line_exit_2(run_dir, tmp_path, capsys, args, message):
    code, out, err = _cli(capsys, str(run_dir), *args, "--out", str(tmp_path / "x"))
    assert code == 2 and out == ""
    assert err.startswith("nasx export: error: ") and err.count("\n") == 1
    assert message in err
    assert _only(tmp_path) == []


def test_unknown_run_is_one_line(tmp_path, capsys):
    code, _, err = _cli(capsys, str(tmp_path / "nope"), "--best", "--out", str(tmp_path / "x"))
    assert code == 2 and "no run here" in err and err.count("\n") == 1


def test_unwritable_folder(run_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")  # root ignores chmod; a file parent cannot be
    code, _, err = _cli(capsys, str(run_dir), "--trial", "1", "--format", "yaml",
                        "--out", str(blocker / "sub" / "out"))
    assert code == 2 and err.count("\n") == 1
    assert f"cannot create folder {blocker / 'sub'}: a file is in the way" in err
    assert _only(tmp_path) == ["file"]


def test_existing_folder_is_not_overwritten(run_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = _cli(capsys, str(run_dir), "--trial", "1", "--out", str(out))
    assert code == 2 and "already exists and is not an empty folder" in err
    assert _only(out) == ["keep.txt"] and _only(tmp_path) == ["out"]


def test_failure_mid_export_leaves_nothing(run_dir, tmp_path, monkeypatch):
    def broken(*args: object) -> bool:
        raise ExportError("ONNX export failed: simulated")

    import dataclasses

    from nasx.export import formats

    onnx = dataclasses.replace(formats.EXPORT_FORMATS["onnx"], write=broken)
    monkeypatch.setattr(trial_mod, "EXPORT_FORMATS", {**formats.EXPORT_FORMATS, "onnx": onnx})
    with pytest.raises(ExportError, match="simulated"):
        export_trial(run_dir, 1, out=tmp_path / "out")
    assert _only(tmp_path) == []


def test_trial_without_weights_says_so(run_dir, tmp_path, capsys):
    code, out, _ = _cli(capsys, str(run_dir), "--trial", "3", "--out", str(tmp_path / "t3"))
    assert code == 0
    assert _only(tmp_path / "t3") == ["provenance.json", "spec.yaml"]
    assert "note: trial 3 kept no weights" in out and "--train" in out
    doc = json.loads((tmp_path / "t3" / "provenance.json").read_text())
    assert doc["skipped"] == ["safetensors", "torchscript", "onnx"] and doc["weights"] is None


def test_train_then_export(run_dir, tmp_path):
    out = export_trial(run_dir, 3, formats="yaml,safetensors", out=tmp_path / "t3", train=True,
                       epochs=1)
    assert _only(out) == ["provenance.json", "spec.yaml", "weights.safetensors"]
    doc = json.loads((out / "provenance.json").read_text())
    assert doc["weights"]["source"] == "trained by export"
    assert doc["weights"]["recipe"]["epochs"] == 1 and doc["weights"]["recipe"]["data"] == "digits"
    assert 0.0 <= doc["weights"]["error"] <= 100.0


def test_best_pareto_and_its_knee(run_dir, tmp_path, capsys):
    code, out, _ = _cli(capsys, str(run_dir), "--best", "--objective", "pareto", "--format",
                        "yaml", "--out", str(tmp_path / "p"))
    assert code == 0 and "knee of the (validation error, flops) Pareto front" in out
    doc = json.loads((tmp_path / "p" / "provenance.json").read_text())
    with RunStore.open(run_dir) as store:
        done = store.trials("done")
    assert doc["selection"]["pareto_front"] == [t.id for t in pareto_front(done)]
    assert doc["trial"]["id"] == knee(pareto_front(done)).id

    # Synthetic front: (flops, error) = (1, 30) (2, 12) (3, 11) (4, 10) and a dominated (3, 20).
    base = done[0]
    pts = [(1, 30.0), (2, 12.0), (3, 11.0), (4, 10.0), (3, 20.0)]
    recs = [replace(base, id=i + 1, flops=f, error=e) for i, (f, e) in enumerate(pts)]
    front = pareto_front(recs)
    assert [t.id for t in front] == [1, 2, 3, 4]
    assert knee(front).id == 2  # the elbow, not the lowest error (id 4)
    assert knee(front[2:]).id == 4  # fewer than three points: lowest error


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_read_only_folder(run_dir, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _, err = _cli(capsys, str(run_dir), "--trial", "1", "--out", str(ro / "x"))
    finally:
        ro.chmod(0o755)
    assert code == 2 and f"cannot write into {ro}" in err and err.count("\n") == 1
    assert _only(ro) == []
