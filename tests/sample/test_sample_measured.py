"""Measured constraints through the hook: applied after every analytic check, counted, recorded.

A fake measuring function stands in for ``nasx.measure`` (latency proportional to flops, so the
expected verdicts are exact); the real one is tested in tests/measure/test_measure_constraints.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from nasx.arch.complexity import complexity
from nasx.errors import SamplingError
from nasx.refine.feasible import Feasibility
from nasx.sample import create_run, sample_space
from nasx.space import load_space
from nasx.store.measurements import get_measurements

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "spaces" / "regnet_digits.yaml"
HI_MS = 0.1  # fake latency = flops / 1M ms: keeps models under 100K flops (about 40%)


@dataclass(frozen=True)
class FakeMeasurement:
    key: str
    median: float
    spread: float = 0.01
    device: str = "cpu"
    batch: int = 1
    threads: int = 1
    method: str = "fake"


class FakeMeasurer:
    """latency_ms = flops / 1e6, memory_mb = params / 1e5; remembers every spec it measured."""

    def __init__(self) -> None:
        self.specs: list = []

    def __call__(self, spec):
        self.specs.append(spec)
        c = complexity(spec)
        return {"latency_ms": FakeMeasurement("latency_ms_b1_fake_cpu", c.flops / 1e6),
                "memory_mb": FakeMeasurement("memory_mib_b1_train_cpu", c.params / 1e5)}


def _space_file(tmp_path: Path, extra: str = f"  latency_ms: [null, {HI_MS}]\n") -> Path:
    text = DIGITS.read_text().replace("  num_stages: [2, 4]\n", "  num_stages: [2, 4]\n" + extra)
    path = tmp_path / "measured.yaml"
    path.write_text(text)
    return path


def test_measures_only_analytically_accepted_distinct_candidates_and_rejects_above_hi(tmp_path):
    space = load_space(_space_file(tmp_path))
    fake = FakeMeasurer()
    res = sample_space(space, 12, np.random.default_rng(0), measure=fake)
    # every measured spec passed the analytic constraints (flops <= 1.5M, 2..4 stages)
    assert fake.specs and all(complexity(s).flops <= 1_500_000 for s in fake.specs)
    assert all(2 <= len(s.stages) <= 4 for s in fake.specs)
    assert len({s.fingerprint() for s in fake.specs}) == len(fake.specs) == res.measured
    # the hook rejected some, and no trial is above hi
    assert res.rejected["latency_ms"] == res.measured_rejected > 0
    assert res.measured == res.accepted + res.measured_rejected
    assert all(t.flops / 1e6 <= HI_MS for t in res.trials)
    assert {t.fingerprint for t in res.trials} == set(res.measurements)
    for t in res.trials:
        assert res.measurements[t.fingerprint]["latency_ms"].median == t.flops / 1e6
    # the analytic rejections happen before: far more candidates than measured ones
    assert res.attempts > res.measured


def test_the_same_draws_as_the_analytic_space_filtered_by_the_measured_bound(tmp_path):
    """Measured rejections change nothing upstream: the trials are the analytic space's trials
    under the bound, in the same order (the train stream aside: regnet_digits samples none)."""
    plain = load_space(DIGITS)
    measured = load_space(_space_file(tmp_path))
    wide = sample_space(plain, 40, np.random.default_rng(3))
    narrow = sample_space(measured, 8, np.random.default_rng(3), measure=FakeMeasurer())
    under = [t.fingerprint for t in wide.trials if t.flops / 1e6 <= HI_MS]
    assert [t.fingerprint for t in narrow.trials] == under[:8]


def test_a_space_without_measured_constraints_never_calls_the_hook(tmp_path):
    space = load_space(DIGITS)
    fake = FakeMeasurer()
    with_hook = sample_space(space, 10, np.random.default_rng(1), measure=fake)
    without = sample_space(space, 10, np.random.default_rng(1))
    assert fake.specs == [] and with_hook.measured == 0 and with_hook.measurements == {}
    assert [t.fingerprint for t in with_hook.trials] == [t.fingerprint for t in without.trials]
    assert with_hook.rejected == without.rejected and with_hook.attempts == without.attempts


def test_memory_constraint_and_both_at_once(tmp_path):
    space = load_space(_space_file(tmp_path, "  memory_mb: [null, 0.5]\n  latency_ms: [null, 1]\n"))
    res = sample_space(space, 6, np.random.default_rng(0), measure=FakeMeasurer())
    assert all(t.params / 1e5 <= 0.5 and t.flops / 1e6 <= 1 for t in res.trials)
    assert set(res.rejected) >= {"memory_mb"}
    assert set(res.measurements[res.trials[0].fingerprint]) == {"latency_ms", "memory_mb"}


def test_a_measured_space_without_a_hook_is_an_error(tmp_path):
    path = _space_file(tmp_path)
    with pytest.raises(SamplingError, match=r"key 'constraints.latency_ms': has measured "
                       r"constraints \(latency_ms\) but no measuring function"):
        sample_space(load_space(path), 2, np.random.default_rng(0))


def test_create_run_records_what_was_measured(tmp_path):
    path = _space_file(tmp_path)
    store, s = create_run(path, n=5, seed=2, out=tmp_path / "r", progress=False,
                          measure=FakeMeasurer())
    with store:
        rows = get_measurements(store)
        trials = store.trials()
        meta = store.meta()
    assert sorted(rows) == [t.id for t in trials]
    for t in trials:
        m = rows[t.id]["latency_ms"]
        assert m.value == t.flops / 1e6 <= HI_MS
        assert (m.device, m.batch, m.threads) == ("cpu", 1, 1)
        assert m.method == "fake (latency_ms_b1_fake_cpu, at sampling)"
    assert meta["measured"]["keys"] == ["latency_ms"]
    assert meta["measured"]["settings"]["batch"] == 1
    assert s.measured == meta["measured"]["candidates"] == 5 + s.measured_rejected
    assert s.measured_line() == f"measured latency_ms of {s.measured} candidates " \
                                f"({s.measured_rejected} rejected)"
    # the same run again reads the counts back from the run
    store, again = create_run(path, n=5, seed=2, out=tmp_path / "r", progress=False,
                              measure=FakeMeasurer())
    store.close()
    assert again.existed and again.measured_line() == s.measured_line()


def test_a_plain_run_has_no_measurements_and_no_measured_meta(tmp_path):
    space_file = tmp_path / "d.yaml"
    shutil.copy(DIGITS, space_file)
    store, s = create_run(space_file, n=3, out=tmp_path / "r", progress=False)
    with store:
        assert "measured" not in store.meta() and get_measurements(store) == {}
    assert s.measured_line() is None


def _values(space, rng_seed: int = 0):
    return sample_space(load_space(DIGITS), 1, np.random.default_rng(rng_seed)).trials[0].values


def test_refine_feasibility_applies_the_same_hook(tmp_path):
    space = load_space(_space_file(tmp_path, "  latency_ms: [null, 0.000001]\n"))
    values = _values(space)
    fake = FakeMeasurer()
    verdict = Feasibility(space, fake).check(values, {}, seed=1)
    assert not verdict.feasible and verdict.rule == "latency_ms" and verdict.violation > 0
    assert verdict.reason.startswith("latency_ms=") and verdict.trial is None
    assert len(fake.specs) == 1 and "latency_ms" in verdict.quantities
    # an analytically infeasible suggestion is never measured
    before = len(fake.specs)
    bad = {**values, "depth": 99}  # far above flops 1.5M or num_stages 4
    judged = Feasibility(space, fake).check(bad, {}, seed=1)
    assert judged.violation > 0 and "latency_ms" not in judged.quantities
    assert len(fake.specs) == before
    # a feasible one carries what was measured
    ok_space = load_space(_space_file(tmp_path, "  latency_ms: [null, 100]\n"))
    ok = Feasibility(ok_space, fake).check(values, {}, seed=1)
    assert ok.feasible and ok.trial is not None
    assert ok.measured["latency_ms"].median == ok.quantities["latency_ms"] == ok.trial.flops / 1e6


def test_no_torch_for_a_space_without_measured_constraints():
    code = ("import sys\nfrom nasx.api.spaces import measurer_for, load_space as validate_space\n"
            f"assert measurer_for(validate_space({str(DIGITS)!r})) is None\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
