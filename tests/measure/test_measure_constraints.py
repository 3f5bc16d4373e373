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
