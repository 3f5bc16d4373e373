"""The architecture layer never imports torch (nor any other heavy library)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import nasx
from nasx.arch import FAMILIES, complexity, decode, load_spec, save_spec, zoo
spec = decode("regnet", {"depth": 13, "w0": 24, "wa": 36.44, "wm": 2.49, "group_w": 8})
assert complexity(spec).flops == 199040872
assert nasx.complexity(zoo.get("EfficientNet-B0")).params == 5288548
heavy = {"torch", "ray", "optuna", "seaborn", "matplotlib", "onnx", "onnxruntime"}
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
"""


def test_arch_does_not_import_torch() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_exports() -> None:
    import nasx.arch as arch

    assert sorted(arch.__all__) == sorted([*arch._LAZY, "Complexity", "complexity"])
    for name in arch.__all__:
        assert getattr(arch, name) is not None
    assert callable(arch.complexity) and callable(arch.decode)
