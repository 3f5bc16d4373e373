"""The public Python API of nasx: the workflow the CLI wraps (each verb parses its arguments,
calls one of these, and prints). Torch-free to import; heavy libraries load when a function
needs them. docs/api.md has a runnable example.

    import nasx
    run = nasx.run("regnet_digits", n=8, executor="inline", epochs=1, out="runs/demo")
    df = nasx.read_run("runs/demo").frame
"""

from __future__ import annotations

from nasx.api.analysis import compare, export, narrow, refine, report
from nasx.api.execution import options_from as execution_options
from nasx.api.runs import Run, read_run, run, sample, train
from nasx.api.spaces import load_space

__all__ = ["Run", "compare", "execution_options", "export", "load_space", "narrow", "read_run",
           "refine", "report", "run", "sample", "train"]
