"""The train / run / demo verbs end to end with real (tiny) training on the digits."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.store import RunStore

REPO = Path(__file__).resolve().parents[2]
SPACE = str(REPO / "spaces" / "regnet_digits.yaml")


def test_train_errors_are_one_line(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nasx train: error:") and "no run here" in err and "\n" not in err
    assert main(["train", str(tmp_path / "nope"), "--max-failures", "-1"]) == 2
    assert "max_failures" in capsys.readouterr().err


@pytest.mark.slow
def test_run_trains_then_resumes_without_retraining(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", SPACE, "--n", "2", "--epochs", "1", "--executor", "inline", "--out", str(out),
            "--keep-weights", "1", "--no-progress", "--threads", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "sampled 2 architectures" in printed and "2 done of 2" in printed
    with RunStore.open(out) as store:
        trials = store.trials()
        assert [t.status for t in trials] == ["done", "done"]
        assert all(0 <= t.error <= 100 and t.recipe.epochs == 1 for t in trials)
        kept = [t for t in trials if t.weights]
        assert len(kept) == 1 and kept[0].error == min(t.error for t in trials)
        from safetensors import safe_open

        with safe_open(str(out / kept[0].weights), "np") as f:
            assert len(list(f.keys())) > 0
        finished = [t.finished_at for t in trials]
    assert main(argv) == 0  # the same command again: reuses the run, trains nothing
    assert "reusing 2 architectures" in capsys.readouterr().out
    with RunStore.open(out) as store:
        assert [t.finished_at for t in store.trials()] == finished
        assert [t.attempts for t in store.trials()] == [1, 1]


@pytest.mark.slow
def test_demo_writes_the_report(tmp_path, capsys):
    argv = ["demo", "--n", "2", "--epochs", "1", "--executor", "inline", "--no-progress", "--threads", "1",
            "--out", str(tmp_path / "demo"), "--report", str(tmp_path / "report")]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "2 done of 2" in printed
    try:
        import nasx.report  # noqa: F401
    except ImportError:
        assert "no report written" in printed
    else:
        index = Path(printed.strip().splitlines()[-1].removeprefix("report: "))
        assert index.is_file() and index.is_relative_to(tmp_path / "report")
