"""``nasx proxies`` on a tiny run: the table, resumability, errors, the correlation ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasx.analysis.proxies import proxy_table
from nasx.cli.main import main
from nasx.store import RunStore
from nasx.store.proxies import get_proxies

SPACE = Path(__file__).parents[1] / "refine" / "anynet_tiny.yaml"
ALL = {"synflow", "snip", "grad_norm", "jacob_cov", "naswot", "zico", "params", "flops"}


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    """6 sampled models of the tiny digits space, nothing trained."""
    from nasx.sample import create_run

    out = tmp_path / "run"
    store, _ = create_run(SPACE, n=6, seed=0, out=out, progress=False)
    store.close()
    return out


def fake_errors(root: Path) -> dict[int, float]:
    """Mark every trial done with an error that falls with its parameter count."""
    with RunStore.open(root) as store:
        errors = {t.id: 50.0 - t.params / 1000 for t in store.trials()}
        for tid, err in errors.items():
            store.mark_running(tid, None)
            store.finish(tid, "done", error=err, metrics={})
    return errors


def test_read_only_run_without_table_has_no_proxies(run: Path) -> None:
    with RunStore.open(run, readonly=True) as store:
        assert get_proxies(store) == {}


def test_computes_every_proxy_then_nothing(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxies", str(run), "--batch-size", "16", "--no-progress"]) == 0
    assert "proxies of 6 trials computed, 0 failed" in capsys.readouterr().out
    with RunStore.open(run, readonly=True) as store:
        got = get_proxies(store)
        params = {t.id: t.params for t in store.trials()}
    assert sorted(got) == sorted(params)
    assert all(set(v) == ALL for v in got.values())
    assert all(got[i]["params"] == params[i] for i in params)
    assert main(["proxies", str(run), "--no-progress"]) == 0  # resumed: nothing left
    assert "proxies of 0 trials computed" in capsys.readouterr().out
    with RunStore.open(run, readonly=True) as store:
        assert get_proxies(store) == got


def test_resumes_only_the_missing_trials(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxies", str(run), "--only", "snip,params", "--no-progress"]) == 0
    with RunStore.open(run) as store:  # as if the command died after trial 3
        store.connection().execute("DELETE FROM proxies WHERE trial_id > 3")
        before = get_proxies(store)
    capsys.readouterr()
    assert main(["proxies", str(run), "--only", "snip,params"]) == 0
    out = capsys.readouterr().out
    assert "proxies of 3 trials computed" in out and "trial 4 (1/3)" in out
    with RunStore.open(run, readonly=True) as store:
        after = get_proxies(store)
    assert {k: after[k] for k in before} == before and sorted(after) == [1, 2, 3, 4, 5, 6]
    assert all(set(v) == {"snip", "params"} for v in after.values())


def test_prints_the_ranking_of_a_finished_run(run: Path, capsys: pytest.CaptureFixture[str]
                                               ) -> None:
    fake_errors(run)
    assert main(["proxies", str(run), "--batch-size", "16", "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("proxy ranking"))
    assert "-error" in lines[head]
    rows = lines[head + 1:]
    assert len(rows) == len(ALL)
    assert rows[0].split()[0] == "params" and "spearman +1.000" in rows[0]  # errors fall with it


@pytest.mark.parametrize(("argv", "message"), [
    (["--only", "bogus"], "unknown proxy 'bogus'"),
    (["--batches", "0"], "--batches"),
    (["--threads", "0"], "--threads"),
])
def test_bad_options_are_one_line_errors(run: Path, capsys: pytest.CaptureFixture[str],
                                         argv: list[str], message: str) -> None:
    assert main(["proxies", str(run), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_no_run_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxies", str(tmp_path)]) == 2
    assert "no run here" in capsys.readouterr().err


def test_table_ranks_by_spearman_with_intervals() -> None:
    errors = {i: float(10 - i) for i in range(1, 11)}
    noise = np.random.default_rng(0).normal(size=10)
    proxies = {i: {"perfect": float(i), "reversed": float(-i), "noisy": float(noise[i - 1]),
                   "flat": 1.0} for i in errors}
    table = proxy_table(errors, proxies, B=200, seed=3)
    names = [r.name for r in table.rows]
    assert names[0] == "perfect" and names[-2:] == ["reversed", "flat"]
    best = table.rows[0]
    assert best.spearman == pytest.approx(1.0) and best.kendall == pytest.approx(1.0)
    assert best.spearman_ci.low == pytest.approx(1.0) and best.n == 10
    assert table.rows[-2].spearman == pytest.approx(-1.0)
    assert table.rows[-1].spearman is None  # a constant proxy: undefined
    assert proxy_table(errors, proxies, B=200, seed=3) == table  # seeded


def test_a_killed_command_leaves_whole_trials_and_resumes(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from nasx.sample import create_run

    out = tmp_path / "run"
    store, _ = create_run(SPACE, n=30, seed=2, out=out, progress=False)
    store.close()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "nasx", "proxies", str(out), "--batch-size",
                             "16"], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "(3/30)" in line:  # trial 3 is committed: kill it in the middle of the run
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    with RunStore.open(out, readonly=True) as store:
        partial = get_proxies(store)
    assert len(partial) >= 3  # (fewer than 30 unless the last 27 beat the kill)
    assert all(set(v) == ALL for v in partial.values())  # one transaction per trial
    assert main(["proxies", str(out), "--batch-size", "16", "--no-progress"]) == 0
    with RunStore.open(out, readonly=True) as store:
        whole = get_proxies(store)
    assert len(whole) == 30 and {k: whole[k] for k in partial} == partial
