"""The layer rule, checked in one place.

The static test reads the layer table of docs/internals.md and checks every import of nasx's own
code against it (imports inside functions, under TYPE_CHECKING and the ``_LAZY`` name tables
included), plus where the heavy libraries may be imported. The runtime tests import entry points
in a fresh interpreter and check what they actually load: the import cost a user pays.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "nasx"
DOC = REPO / "docs" / "internals.md"

# Heavy libraries and the packages that may import them (docs/internals.md, "Layer table").
TORCH = ("torch", "torchvision", "safetensors", "onnx", "onnxruntime")
NO_TORCH = {"space", "arch", "sample", "store", "analysis", "errors", "yamlio", "constants",
            "fsutil", "fmt", "pareto", "types", "status"}
ONLY_IN = {"ray": {"execute"}, "optuna": {"refine"}, "seaborn": {"report"},
           "matplotlib": {"report"}}


@dataclass
class Layers:
    """The layer table: row of each package, and the same-row edges it allows."""

    row: dict[str, int] = field(default_factory=dict)
    below: dict[int, bool] = field(default_factory=dict)
    peers: set[tuple[str, str]] = field(default_factory=set)

    def allows(self, src: str, dst: str) -> bool:
        if src == dst or (src, dst) in self.peers:
            return True
        return self.below[self.row[src]] and self.row[dst] > self.row[src]


def read_table(text: str) -> Layers:
    """Parse the ``## Layer table`` section (rows from the top layer down)."""
    section = text.split("## Layer table", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # header, rule
    layers = Layers()
    for i, line in enumerate(rows):
        _, packages, may = (c.strip() for c in line.strip("|").split("|"))
        for name in re.findall(r"`([\w]+)`", packages):
            assert name not in layers.row, f"{name} is in two rows of the layer table"
            layers.row[name] = i
        layers.below[i] = bool(re.search(r"\bbelow\b", may))
        for src, dst in re.findall(r"`(\w+) -> (\w+)`", may):
            layers.peers.add((src, dst))
    return layers


def package_of(path: Path) -> str:
    rel = path.relative_to(PKG).with_suffix("").parts
    return rel[0]


def imported(source: str, here: tuple[str, ...]) -> set[str]:
    """Every module name the module ``here`` (its dotted parts) imports, wherever the import sits."""
    tree = ast.parse(source)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = list(here[:-node.level])
                out.add(".".join(base + ([node.module] if node.module else [])))
            else:
                out.add(node.module or "")
                out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets):
            # name -> module tables behind a module __getattr__ (imported with importlib)
            out |= {v.value for v in ast.walk(node.value)
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)
                    and v.value.startswith("nasx.")}
    return out


def edges() -> list[tuple[str, str, str]]:
    """(file, importing package, imported module) for every import of every nasx module."""
    out = []
    for p in sorted(PKG.rglob("*.py")):
        here = ("nasx", *p.relative_to(PKG).with_suffix("").parts)
        out += [(str(p.relative_to(REPO)), package_of(p), m)
                for m in sorted(imported(p.read_text(encoding="utf-8"), here))]
    return out


def test_layer_table_lists_every_package_once() -> None:
    layers = read_table(DOC.read_text(encoding="utf-8"))
    present = {package_of(p) for p in PKG.rglob("*.py")}
    assert sorted(present - set(layers.row)) == [], "packages missing from the layer table"
    assert sorted(set(layers.row) - present) == [], "the layer table names missing packages"
    for src, dst in layers.peers:
        assert layers.row[src] == layers.row[dst], f"{src} -> {dst} is not a same-row edge"


def test_every_import_follows_the_layer_table() -> None:
    layers = read_table(DOC.read_text(encoding="utf-8"))
    bad = []
    for file, src, mod in edges():
        parts = mod.split(".")
        if parts[0] != "nasx" or len(parts) < 2:
            continue
        dst = parts[1]
        if dst not in layers.row:  # ``from nasx import errors``-style names of a package
            continue
        if not layers.allows(src, dst):
            bad.append(f"{file}: {src} imports {mod}")
    assert bad == []


