"""Acceptance: a shipped Fashion-MNIST space trains on the real data from Debian's package.

Skipped where /usr/share/datasets/fashion-mnist is absent (`.ci/run` installs
`dataset-fashion-mnist`). The test runs the command a user types; the three spaces of the AnyNetX
progression are also checked to share everything but their relations.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from nasx.cli.main import main
from nasx.data.fashion_mnist import DEFAULT_DIR
from nasx.space import load_space

REPO = Path(__file__).resolve().parents[2]
SPACES = ("fmnist_anynet_a", "fmnist_anynet_c", "fmnist_anynet_e")
CHANCE = 90.0  # % error of a guess among 10 balanced classes


def test_the_progression_differs_only_in_its_relations() -> None:
    spaces = [load_space(REPO / "spaces" / f"{name}.yaml") for name in SPACES]
    rels = [dict(s.relations) for s in spaces]
    assert rels[0] == {}
    assert rels[1] == {"bot_mul": "shared", "group_w": "shared"}
    assert rels[2] == {**rels[1], "width": "non_decreasing", "depth": "non_decreasing"}
    a = spaces[0]
    assert a.train_fixed["data"] == "fashion_mnist" and a.input["resolution"].value == 14
    for s in spaces[1:]:
        for field in ("family", "input", "params", "per_stage", "stages", "constraints",
                      "train_fixed", "train_dists", "n", "seed"):
            assert getattr(s, field) == getattr(a, field), field


@pytest.mark.slow
@pytest.mark.skipif(not Path(DEFAULT_DIR).is_dir(),
                    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_fmnist_anynet_a_trains_far_below_chance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NASX_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # the run lands in ./runs/, as for a user
    (tmp_path / "spaces").symlink_to(REPO / "spaces")
    code = main(["run", "spaces/fmnist_anynet_a.yaml", "--n", "8", "--epochs", "1",
                 "--executor", "inline", "--no-progress"])
    assert code == 0
    capsys.readouterr()
    assert main(["ls", "runs/fmnist_anynet_a", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 8 and {r["status"] for r in rows} == {"done"}
    errors = [r["val_error"] for r in rows]
    assert all(r["error"] == r["val_error"] for r in rows)  # selection uses validation error
    assert statistics.median(errors) < 40.0 < CHANCE
    assert max(r["test_error"] for r in rows) < 50.0
