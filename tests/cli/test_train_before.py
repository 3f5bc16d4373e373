"""``--proxies`` and ``--measure`` of ``nasx run`` / ``nasx train``: computed before training, for
the trials that lack them, by the code paths of ``nasx proxies`` and ``nasx measure``."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.store import RunStore
from nasx.store.measurements import get_measurements
from nasx.store.proxies import get_proxies

REPO = Path(__file__).parents[2]
SPACE = str(REPO / "spaces" / "regnet_digits.yaml")
TINY = ["--n", "3", "--epochs", "1", "--executor", "inline", "--no-progress"]
PROXIES = {"synflow", "snip", "grad_norm", "jacob_cov", "naswot", "zico", "params", "flops"}
KEYS = {f"{kind}_b{b}_{what}" for b in (1, 64) for kind, what in
        (("latency_ms", "torch_cpu"), ("latency_ms", "onnx_cpu"), ("memory_mib", "train_cpu"))}


def test_run_computes_proxies_and_measures_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", SPACE, *TINY, "--out", str(out), "--proxies", "--measure"]) == 0
    lines = capsys.readouterr().out.splitlines()
    proxies = next(i for i, s in enumerate(lines) if "proxies of 3 trials computed, 0 failed" in s)
    measured = next(i for i, s in enumerate(lines) if "3 trials measured, 0 failed" in s)
    trained = next(i for i, s in enumerate(lines) if "3 done of 3" in s)
    assert proxies < measured < trained  # one line each, before the trials train
    with RunStore.open(out, readonly=True) as store:
        trials = store.trials()
        got, rows = get_proxies(store), get_measurements(store)
    assert all(t.status == "done" for t in trials)
    assert sorted(got) == sorted(rows) == [t.id for t in trials]
    assert all(set(v) == PROXIES for v in got.values())
    assert all(m.value > 0 for v in rows.values() for m in v.values())
    # trial 1 ends on a 1x1 map: BatchNorm cannot train on one image, so no batch-1 memory
    assert set(rows[1]) == KEYS - {"memory_mib_b1_train_cpu"}
    assert all(set(rows[i]) == KEYS for i in rows if i != 1)
    # of the initialisation, with the recipe the trial trained with: a fresh computation agrees
    from nasx.proxies import proxies_of

    t = trials[0]
    assert t.recipe is not None and t.recipe.epochs == 1
    # (to float32 rounding: the thread count may differ, and with it the order of sums)
    assert proxies_of(t.spec, t.recipe, t.seed, names=["snip", "naswot"]) == pytest.approx({
        k: got[t.id][k] for k in ("snip", "naswot")}, rel=1e-5)
    # nasx train resumes: nothing left to compute, nothing to train
    assert main(["train", str(out), "--executor", "inline", "--no-progress", "--proxies",
                 "--measure"]) == 0
    text = capsys.readouterr().out
    assert "proxies of 0 trials computed" in text and "0 trials measured" in text


def test_without_the_options_nothing_is_computed(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", SPACE, *TINY, "--n", "2", "--out", str(out)]) == 0
    assert "proxies of" not in capsys.readouterr().out
    with RunStore.open(out, readonly=True) as store:
        assert get_proxies(store) == {} and get_measurements(store) == {}
    # later, on the trained run: only the proxies asked for
    assert main(["train", str(out), "--executor", "inline", "--no-progress", "--proxies"]) == 0
    text = capsys.readouterr().out
    assert "proxies of 2 trials computed, 0 failed" in text and "measured" not in text
    with RunStore.open(out, readonly=True) as store:
        assert len(get_proxies(store)) == 2 and get_measurements(store) == {}


@pytest.mark.parametrize(("verb", "shown"), [("train", True), ("run", True), ("refine", False)])
def test_the_options_belong_to_train_and_run(verb: str, shown: bool,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([verb, "--help"])
    text = capsys.readouterr().out
    assert ("--proxies" in text and "--measure" in text) is shown
    assert ("before training (only the trials that lack them)" in text) is shown
