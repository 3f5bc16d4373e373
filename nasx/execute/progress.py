"""Live progress of a training session on stderr (rich); silent when stderr is not a terminal."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressView:
    """done / running / failed / diverged counts, elapsed, ETA and the best error so far."""

    def __init__(self, total: int, counts: dict[str, int], best: tuple[float, int] | None,
                 enabled: bool = True) -> None:
        self.counts = dict(counts)
        self.best = best
        self.started = time.monotonic()
        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]train[/]"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.description}"), TimeElapsedColumn(), TextColumn("ETA"),
            TimeRemainingColumn(), console=console, disable=not (enabled and console.is_terminal),
        )
        self._task = self._progress.add_task(self._text(), total=total)

    def _text(self) -> str:
        c = self.counts
        best = "-" if self.best is None else f"{self.best[0]:.2f}% (#{self.best[1]})"
        return (f"done {c.get('done', 0)} running {c.get('running', 0)} failed "
                f"{c.get('failed', 0)} diverged {c.get('diverged', 0)} best {best}")

    def __enter__(self) -> ProgressView:
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def move(self, old: str | None, new: str, error: float | None = None,
             trial_id: int | None = None) -> None:
        """Record one status change (``old`` None for a fresh count) and refresh."""
        if old:
            self.counts[old] = self.counts.get(old, 0) - 1
        self.counts[new] = self.counts.get(new, 0) + 1
        if error is not None and trial_id is not None and (
                self.best is None or (error, trial_id) < self.best):
            self.best = (error, trial_id)
        advance = 1 if new in ("done", "failed", "diverged") else 0
        self._progress.update(self._task, description=self._text(), advance=advance)
