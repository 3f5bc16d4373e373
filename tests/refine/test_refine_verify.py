"""nasx narrow --verify: trains N models of the narrowed space with the parent's recipe into a new
run, prints a verdict from the report's machinery, and resumes after a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.space import load_space
from nasx.store import RunStore
from nasx.train import population
from nasx.train.recipe import resolve_recipe


@pytest.fixture()
def parent(tmp_path: Path, space_file: Path, fill) -> Path:
    """40 models of the tiny space with synthetic validation errors; the population's recipe is
    the space's with --epochs 1 (recorded as a first `nasx train --epochs 1` records it)."""
    from nasx.sample import create_run

    out = tmp_path / "runs" / "parent"
    store, _ = create_run(space_file, n=40, seed=1, out=out, progress=False)
    fill(store, validation=True)
    recipe = resolve_recipe(load_space(space_file).train_fixed, None, {"epochs": 1}).to_dict()
    store.set_meta(**{population.META_KEY: recipe})
    store.close()
    return out


def _args(parent: Path, out: Path, n: int) -> list[str]:
    return ["narrow", str(parent), "--out", str(out), "--boot", "200", "--verify", str(n),
            "--executor", "inline", "--no-progress", "--keep-weights", "0"]


def _done(run: Path) -> dict[int, float | None]:
    if not (run / "run.db").exists():
        return {}
    with RunStore.open(run, readonly=True) as store:
        return {t.id: t.finished_at for t in store.trials("done")}


def test_verify_is_killed_and_resumes_with_the_parents_recipe(parent: Path, tmp_path: Path,
                                                              monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the report goes to reports/ here
    out, child = tmp_path / "narrowed.yaml", tmp_path / "runs" / "narrowed"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "nasx", *_args(parent, out, 4)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=tmp_path)
    deadline = time.monotonic() + 300
    while not _done(child) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)  # one trial is committed: kill it in the middle
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    before = _done(child)
    assert out.exists() and 1 <= len(before) < 4
    assert main(_args(parent, out, 4)) == 0  # the same command resumes
    printed = capsys.readouterr().out
    assert "reusing" in printed and "resuming --verify" in printed
    after = _done(child)
    assert len(after) == 4 and {k: after[k] for k in before} == before  # none trained again
    assert "the narrowed space is" in printed
    verdict = next(line for line in printed.splitlines() if "the narrowed space is" in line)
    with RunStore.open(parent, readonly=True) as p, RunStore.open(child, readonly=True) as c:
        sampled = tuple(load_space(p.space_path).train_dists)
        assert c.run_recipe()["epochs"] == 1  # the parent's --epochs 1, not the space's
        assert population.same(c.run_recipe(), p.run_recipe(), sampled)
    summary = json.loads((tmp_path / "reports" / "parent__vs__narrowed" / "summary.json")
                         .read_text())
    assert len(summary["runs"]) == 2 and len(summary["comparisons"]) == 1  # EDFs together
    said = summary["comparisons"][0]  # the plain comparison's numbers and the verdict's
    better = said["significant_conclusion"] and said["better_conclusion"] == "narrowed"
    assert verdict.startswith("the narrowed space is better" if better else
                              "the narrowed space is not better")
    assert said["headline"] in verdict  # the report's own verdict, word for word


def test_verify_takes_no_recipe_flag_and_at_least_2_models(parent: Path, tmp_path: Path,
                                                           capsys):
    out = tmp_path / "n.yaml"
    with pytest.raises(SystemExit) as e:  # argparse: narrow has no recipe flags at all
        main([*_args(parent, out, 4), "--epochs", "3"])
    assert e.value.code == 2 and "--epochs" in capsys.readouterr().err
    assert main(_args(parent, out, 1)) == 2
    err = capsys.readouterr().err.strip()
    assert "must be >= 2 models" in err and "\n" not in err and not out.exists()
