"""A verdict recomputed on long retrainings of both runs: holds, does not hold, undecided."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synth_runs import make_run

from nasx.analysis import read_runs, summarize
from nasx.store.run_store import NewTrial, RunStore
from nasx.train.recipe import Recipe

LONG = 6  # epochs of the long retrainings (the synthetic runs' population trains 3)


def add_long(root: Path, k: int, shift: float, seed: int) -> None:
    """Long retrainings of the first k finished trials: error = short + shift + noise."""
    rng = np.random.default_rng(seed)
    with RunStore.open(root) as store:
        done = [t for t in store.finished().trials][:k]
        new = [NewTrial(fingerprint=f"{t.fingerprint}-long", values=t.values, spec=t.spec,
                        flops=t.flops, params=t.params, acts=t.acts, seed=t.seed + 10_000,
                        origin="fidelity", repeat_of=t.id, repeat_epochs=LONG)  # type: ignore[arg-type]
               for t in done]
        for t, tid in zip(done, store.add_trials(new), strict=True):
            store.mark_running(tid, Recipe(epochs=LONG, data="digits"), device="cpu")
            err = float(t.error) + shift + float(rng.normal(0, 1.0))  # type: ignore[arg-type]
            store.finish(tid, "done", error=err, metrics={"val_error": err})


@pytest.mark.parametrize("long_b, agreement", [(-6.0, "holds"), (+6.0, "does not hold"),
                                               (0.0, "cannot be decided")])
def test_long_verdict(tmp_path: Path, long_b: float, agreement: str) -> None:
    """B is better at the short schedule; its long retrainings keep, reverse or lose that."""
    a = make_run(tmp_path / "a", name="ra", n=40, seed=1)
    b = make_run(tmp_path / "b", name="rb", n=40, seed=2, shift=-6.0)
    add_long(a, 24, 0.0, seed=3)
    # B's long errors: its short advantage (-6) undone, then long_b applied
    add_long(b, 24, 6.0 + long_b, seed=4)
    s = summarize(read_runs([a, b]), normalize="none")
    (c,) = s.comparisons
    assert c.verdict.better_conclusion == "rb" and c.holm is not None and c.holm.significant
    assert c.long is not None and len(c.long) == 1
    lv = c.long[0]
    assert (lv.epochs_long, lv.k_a, lv.k_b, lv.test) == (LONG, 24, 24, "plain KS")
    assert lv.agreement == agreement
    assert lv.short_better == "rb"
    assert lv.better == {"holds": "rb", "does not hold": "ra", "cannot be decided": None}[
        agreement]
    assert f"this conclusion {agreement}" in lv.sentence and lv.sentence in c.verdict.text
    js = s.to_json()["comparisons"][0]["long"][0]
    assert js["agreement"] == agreement and js["epochs_long"] == LONG


def test_no_long_retrainings_no_long_verdict(tmp_path: Path) -> None:
    """Without long retrainings of both runs the comparison has no ``long`` (not in JSON)."""
    a = make_run(tmp_path / "a", name="ra", n=12, seed=1)
    b = make_run(tmp_path / "b", name="rb", n=12, seed=2)
    add_long(a, 6, 0.0, seed=3)
    s = summarize(read_runs([a, b]), normalize="none")
    assert s.comparisons[0].long is None
    assert "long" not in s.to_json()["comparisons"][0]
