"""A run's copy of its space file: its path, its text, and the space parsed once per open store."""

from __future__ import annotations

from pathlib import Path

from nasx.space import SearchSpace, load_space
from nasx.store.schema import SPACE_NAME, read_space_copy


class SpaceCopy:
    """The space side of :class:`~nasx.store.run_store.RunStore` (``root`` is the run folder)."""

    root: Path
    _space: SearchSpace | None

    @property
    def space_path(self) -> Path:
        """The run's copy of its space file."""
        return self.root / SPACE_NAME

    def space_text(self, missing_ok: bool = False) -> str:
        """The run's copy of its space file as text (``missing_ok``: "" when absent)."""
        return read_space_copy(self.space_path, missing_ok)

    def space(self) -> SearchSpace:
        """The run's copy of its space file, parsed once per open store (SpaceError if bad)."""
        if self._space is None:
            self._space = load_space(self.space_path)
        return self._space

    def adopt_space(self, space: SearchSpace) -> None:
        """Use ``space``, parsed already by the caller, as the run's (when it is the same text),
        so that one command parses its space file once."""
        if space.text == self.space_text(missing_ok=True):
            self._space = space
