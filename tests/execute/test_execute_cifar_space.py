"""The shipped CIFAR space trains end to end on a tiny CIFAR-10 fixture in the binary layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nasx.cli.main import main

REPO = Path(__file__).resolve().parents[2]
PER_BATCH = 8


def write_cifar_bin(folder: Path) -> None:
    """data_batch_1..5.bin and test_batch.bin: records of 1 label byte + 3072 pixel bytes."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, (PER_BATCH, 1), dtype=np.uint8)
        pixels = rng.integers(0, 256, (PER_BATCH, 3072), dtype=np.uint8)
        (folder / f"{name}.bin").write_bytes(np.concatenate([labels, pixels], axis=1).tobytes())


@pytest.mark.slow
def test_regnet_cifar_space_trains_on_a_cifar_folder(tmp_path: Path, capsys):
    data = tmp_path / "cifar-10-batches-bin"
    write_cifar_bin(data)
    run = tmp_path / "run"
    code = main(["run", str(REPO / "spaces" / "regnet_cifar.yaml"), "--n", "2", "--epochs", "1",
                 "--batch-size", "16", "--data-dir", str(tmp_path), "--executor", "inline",
                 "--threads", "1", "--out", str(run), "--no-progress"])
    assert code == 0
    capsys.readouterr()
    assert main(["ls", str(run), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["done", "done"]
    assert all(0 <= r["error"] <= 100 for r in rows)
