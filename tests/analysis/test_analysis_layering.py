"""nasx.analysis and nasx.report import no torch, and no plotting library until they draw."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import nasx.analysis, nasx.report, nasx.cli.report
bad = sorted(m for m in ("torch", "matplotlib", "seaborn", "ray", "optuna") if m in sys.modules)
print(",".join(bad))
"""


def test_no_heavy_imports():
    res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         timeout=120, check=True)
    assert res.stdout.strip() == ""
