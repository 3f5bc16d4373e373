"""Layering: narrow pulls in neither optuna nor torch; optuna stays inside nasx/refine."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def test_narrow_imports_neither_optuna_nor_torch():
    code = ("import sys, nasx.refine, nasx.refine.narrow, nasx.cli.narrow, nasx.cli.refine; "
            "print(sorted(m for m in ('optuna', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_optuna_is_imported_only_in_refine():
    root = Path(__file__).resolve().parents[2] / "nasx"
    imports = re.compile(r"^\s*(import optuna|from optuna[ .])", re.MULTILINE)
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.parent.name != "refine" and imports.search(p.read_text())]
    assert offenders == []
