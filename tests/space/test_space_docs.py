"""The docs describe this project: no references to files it lacks, no development notes."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted((REPO / "docs").glob("*.md"))


@pytest.mark.parametrize("path", DOCS, ids=[p.stem for p in DOCS])
def test_docs_hold_no_development_notes_or_missing_files(path):
    text = path.read_text()
    assert "DESIGN.md" not in text
    assert not re.search(r"\bissue \d", text, re.IGNORECASE)
    for rel in re.findall(r"\]\(([^)#]+)", text):  # relative links resolve
        if "://" not in rel:
            assert (path.parent / rel).exists(), rel


def test_internals_names_only_modules_that_exist():
    text = (REPO / "docs" / "internals.md").read_text()
    for rel in set(re.findall(r"`(nasx/[\w/]+\.py)`", text)):
        assert (REPO / rel).is_file(), rel
    for name in sorted(set(re.findall(r"`(nasx(?:\.[a-z_]+)+)", text))):
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
            module = ".".join(parts[:cut])
            try:
                if importlib.util.find_spec(module) is not None:
                    break
            except ModuleNotFoundError:  # a name inside a module, not a submodule
                continue
        obj = importlib.import_module(module)
        for attr in parts[cut:]:
            assert hasattr(obj, attr), name
            obj = getattr(obj, attr)
