"""create_run: run folders written whole or not at all; re-runs are no-ops or errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nasx.errors import SamplingError, SpaceError, StoreError
from nasx.sample import create_run, sample_space
from nasx.space import load_space

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "spaces" / "regnet_digits.yaml"


@pytest.fixture
def space_file(tmp_path):
    path = tmp_path / "regnet_digits.yaml"
    shutil.copy(DIGITS, path)
    return path


def test_writes_the_run(space_file, tmp_path):
    out = tmp_path / "runs" / "r"
    store, s = create_run(space_file, n=6, seed=4, out=out, progress=False)
    with store:
        assert (s.name, s.n, s.seed, s.accepted, s.existed) == ("regnet_digits", 6, 4, 6, False)
        assert s.attempts >= 6 and s.flops[0] <= s.flops[1] <= 1_500_000
        assert (out / "space.yaml").read_bytes() == space_file.read_bytes()
        meta = store.meta()
        assert {k: meta[k] for k in ("name", "family", "seed", "n")} == {
            "name": "regnet_digits", "family": "regnet", "seed": 4, "n": 6}
        assert meta["space_file"] == str(space_file)
        assert meta["space_sha256"] == load_space(space_file).sha256
        # the recipe's source is the space copy (meta holds no second copy of it)
        assert meta["nasx_version"] and "train" not in meta
        assert load_space(store.space_path).train_fixed["epochs"] == 5
        assert [t.status for t in store.trials()] == ["pending"] * 6
    assert sorted(p.name for p in out.parent.iterdir()) == ["r"]  # no temp folder left


def test_default_out_and_n_from_the_space(space_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store, s = create_run(space_file, progress=False)
    store.close()
    assert s.out == Path("runs") / "regnet_digits" and s.accepted == 32


def test_same_run_again_is_a_no_op(space_file, tmp_path):
    out = tmp_path / "r"
    store, _ = create_run(space_file, n=4, out=out, progress=False)
    store.close()
    before = (out / "run.db").read_bytes()
    store, s = create_run(space_file, n=4, out=out, progress=False)
    store.close()
    assert s.existed and s.accepted == 4
    assert (out / "run.db").read_bytes() == before


@pytest.mark.parametrize("change", [{"n": 5}, {"seed": 1}, {"edit": True}])
def test_a_different_run_in_the_folder_is_an_error(space_file, tmp_path, change):
    out = tmp_path / "r"
    store, _ = create_run(space_file, n=4, out=out, progress=False)
    store.close()
    before = (out / "run.db").read_bytes()
    if change.pop("edit", False):
        space_file.write_text(space_file.read_text() + "# edited\n")
    with pytest.raises(StoreError, match="holds a different run"):
        create_run(space_file, **{"n": 4, **change}, out=out, progress=False)
    assert (out / "run.db").read_bytes() == before


def test_failure_writes_nothing(space_file, tmp_path):
    space_file.write_text(space_file.read_text().replace("flops: [null, 1.5M]", "flops: [1G, null]"))
    out = tmp_path / "runs" / "r"
    with pytest.raises(SamplingError, match="found only 0 of 3"):
        create_run(space_file, n=3, out=out, progress=False, max_attempts=500)
    assert not out.exists() and not (tmp_path / "runs").exists()


def test_bad_inputs(space_file, tmp_path):
    with pytest.raises(SamplingError, match=r"key 'n': must be in \[1, 100000\], got 0"):
        create_run(space_file, n=0, out=tmp_path / "a", progress=False)
    with pytest.raises(SamplingError, match=r"key 'seed': must be in \[0, \d+\], got -2"):
        create_run(space_file, seed=-2, out=tmp_path / "a", progress=False)
    with pytest.raises(SpaceError, match="no such space file"):
        create_run(tmp_path / "missing.yaml", out=tmp_path / "a", progress=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a nasx run"):
        create_run(space_file, n=2, out=tmp_path / "full", progress=False)
    assert not (tmp_path / "a").exists()


def test_empty_target_folder_is_used(space_file, tmp_path):
    (tmp_path / "empty").mkdir()
    store, s = create_run(space_file, n=2, out=tmp_path / "empty", progress=False)
    store.close()
    assert s.accepted == 2


def test_more_samples_add_new_trials(space_file, tmp_path):
    import numpy as np

    store, _ = create_run(space_file, n=4, out=tmp_path / "r", progress=False)
    with store:
        more = sample_space(load_space(space_file), 3, np.random.default_rng(9),
                            exclude=store.fingerprints(), origin="refine")
        ids = store.add_trials(more.trials)
        assert ids == [5, 6, 7]
        assert [t.origin for t in store.trials()] == ["sampled"] * 4 + ["refine"] * 3
        assert len(store.fingerprints()) == 7


def test_interrupted_write_leaves_nothing(space_file, tmp_path, monkeypatch):
    from nasx.store import RunStore

    def boom(self, trials):
        raise KeyboardInterrupt

    monkeypatch.setattr(RunStore, "add_trials", boom)
    with pytest.raises(KeyboardInterrupt):
        create_run(space_file, n=2, out=tmp_path / "runs" / "r", progress=False)
    assert list((tmp_path / "runs").iterdir()) == []


def test_folder_filled_meanwhile_is_a_store_error(space_file, tmp_path, monkeypatch):
    import nasx.sample.run as run_mod

    out = tmp_path / "r"
    real = run_mod._check_target

    def racing(target, *args):  # another process writes the folder after our check
        found = real(target, *args)
        target.mkdir()
        (target / "other.txt").write_text("theirs")
        return found

    monkeypatch.setattr(run_mod, "_check_target", racing)
    with pytest.raises(StoreError, match="cannot move the new run into place"):
        create_run(space_file, n=2, out=out, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r", "regnet_digits.yaml"]
    assert [p.name for p in out.iterdir()] == ["other.txt"]


def test_a_kill_while_writing_leaves_a_temp_folder_that_the_next_sample_removes(space_file,
                                                                                 tmp_path):
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "runs" / "r"
    # a real sampler process, SIGKILLed by itself in the middle of writing its temporary run
    code = ("import os, signal, sys\n"
            "from nasx.store import RunStore\n"
            "RunStore.add_trials = lambda self, t: os.kill(os.getpid(), signal.SIGKILL)\n"
            "from nasx.sample import create_run\n"
            "create_run(sys.argv[1], n=3, out=sys.argv[2], progress=False)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(space_file), str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = [p.name for p in out.parent.iterdir()]
    assert len(left) == 1 and left[0].startswith(".r.tmp-")
    pid = int(left[0].rsplit("-", 1)[1])
    # temp folders that are not a dead sampler's run are kept: a live PID, foreign content
    live = out.parent / f".r.tmp-{os.getppid()}"
    live.mkdir()
    foreign = out.parent / f".r.tmp-{pid}0"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    other = out.parent / f".other.tmp-{pid}"
    other.mkdir()

    store, s = create_run(space_file, n=3, out=out, progress=False)
    store.close()
    assert s.accepted == 3 and not s.existed
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(
        ["r", live.name, foreign.name, other.name])
