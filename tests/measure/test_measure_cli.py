"""``nasx measure RUN`` on a tiny run (table, resumability, errors) and ``describe --measure``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.store import RunStore
from nasx.store.measurements import get_measurements

SPACE = Path(__file__).parents[1] / "refine" / "anynet_tiny.yaml"
FAST = ["--batch", "4", "--repeats", "3", "--warmup", "1", "--device", "cpu", "--no-progress"]
KEYS = {f"{kind}_b{b}_{what}" for b in (1, 4) for kind, what in
        (("latency_ms", "torch_cpu"), ("latency_ms", "onnx_cpu"), ("memory_mib", "train_cpu"))}


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    """4 sampled models of the tiny digits space, nothing trained."""
    from nasx.sample import create_run

    out = tmp_path / "run"
    store, _ = create_run(SPACE, n=4, seed=0, out=out, progress=False)
    store.close()
    return out


def test_read_only_run_without_table_has_no_measurements(run: Path) -> None:
    with RunStore.open(run, readonly=True) as store:
        assert get_measurements(store) == {}


def test_measures_every_trial_then_resumes(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure", str(run), *FAST]) == 0
    assert "4 trials measured, 0 failed" in capsys.readouterr().out
    with RunStore.open(run, readonly=True) as store:
        got = get_measurements(store)
        ids = [t.id for t in store.trials()]
    assert sorted(got) == sorted(ids)
    for rows in got.values():
        assert set(rows) == KEYS
        for key, m in rows.items():
            assert m.device == "cpu" and m.threads == 1
            assert m.batch == (1 if "_b1_" in key else 4)
            assert m.value > 0 and m.spread >= 0
    assert main(["measure", str(run), *FAST]) == 0  # nothing left
    assert "0 trials measured" in capsys.readouterr().out
    with RunStore.open(run) as store, store.transaction() as c:
        c.execute("DELETE FROM measurements WHERE trial_id = ?", (ids[1],))
    assert main(["measure", str(run), *FAST]) == 0  # only the missing trial
    assert "1 trials measured" in capsys.readouterr().out
    with RunStore.open(run, readonly=True) as store:
        again = get_measurements(store)
    assert {i: again[i] for i in ids if i != ids[1]} == {i: got[i] for i in ids if i != ids[1]}


@pytest.mark.parametrize(("opt", "value"), [("--batch", "0"), ("--repeats", "0"),
                                            ("--threads", "0"), ("--device", "tpu")])
def test_bad_option_is_one_line(run: Path, opt: str, value: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure", str(run), opt, value]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and opt in err


def test_describe_measure_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["describe", "RegNetX-200MF", "--measure", "--batch", "2", "--repeats", "3",
            "--warmup", "1", "--device", "cpu"]
    assert main([*args, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [m["key"] for m in d["measured"]] == [
        "latency_ms_b1_torch_cpu", "latency_ms_b1_onnx_cpu", "memory_mib_b1_train_cpu",
        "latency_ms_b2_torch_cpu", "latency_ms_b2_onnx_cpu", "memory_mib_b2_train_cpu"]
    assert all(m["batch"] in (1, 2) and m["device"] == "cpu" for m in d["measured"])
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "latency_ms_b1_onnx_cpu:" in out and "spread of 3 runs in 3 sessions" in out


def test_describe_without_measure_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "RegNetX-200MF", "--json"]) == 0
    assert "measured" not in json.loads(capsys.readouterr().out)
