"""The design spaces shipped inside the package (``nasx/spaces/*.yaml``), found by name.

They are package data, so ``nasx demo`` and ``nasx sample regnet`` work from an installed wheel in
any folder; the repository's top-level ``spaces`` is a symlink to the same folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SUFFIX = ".yaml"


def shipped_dir() -> Path:
    """The folder holding the shipped space files (inside the installed package)."""
    # setuptools installs package data as plain files (never zipped), so this is a real folder.
    return Path(str(resources.files("nasx") / "spaces"))


def shipped_names() -> list[str]:
    """Names of the shipped spaces (file stems), sorted."""
    folder = shipped_dir()
    return sorted(p.stem for p in folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []


def shipped_space(name: str) -> Path | None:
    """The shipped space file called ``name`` (``regnet`` or ``regnet.yaml``), else None."""
    stem = name.removesuffix(SUFFIX)
    if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
        return None
    path = shipped_dir() / f"{stem}{SUFFIX}"
    return path if path.is_file() else None


def resolve_space(path: str | Path) -> Path:
    """``path`` when it exists; else, for ``NAME``, ``NAME.yaml`` or ``spaces/NAME.yaml``, the
    shipped space of that name; else ``path`` as given (the loader then says it is missing).

    A file that exists always wins, so a local ``regnet.yaml`` is never shadowed; the
    ``spaces/`` form keeps the README's ``nasx sample spaces/regnet.yaml`` working in any folder.
    """
    given = Path(path)
    if given.exists() or given.parent not in (Path("."), Path("spaces")):
        return given
    return shipped_space(given.name) or given
