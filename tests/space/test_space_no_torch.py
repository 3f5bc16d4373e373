"""Loading spaces, sampling and the run store never import torch (or ray, optuna, seaborn)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CODE = """
import sys
import numpy as np
from nasx.space import load_space
from nasx.sample import sample_space, create_run
from nasx.store import RunStore
space = load_space("spaces/regnet_digits.yaml")
sample_space(space, 3, np.random.default_rng(0))
store, _ = create_run("spaces/regnet_digits.yaml", n=3, out=sys.argv[1], progress=False)
store.dataframe()
heavy = sorted(m for m in ("torch", "ray", "optuna", "seaborn", "matplotlib") if m in sys.modules)
print(",".join(heavy) or "none")
"""


def test_space_sample_store_do_not_import_heavy_libraries(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", CODE, str(tmp_path / "run")], cwd=REPO, capture_output=True,
        text=True, check=True,
    )
    assert out.stdout.strip() == "none"


def test_space_sits_below_arch():
    code = "import sys, nasx.space; print('nasx.arch' in sys.modules, 'nasx.sample' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]
