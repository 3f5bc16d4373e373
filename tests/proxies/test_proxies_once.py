"""``nasx proxies`` computes once per (architecture, seed, data) and skips fidelity retrains;
``nasx measure`` measures each architecture once: repeats get copies, identical to a fresh
computation for proxies (same initialisation, same minibatch)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.store import RunStore
from nasx.store.measurements import get_measurements
from nasx.store.proxies import get_proxies
from nasx.store.records import NewTrial, Origin

SPACE = Path(__file__).parents[1] / "refine" / "anynet_tiny.yaml"
ONLY = ["--only", "snip,synflow,params", "--batch-size", "16"]
FAST = ["--batch", "2", "--repeats", "2", "--warmup", "0", "--device", "cpu"]


def copy_of(t: object, fingerprint: str, **changes: object) -> NewTrial:
    """A new trial of the architecture of ``t`` (a TrialRecord) with ``changes``."""
    base = NewTrial(fingerprint=fingerprint, values=dict(t.values), spec=t.spec,  # type: ignore
                    flops=t.flops, params=t.params, acts=t.acts, seed=t.seed,  # type: ignore
                    hparams=dict(t.hparams), origin=Origin.SAMPLED)  # type: ignore
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture()
def run(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """3 sampled models, then: a fidelity retrain of 1 (other seed), a repeat of 2 (same seed,
    other lr: same proxies), a repeat of 3 with another seed (other proxies, same latency)."""
    from nasx.sample import create_run

    out = tmp_path / "run"
    store, _ = create_run(SPACE, n=3, seed=0, out=out, progress=False)
    with store:
        t1, t2, t3 = store.trials()
        lr = float(t2.hparams["lr"]) * 1.5
        ids = store.add_trials([
            copy_of(t1, "fid", seed=t1.seed + 1, origin=Origin.FIDELITY, repeat_of=t1.id),
            copy_of(t2, "dup", hparams={**t2.hparams, "lr": lr}),
            copy_of(t3, "reseed", seed=t3.seed + 7)])
    return out, dict(zip(("fid", "dup", "reseed"), ids, strict=True))


def test_proxies_once_per_architecture_seed_and_data(
        run: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = run
    assert main(["proxies", str(root), *ONLY]) == 0
    out = capsys.readouterr().out
    assert "proxies of 4 trials computed, 0 failed" in out
    assert "; 1 copied from a trial of the same architecture, seed and data" in out
    assert "; 1 fidelity retrains skipped" in out
    assert f"trial {ids['dup']}: copied from trial 2" in out
    with RunStore.open(root, readonly=True) as store:
        got = get_proxies(store)
    assert sorted(got) == [1, 2, 3, ids["dup"], ids["reseed"]]  # the retrain has none
    assert got[ids["dup"]] == got[2]
    assert got[ids["reseed"]]["params"] == got[3]["params"]
    assert got[ids["reseed"]]["snip"] != got[3]["snip"]  # another seed: another initialisation
    assert main(["proxies", str(root), *ONLY, "--no-progress"]) == 0  # nothing left
    out = capsys.readouterr().out
    assert "proxies of 0 trials computed" in out and "1 fidelity retrains skipped" in out


def test_a_copy_equals_a_fresh_computation(run: tuple[Path, dict[str, int]]) -> None:
    """What the copy stands for: the proxies of the repeat, computed on their own."""
    from nasx.proxies import proxies_of
    from nasx.train.recipe import resolve_recipe

    root, ids = run
    assert main(["proxies", str(root), *ONLY, "--no-progress"]) == 0
    with RunStore.open(root, readonly=True) as store:
        dup = store.get(ids["dup"])
        block = store.space().train_fixed
        stored = get_proxies(store)[ids["dup"]]
    fresh = proxies_of(dup.spec, resolve_recipe(block, dup.hparams, None), dup.seed,
                       batch_size=16, names=["snip", "synflow"])
    assert fresh == pytest.approx({k: stored[k] for k in fresh}, rel=1e-5)  # float32 sums


def test_an_existing_proxy_covers_the_repeats(
        run: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]) -> None:
    """Trial 2 computed by an earlier call: its repeat is a copy, nothing else recomputed."""
    root, ids = run
    with RunStore.open(root) as store:
        from nasx.store.proxies import ensure_table, put_proxies

        ensure_table(store)
        put_proxies(store, 2, {"snip": 1.5, "synflow": float("nan"), "params": 7.0})
    assert main(["proxies", str(root), *ONLY, "--no-progress"]) == 0
    assert "proxies of 3 trials computed" in capsys.readouterr().out
    with RunStore.open(root, readonly=True) as store:
        dup = get_proxies(store)[ids["dup"]]
        params = store.get(ids["dup"]).params
    assert dup == {"snip": 1.5, "synflow": None, "params": float(params)}


def test_measure_once_per_architecture(run: tuple[Path, dict[str, int]],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = run
    assert main(["measure", str(root), *FAST]) == 0
    out = capsys.readouterr().out
    assert "3 trials measured, 0 failed" in out and "; 3 copied from a trial of the same" in out
    with RunStore.open(root, readonly=True) as store:
        got = get_measurements(store)
    assert sorted(got) == [1, 2, 3, *ids.values()]  # the retrain too: latency has no seed
    for copy, source in ((ids["fid"], 1), (ids["dup"], 2), (ids["reseed"], 3)):
        assert got[copy] == got[source]
    assert got[1] != got[2]
    with RunStore.open(root) as store:  # a new trial of a measured architecture: a copy only
        t1 = store.get(1)
        (new,) = store.add_trials([copy_of(t1, "again", seed=99)])
    assert main(["measure", str(root), *FAST, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "0 trials measured, 0 failed" in out and "; 1 copied" in out
    with RunStore.open(root, readonly=True) as store:
        assert get_measurements(store)[new] == got[1]


def test_a_constraint_row_is_no_measurement(run: tuple[Path, dict[str, int]],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A measured constraint's row (key latency_ms, written by the sampler) neither counts as a
    `nasx measure` measurement nor is copied; it stays as it was."""
    from nasx.store.measurements import StoredMeasurement, ensure_table, put_measurements

    root, ids = run
    judged = StoredMeasurement("latency_ms", 0.5, 0.01, "cpu", 1, 1, "constraint")
    with RunStore.open(root) as store:
        ensure_table(store)
        put_measurements(store, 1, [judged])
    assert main(["measure", str(root), *FAST, "--no-progress"]) == 0
    assert "3 trials measured" in capsys.readouterr().out
    with RunStore.open(root, readonly=True) as store:
        got = get_measurements(store)
    assert got[1]["latency_ms"] == judged and "latency_ms_b1_torch_cpu" in got[1]
    assert "latency_ms" not in got[ids["fid"]] and set(got[ids["fid"]]) == set(got[1]) - {
        "latency_ms"}


def test_measure_completes_a_trial_holding_only_an_objective_row(tmp_path, capsys):
    """refine --objectives latency_ms stores one latency key; nasx measure adds the rest."""
    from nasx.cli.main import main
    from nasx.sample import create_run
    from nasx.store import RunStore
    from nasx.store.measurements import (
        StoredMeasurement,
        ensure_table,
        get_measurements,
        put_measurements,
    )

    space = Path(__file__).resolve().parents[2] / "spaces" / "regnet_digits.yaml"
    store, _ = create_run(space, n=1, seed=0, out=tmp_path / "run", progress=False)
    ensure_table(store)
    only = StoredMeasurement("latency_ms_b1_torch_cpu", 0.5, 0.01, "cpu", 1, 1,
                             "torch eager, inference_mode")
    put_measurements(store, 1, [only])
    store.close()
    assert main(["measure", str(tmp_path / "run"), "--repeats", "2", "--warmup", "0"]) == 0
    capsys.readouterr()
    with RunStore.open(tmp_path / "run", readonly=True) as store:
        keys = set(get_measurements(store)[1])
    assert {"latency_ms_b1_torch_cpu", "latency_ms_b1_onnx_cpu"} <= keys and len(keys) > 2
