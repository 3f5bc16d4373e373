"""A real measured constraint: ``latency_ms: [null, X]`` with X at the median of a few models.

Latency is noisy, so the test asserts on what the run recorded (every recorded latency <= X, the
very figure the sampler compared) and on the count line, never on a re-measurement.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest

from nasx.cli.main import main
from nasx.measure import latency
from nasx.sample import sample_space
from nasx.space import load_space
from nasx.store import RunStore
from nasx.store.measurements import get_measurements

DIGITS = Path(__file__).resolve().parents[2] / "spaces" / "regnet_digits.yaml"
MEASURE = "measure: {repeats: 5, warmup: 2}\n"


@pytest.fixture(scope="module")
def median_ms() -> float:
    """Median batch-1 latency of 6 analytic regnet_digits models, measured as the space will."""
    trials = sample_space(load_space(DIGITS), 6, np.random.default_rng(7)).trials
    return statistics.median(latency(t.spec, repeats=5, warmup=2).median for t in trials)


def test_latency_bound_keeps_only_models_measured_under_it(tmp_path, capsys, median_ms):
    space = tmp_path / "fast.yaml"
    space.write_text(DIGITS.read_text().replace(
        "  num_stages: [2, 4]\n", f"  num_stages: [2, 4]\n  latency_ms: [null, {median_ms:.6f}]\n")
        + MEASURE)
    out = tmp_path / "run"
    assert main(["sample", str(space), "--n", "3", "--out", str(out), "--max-attempts", "300",
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    with RunStore.open(out, readonly=True) as store:
        rows = get_measurements(store)
        ids = [t.id for t in store.trials()]
        meta = store.meta()["measured"]
    assert len(ids) == 3 and sorted(rows) == ids
    for r in rows.values():
        m = r["latency_ms"]
        assert 0 < m.value <= float(f"{median_ms:.6f}")
        assert (m.device, m.batch, m.threads) == ("cpu", 1, 1)
        assert m.method.startswith("torch eager") and "latency_ms_b1_torch_cpu" in m.method
    measured, rejected = meta["candidates"], meta["rejected"]
    assert measured == 3 + rejected
    assert (f"measured latency_ms of {measured} candidates ({rejected} rejected) (torch on cpu, "
            "batch 1, 1 thread, median of 5 runs after 2 warm-up") in text


def test_cuda_asked_for_without_cuda_is_a_space_error(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    space = tmp_path / "gpu.yaml"
    space.write_text(DIGITS.read_text().replace(
        "  num_stages: [2, 4]\n", "  num_stages: [2, 4]\n  latency_ms: [null, 5]\n")
        + "measure: {device: cuda}\n")
    assert main(["sample", str(space), "--n", "2", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{space}: key 'measure.device': no CUDA device on this machine to "
                        "measure on, got 'cuda'")
    assert "\n" not in err and not (tmp_path / "r").exists()


def _space(tmp_path: Path, bound: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(DIGITS.read_text().replace(
        "  num_stages: [2, 4]\n", f"  num_stages: [2, 4]\n  latency_ms: {bound}\n") + MEASURE)
    return path


def test_nasx_run_samples_through_the_same_hook(tmp_path, capsys):
    from nasx.cli.run import sample_or_reuse

    with sample_or_reuse(str(_space(tmp_path, "[null, 1000]")), 2, 0, str(tmp_path / "r"),
                         False) as store:
        assert len(get_measurements(store)) == 2
    assert ("  measured latency_ms of 2 candidates (0 rejected) (torch on cpu, batch 1, 1 thread,"
            " median of 5 runs after 2 warm-up)") in capsys.readouterr().out


def test_refine_feasibility_measures_with_the_spaces_own_hook_once_per_architecture(tmp_path):
    from nasx.refine.feasible import Feasibility

    space = load_space(_space(tmp_path, "[null, 1000]"))
    values = sample_space(load_space(DIGITS), 1, np.random.default_rng(0)).trials[0].values
    feasible = Feasibility(space)  # what one refine call builds and checks every suggestion with
    first = feasible.check(values, {}, seed=1)
    again = feasible.check(values, {"lr": 0.1}, seed=2)
    assert first.feasible and again.feasible and first.trial is not None
    m = first.measured["latency_ms"]
    assert m.key == "latency_ms_b1_torch_cpu" and m.device == "cpu" and m.median > 0
    assert again.measured["latency_ms"] is m and feasible.measured.measured == 1
    tight = load_space(_space(tmp_path, "[null, 0.000001]"))
    verdict = Feasibility(tight).check(values, {}, seed=1)
    assert not verdict.feasible and verdict.rule == "latency_ms" and verdict.violation > 0



@pytest.mark.parametrize("batch", [1, 2])
def test_memory_at_batch_1_of_a_net_that_cannot_train_on_one_image(tmp_path, batch):
    from nasx.errors import SpaceError
    from nasx.measure.probe import constraint_measurer

    four = DIGITS.read_text().replace("  num_stages: [2, 4]\n", "  num_stages: [4, 4]\n")
    plain = tmp_path / "four.yaml"
    plain.write_text(four)
    spec = sample_space(load_space(plain), 1, np.random.default_rng(0)).trials[0].spec
    path = tmp_path / "mem.yaml"  # 4 stride-2 stages on 8 px: BatchNorm over a 1x1 map
    path.write_text(four.replace("  flops:", "  memory_mb: [null, 100]\n  flops:")
                    + f"measure: {{batch: {batch}}}\n")
    measure = constraint_measurer(load_space(path))
    if batch == 1:
        with pytest.raises(SpaceError, match=r"mem.yaml: key 'measure.batch': memory_mb needs a "
                           r"batch a training step exists for .* got 1$"):
            measure(spec)
    else:
        m = measure(spec)["memory_mb"]
        assert m.median > 0 and m.batch == 2 and m.spread == 0.0
