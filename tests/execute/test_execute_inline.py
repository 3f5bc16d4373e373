"""The inline executor and the store transitions, weights and resume rules shared by executors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import exec_fakes
import pytest
from exec_helpers import events, fake_run

from nasx.errors import StoreError, TrainError
from nasx.execute import ExecOptions, train_run
from nasx.execute.driver import driver_lock


def opts(scratch: Path, **kw: object) -> ExecOptions:
    return ExecOptions(executor="inline", progress=False,
                       overrides={"data_dir": str(scratch), "lr": 0.001}, **kw)


def test_trains_every_trial_once_and_keeps_top_k_weights(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 6)
    counts = train_run(store, opts(scratch, keep_weights=2), trial_fn=exec_fakes.ok_trial)
    assert counts == {"pending": 0, "running": 0, "done": 6, "failed": 0, "diverged": 0,
                      "pruned": 0}
    trials = store.trials()
    assert [t.attempts for t in trials] == [1] * 6
    assert [t.error for t in trials] == [(i * 7) % 10 + 1 for i in range(1, 7)]
    assert trials[0].recipe.data_dir == str(scratch)
    # errors 8, 5, 2, 9, 6, 3: the best two are trials 3 (2.0) and 6 (3.0)
    assert {t.id: t.weights for t in trials if t.weights} == {
        3: "weights/3.safetensors", 6: "weights/6.safetensors"}
    files = sorted(p.name for p in store.weights_dir.iterdir())
    assert files == ["3.safetensors", "6.safetensors"]
    assert (store.weights_dir / "3.safetensors").read_bytes() == b"weights of 3"
    # one DataCache for every trial of the session
    assert len({t.metrics["cache_id"] for t in trials}) == 1
    # a second session trains nothing
    before = events(scratch)
    assert train_run(store, opts(scratch), trial_fn=exec_fakes.ok_trial)["done"] == 6
    assert events(scratch) == before


def test_final_statuses_are_never_retrained_unless_failed_retry(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 6)
    counts = train_run(store, opts(scratch), trial_fn=exec_fakes.status_trial)
    assert (counts["done"], counts["diverged"], counts["failed"]) == (2, 2, 2)
    train_run(store, opts(scratch), trial_fn=exec_fakes.status_trial)
    assert len(events(scratch)) == 6
    train_run(store, opts(scratch, retry_failed=True), trial_fn=exec_fakes.status_trial)
    retried = [i for e, i in events(scratch)[6:]]
    assert retried == [2, 5]  # id % 3 == 2: the failed ones, and only them
    assert [store.get(i).attempts for i in (2, 5)] == [2, 2]


def test_stale_running_trials_are_requeued(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 3)
    store.mark_running(1, None)  # as if a driver died while training trial 1
    train_run(store, opts(scratch), trial_fn=exec_fakes.ok_trial)
    assert store.get(1).status == "done" and store.get(1).attempts == 2
    assert store.counts()["done"] == 3


def test_raising_trial_is_retried_then_failed(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 2)
    counts = train_run(store, opts(scratch, max_failures=1), trial_fn=exec_fakes.raising_trial)
    assert counts["failed"] == 2
    t = store.get(1)
    assert t.attempts == 2 and t.message == "RuntimeError: boom"
    assert [e for e, i in events(scratch) if i == 1] == ["raise", "raise"]


def test_only_given_trial_ids(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 4)
    counts = train_run(store, opts(scratch), trial_ids=[2, 4], trial_fn=exec_fakes.ok_trial)
    assert (counts["done"], counts["pending"]) == (2, 2)
    assert sorted({i for _, i in events(scratch)}) == [2, 4]


def test_bad_override_fails_before_anything_runs(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 2)
    bad = ExecOptions(executor="inline", progress=False, overrides={"epochs": 0})
    with pytest.raises(TrainError, match="epochs"):
        train_run(store, bad, trial_fn=exec_fakes.ok_trial)
    assert store.counts()["pending"] == 2 and events(scratch) == []


def test_options_are_validated():
    with pytest.raises(TrainError, match="executor"):
        ExecOptions(executor="spark")
    with pytest.raises(TrainError, match="cpus_per_trial"):
        ExecOptions(cpus_per_trial=0)


def test_one_driver_per_run(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 1)
    with driver_lock(store), pytest.raises(StoreError, match="another nasx driver"):
        train_run(store, opts(scratch), trial_fn=exec_fakes.ok_trial)


def test_weights_leftovers_are_swept(tmp_path, scratch):
    store = fake_run(tmp_path / "run", 2)
    store.weights_dir.mkdir()
    (store.weights_dir / "9.safetensors.tmp").write_bytes(b"half")
    (store.weights_dir / "7.safetensors").write_bytes(b"orphan")
    train_run(store, opts(scratch), trial_fn=exec_fakes.ok_trial)
    assert sorted(p.name for p in store.weights_dir.iterdir()) == ["1.safetensors",
                                                                   "2.safetensors"]
    db = sqlite3.connect(store.root / "run.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_importing_execute_and_its_verbs_pulls_neither_ray_nor_torch():
    import subprocess
    import sys

    code = ("import sys, nasx.execute, nasx.cli.train, nasx.cli.run, nasx.cli.demo; "
            "print('ray' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_file_where_the_weights_folder_should_be_stops_before_training(tmp_path, scratch,
                                                                         capsys):
    from nasx.cli.main import main

    store = fake_run(tmp_path / "run", 2)
    (tmp_path / "run" / "weights").write_text("not a folder")
    with pytest.raises(StoreError, match=r"weights: is in the way of the weights folder"):
        train_run(store, opts(scratch), trial_fn=exec_fakes.ok_trial)
    assert events(scratch) == [] and store.counts()["pending"] == 2
    # the CLI: one line, exit 2, nothing trained
    assert main(["train", str(tmp_path / "run"), "--executor", "inline", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--keep-weights 0" in err[0] and err[0].startswith("nasx train: error")
    assert store.counts()["pending"] == 2
    # keeping no weights needs no folder: the run trains and the file is left alone
    counts = train_run(store, opts(scratch, keep_weights=0), trial_fn=exec_fakes.ok_trial)
    assert counts["done"] == 2
    assert (tmp_path / "run" / "weights").read_text() == "not a folder"


def test_resume_reports_best_trials_without_weights(tmp_path, scratch, capsys):
    store = fake_run(tmp_path / "run", 6)
    train_run(store, opts(scratch, keep_weights=0), trial_fn=exec_fakes.ok_trial)
    assert not store.weights_dir.exists() and capsys.readouterr().err == ""
    # errors 8, 5, 2, 9, 6, 3: the best two (3 and 6) were trained without keeping weights
    train_run(store, opts(scratch, keep_weights=2), trial_fn=exec_fakes.ok_trial)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"nasx: note: trials 3, 6 of the best 2 hold no weights; `nasx export "
                   f"{store.root} --trial ID --train --out DIR` trains one again"]


def test_resume_forgets_missing_files_and_trims_to_k(tmp_path, scratch, capsys):
    store = fake_run(tmp_path / "run", 6)
    train_run(store, opts(scratch, keep_weights=2), trial_fn=exec_fakes.ok_trial)
    assert {t.id for t in store.trials() if t.weights} == {3, 6}
    (store.weights_dir / "6.safetensors").unlink()  # lost by hand
    # as if killed between a winner's done transaction and the eviction of a loser: K + 1 named
    (store.weights_dir / "2.safetensors").write_bytes(b"weights of 2")
    (store.weights_dir / "1.safetensors").write_bytes(b"weights of 1")
    store.set_weights(2, "weights/2.safetensors")
    store.set_weights(1, "weights/1.safetensors")
    capsys.readouterr()
    train_run(store, opts(scratch, keep_weights=2), trial_fn=exec_fakes.ok_trial)
    # named: 3 (2.0), 2 (5.0), 1 (8.0) -> trimmed to 3 and 2; 6 (3.0) lost its file
    assert {t.id: t.weights for t in store.trials() if t.weights} == {
        3: "weights/3.safetensors", 2: "weights/2.safetensors"}
    assert sorted(p.name for p in store.weights_dir.iterdir()) == ["2.safetensors",
                                                                   "3.safetensors"]
    err = capsys.readouterr().err.strip()
    assert err == (f"nasx: note: trial 6 of the best 2 holds no weights (files of 6 are missing);"
                   f" `nasx export {store.root} --trial ID --train --out DIR` trains one again")


def test_an_unwritable_weights_file_keeps_the_run_going(tmp_path, scratch, capsys, monkeypatch):
    import nasx.execute.weights as weights

    def full(path: Path, data: bytes, **_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(weights, "atomic_write_bytes", full)
    store = fake_run(tmp_path / "run", 3)
    counts = train_run(store, opts(scratch, keep_weights=1), trial_fn=exec_fakes.ok_trial)
    assert counts["done"] == 3 and not any(t.weights for t in store.trials())
    err = capsys.readouterr().err
    assert "trial 1: weights not kept: cannot write" in err and "No space left" in err


def test_train_with_a_missing_data_folder_exits_1_with_the_reason_on_one_line(tmp_path, capsys):
    from nasx.cli.main import main
    from nasx.sample import create_run

    space = Path(__file__).resolve().parents[2] / "spaces" / "regnet_digits.yaml"
    create_run(space, n=2, seed=0, out=tmp_path / "run", progress=False)[0].close()
    rc = main(["train", str(tmp_path / "run"), "--executor", "inline", "--no-progress",
               "--data", "cifar10", "--data-dir", "/nonexistent", "--epochs", "1"])
    out, err = capsys.readouterr()
    assert rc == 1 and "2 failed of 2" in out
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("nasx: 2 of 2 trials failed: /nonexistent: key 'data_dir': no such"
                               " folder; expected CIFAR-10")
    assert lines[1] == (f"nasx: fix the cause, then `nasx train {tmp_path / 'run'} --retry-failed`"
                        " trains the failed trials again")


@pytest.mark.parametrize(("fn", "code", "failed"), [
    (exec_fakes.status_trial, 1, 2),  # 2 done, 2 diverged, 2 failed
    (exec_fakes.ok_trial, 0, 0),
])
def test_exit_status_counts_failed_not_diverged(tmp_path, scratch, capsys, monkeypatch, fn, code,
                                                failed):
    import functools

    import nasx.execute
    from nasx.cli.train import train_and_summarise

    monkeypatch.setattr(nasx.execute, "train_run", functools.partial(train_run, trial_fn=fn))
    store = fake_run(tmp_path / "run", 6)
    assert train_and_summarise(store, opts(scratch)) == code
    out, err = capsys.readouterr()
    if failed:
        assert "2 done, 2 failed, 2 diverged of 6" in out
        assert err.splitlines()[0] == "nasx: 2 of 6 trials failed: failed"
    else:
        assert "6 done of 6" in out and err == ""
    # a later session that trains nothing still tells the truth about the run
    assert train_and_summarise(store, opts(scratch)) == code


def test_failure_summary_one_line_per_distinct_message():
    from types import SimpleNamespace

    from nasx.execute.progress import failure_summary

    msgs = ["boom"] * 3 + ["Traceback\n  line 1\n\tRuntimeError: x\x1b[31m"] + [
        f"m{i}" for i in range(6)] + ["y" * 1000]
    trials = [SimpleNamespace(status="failed", message=m) for m in msgs]
    trials.append(SimpleNamespace(status="diverged", message="loss is nan"))
    lines = failure_summary(trials, 20, "nasx train r --retry-failed", most=3)
    assert lines[0] == "11 of 20 trials failed, 9 distinct reasons:"
    assert lines[1] == "  3 x boom"
    assert lines[2] == "  1 x Traceback line 1 RuntimeError: x\\x1b[31m"  # control code escaped
    assert lines[3] == "  1 x m0"
    assert lines[4] == ("  6 x other reasons (6 distinct; nasx ls --format json shows every"
                        " message)")
    assert lines[5] == "fix the cause, then `nasx train r --retry-failed` trains the failed trials again"
    assert len(lines) == 6 and all("\n" not in x and len(x) < 320 for x in lines)
    one = failure_summary(trials[:1], 1, "R")
    assert one[0] == "1 of 1 trial failed: boom"
    assert failure_summary(trials[-1:], 1, "R") == []  # diverged is not a failure
