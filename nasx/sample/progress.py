"""A progress bar that only appears when sampling takes longer than a second."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

DELAY_S = 1.0


class DelayedProgress:
    """Callable ``(accepted, attempts)`` for :func:`sample_space`; shows a rich bar after 1 s."""

    def __init__(self, total: int, *, enabled: bool = True, label: str = "sampling") -> None:
        self.total = total
        self.enabled = enabled and sys.stderr.isatty()
        self.label = label
        self.start = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, accepted: int, attempts: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            if time.monotonic() - self.start < DELAY_S:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[attempts]} attempts"), transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, attempts=0)
        self._bar.update(self._task, completed=accepted, attempts=attempts)

    def __enter__(self) -> DelayedProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