def _module_name(p: Path) -> str:
    parts = ("nasx", *p.relative_to(PKG).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_graph(deep: bool = False) -> dict[str, set[str]]:
    """Module -> the nasx modules it imports at module level (what runs at import time), or with
    ``deep`` wherever the import sits (inside functions, under ``if TYPE_CHECKING``, ``_LAZY``)."""
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, p in files.items():
        here = tuple(name.split(".")) + (("__init__",) if p.name == "__init__.py" else ())
        source = p.read_text(encoding="utf-8")
        if not deep:
            source = ast.unparse(ast.Module(body=[
                n for n in ast.parse(source).body if isinstance(n, (ast.Import, ast.ImportFrom))],
                type_ignores=[]))
        # ``from nasx import errors`` names the root too; the root is the lazy facade (its
        # ``_LAZY`` table loads on attribute access), so an edge to it is no dependency
        graph[name] = {m for m in imported(source, here)
                       if m in files and m != name and not (deep and m == "nasx")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


# Import circles known and allowed, as the exact set of modules of each (a circle that grows,
# shrinks or appears elsewhere fails the test: remove an entry when its circle is gone).
def test_no_module_level_import_cycle() -> None:
    assert cycles(module_graph()) == []
    # the checker sees one
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_no_import_cycle_even_inside_functions() -> None:
    """No circle among nasx modules counting every import (inside functions, type-only, _LAZY):
    a function-level import hides a circle from import time, not from the design."""
    assert cycles(module_graph(deep=True)) == []
    lazy = "def f():\n    from nasx.b import x\n"
    assert "nasx.b" in imported(lazy, ("nasx", "a"))  # the deep graph sees a function's import


def test_heavy_libraries_stay_in_their_layer() -> None:
    bad = []
    for file, src, mod in edges():
        top = mod.split(".")[0]
        if top in TORCH and src in NO_TORCH:
            bad.append(f"{file}: {src} imports {mod}")
        if top in ONLY_IN and src not in ONLY_IN[top]:
            bad.append(f"{file}: {src} imports {mod} (only {', '.join(ONLY_IN[top])} may)")
    assert bad == []


def test_checker_sees_lazy_imports() -> None:
    """The checker finds imports inside functions, relative ones and _LAZY tables."""
    source = ("def f():\n    import torch\n    from ..sample import run\n"
              "    from . import dists\n_LAZY = {'x': 'nasx.models.net'}\n")
    found = imported(source, ("nasx", "space", "probe"))
    assert {"torch", "nasx.sample", "nasx.space", "nasx.models.net"} <= found
    layers = read_table(DOC.read_text(encoding="utf-8"))
    assert not layers.allows("space", "sample") and layers.allows("sample", "space")
    assert layers.allows("sample", "store") and not layers.allows("store", "sample")


# --- runtime import cost: what a fresh interpreter loads --------------------------------------

RUNTIME = {
    "analysis-report": ("""
import sys
import nasx.analysis, nasx.report, nasx.cli.report
bad = sorted(m for m in ("torch", "matplotlib", "seaborn", "ray", "optuna") if m in sys.modules)
print(",".join(bad))
""", ""),
    "arch": ("""
import sys
import nasx
from nasx.arch import FAMILIES, complexity, decode, load_spec, save_spec, zoo
spec = decode("regnet", {"depth": 13, "w0": 24, "wa": 36.44, "wm": 2.49, "group_w": 8})
assert complexity(spec).flops == 199040872
assert nasx.complexity(zoo.get("EfficientNet-B0")).params == 5288548
heavy = {"torch", "ray", "optuna", "seaborn", "matplotlib", "onnx", "onnxruntime"}
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
""", "[]"),
    "narrow-refine-cli": (
        "import sys, nasx.refine, nasx.refine.narrow, nasx.cli.narrow, nasx.cli.refine; "
        "print(sorted(m for m in ('optuna', 'torch') if m in sys.modules))", "[]"),
    "data-trainer": (
        "import sys; import nasx.data, nasx.train, nasx.train.trainer, nasx.train.schedule; "
        "from nasx.data import DataCache; DataCache(); "
        "print('torch' in sys.modules)", "False"),
    # `nasx sample` (the hot path of bench/bench_sample.py) loads no validation library, no
    # asyncio (pydantic-core's typing_extensions pulled it in), no frame or stats library
    "sample-cli": ("""
import contextlib, io, sys, tempfile
from nasx.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["sample", "spaces/regnet.yaml", "--n", "3", "--out",
                 tempfile.mkdtemp() + "/r", "--no-progress"]) == 0
heavy = {"torch", "ray", "optuna", "pandas", "scipy", "pydantic", "asyncio", "matplotlib"}
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
""", "[]"),
    "space-below-arch": (
        "import sys, nasx.space; print('nasx.arch' in sys.modules, 'nasx.sample' in sys.modules)",
        "False False"),
}


@pytest.mark.parametrize("name", sorted(RUNTIME))
def test_import_cost(name: str) -> None:
    code, expected = RUNTIME[name]
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == expected


SAMPLE_CODE = """
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


def test_space_sample_store_do_not_import_heavy_libraries(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", SAMPLE_CODE, str(tmp_path / "run")], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "none"
