"""docs/internals.md's "How to add ..." sections stay true: each exists and names real files.

Each registry of nasx (families, data sets, trial statuses, report sections, export formats,
executors) has a section saying exactly which files a new entry touches and which test keeps the
entry honest; this test fails when a section goes missing or names a file or folder that moved.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "internals.md"
HOWTOS = ("a family", "a data set", "a trial status", "a report section", "an export format",
          "an executor")
# a repository path in backticks: nasx/..., tests/..., docs/..., bench/... (placeholders such as
# <name> or NAME are the new entry's own file and are not checked)
PATH = re.compile(r"`((?:nasx|tests|docs|bench)/[A-Za-z0-9_./<>-]*)`")
# the registry each section is about, and the module that must define it
REGISTRY = {
    "a family": ("nasx/arch/families/__init__.py", "FAMILIES"),
    "a data set": ("nasx/data/sets/__init__.py", "BUILTIN"),
    "a trial status": ("nasx/status.py", "class TrialStatus"),
    "a report section": ("nasx/report/sections/__init__.py", "MODULES"),
    "an export format": ("nasx/export/formats.py", "EXPORT_FORMATS"),
    "an executor": ("nasx/execute/registry.py", "EXECUTORS"),
}


def _sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)
    return {p.split("\n", 1)[0].strip(): p for p in parts[1:]}


@pytest.mark.parametrize("what", HOWTOS)
def test_each_registry_has_a_how_to_naming_real_files(what: str) -> None:
    section = _sections().get(f"How to add {what}")
    assert section is not None, f"docs/internals.md has no 'How to add {what}' section"
    named = [p for p in PATH.findall(section) if "<" not in p and "NAME" not in p]
    assert named, f"'How to add {what}' names no file"
    missing = [p for p in named if not (REPO / p.rstrip("/")).exists()]
    assert not missing, f"'How to add {what}' names files that do not exist: {missing}"
    module, definition = REGISTRY[what]
    assert module in named, f"'How to add {what}' does not name its registry {module}"
    assert definition in (REPO / module).read_text(encoding="utf-8")


def test_the_checker_sees_a_missing_file() -> None:
    assert PATH.findall("see `nasx/nothing_here.py` and `tests/<name>.py`") == [
        "nasx/nothing_here.py", "tests/<name>.py"]
