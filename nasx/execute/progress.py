"""Progress of a training session on stderr, and the summary of its failures.

On a terminal: a live two-line display (rich) that fits 80 columns. Elsewhere (a pipe, a log
file, CI): plain log lines, one every ``log_every`` finished trials or ``log_seconds`` seconds,
never control codes.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO, Any

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from nasx.errors import printable
from nasx.status import TrialStatus as S

FINAL = S.final()
LOG_SECONDS = 30.0  # at most this long between two plain progress lines (when trials finish)
MESSAGE_CHARS = 300  # a failure message is cut to this on the terminal (the store keeps all of it)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class _TwoLines(Progress):
    """A rich Progress whose task line is followed by one line of counts."""

    def __init__(self, *columns: Any, status: Any, **kwargs: Any) -> None:
        self._status = status
        super().__init__(*columns, **kwargs)

    def get_renderables(self) -> Iterator[RenderableType]:
        """The bar line, then the counts line (cut, never wrapped, on narrow terminals)."""
        yield self.make_tasks_table(self.tasks)
        yield Text(self._status(), no_wrap=True, overflow="ellipsis")


class ProgressView:
    """done / running / failed / diverged counts, elapsed, ETA and the best error so far."""

    def __init__(self, total: int, counts: dict[str, int], best: tuple[float, int] | None,
                 enabled: bool = True, *, console: Console | None = None,
                 log_every: int | None = None, log_seconds: float = LOG_SECONDS) -> None:
        self.total = total
        self.counts = dict(counts)
        self.best = best
        self.finished = 0  # trials of this session that reached a final status
        self.started = time.monotonic()
        console = console or Console(stderr=True)
        self._live = enabled and console.is_terminal
        self._log: IO[str] | None = console.file if enabled and not self._live else None
        self._log_every = log_every or max(1, math.ceil(total / 10))
        self._log_seconds = log_seconds
        self._logged = (0, self.started)  # (finished, time) of the last plain line
        self.epochs: dict[int, tuple[int, int]] = {}  # running trial -> (epoch done, of epochs)
        self._progress = _TwoLines(
            TextColumn("[bold]{task.description}[/]"), BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            status=self._text, console=console, disable=not self._live,
        )
        self._task = self._progress.add_task("train", total=total)

    def _text(self) -> str:
        # at most 77 characters with 5-digit counts: the live line fits 80 columns uncut
        c = self.counts
        best = "-" if self.best is None else f"{self.best[0]:.2f}% (#{self.best[1]})"
        shown = (S.DONE, S.RUNNING, S.FAILED, S.DIVERGED) + ((S.PRUNED,) if c.get(S.PRUNED) else ())
        counts = ", ".join(f"{s} {c.get(s, 0)}" for s in shown)
        return f"{counts}, best {best}"

    def _label(self) -> str:
        """``train``, with the epoch the running trials are at (e.g. ``train e3/10``)."""
        if not self.epochs:
            return "train"
        done = sorted(e for e, _ in self.epochs.values())
        total = max(t for _, t in self.epochs.values())
        span = f"{done[0]}" if done[0] == done[-1] else f"{done[0]}-{done[-1]}"
        return f"train e{span}/{total}"

    def epoch(self, trial_id: int, epoch: int, total: int) -> None:
        """A running trial finished ``epoch`` of ``total``: shown beside the bar."""
        self.epochs[trial_id] = (epoch, total)
        self._progress.update(self._task, description=self._label())

    def renderable(self) -> RenderableType:
        """What the live display shows now (for tests and for printing once)."""
        return self._progress.get_renderable()

    def log_line(self) -> str:
        """One plain line of progress, as written when the output is not a terminal."""
        elapsed = time.monotonic() - self.started
        eta = "-"
        if 0 < self.finished < self.total:
            eta = _clock(elapsed / self.finished * (self.total - self.finished))
        return (f"train: {self.finished}/{self.total} finished: {self._text()}, "
                f"elapsed {_clock(elapsed)}, ETA {eta}")

    def __enter__(self) -> ProgressView:
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()
        if self._log is not None and self._logged[0] != self.finished:
            self._write()  # where an interrupted session stopped

    def _write(self) -> None:
        assert self._log is not None
        self._log.write(self.log_line() + "\n")
        self._log.flush()
        self._logged = (self.finished, time.monotonic())

    def move(self, old: str | None, new: str, error: float | None = None,
             trial_id: int | None = None) -> None:
        """Record one status change (``old`` None for a fresh count) and refresh."""
        if old:
            self.counts[old] = self.counts.get(old, 0) - 1
        self.counts[new] = self.counts.get(new, 0) + 1
        if error is not None and trial_id is not None and (
                self.best is None or (error, trial_id) < self.best):
            self.best = (error, trial_id)
        advance = 1 if new in FINAL else 0
        self.finished += advance
        if trial_id is not None and new != S.RUNNING:
            self.epochs.pop(trial_id, None)
        self._progress.update(self._task, advance=advance, description=self._label())
        if self._log is not None and advance:
            last_n, last_t = self._logged
            if (self.finished == self.total or self.finished - last_n >= self._log_every
                    or time.monotonic() - last_t >= self._log_seconds):
                self._write()


def _one_line(message: str | None) -> str:
    """A failure message on one printable line: whitespace collapsed, controls escaped, cut."""
    return printable(" ".join((message or "no message").split()), MESSAGE_CHARS)


def failure_summary(trials: Iterable[Any], total: int, retry: str, most: int = 5) -> list[str]:
    """Lines that say how many of ``total`` trials failed and why (one line per distinct message).

    ``trials`` are store records (only those with status ``failed`` count); ``retry`` is the
    command that trains them again, e.g. ``nasx train runs/x --retry-failed``. Empty: none failed.
    Diverged trials are not failures (a loss that became non-finite is a result of the
    population, not of the tool) and are not counted here.
    """
    reasons = Counter(_one_line(t.message) for t in trials if t.status == S.FAILED)
    failed = sum(reasons.values())
    if not failed:
        return []
    noun = "trial" if failed == 1 else "trials"
    if len(reasons) == 1:
        lines = [f"{failed} of {total} {noun} failed: {next(iter(reasons))}"]
    else:
        lines = [f"{failed} of {total} {noun} failed, {len(reasons)} distinct reasons:"]
        for msg, n in reasons.most_common(most):
            lines.append(f"  {n} x {msg}")
        if len(reasons) > most:
            others = sum(n for _, n in reasons.most_common()[most:])
            lines.append(f"  {others} x other reasons ({len(reasons) - most} distinct; nasx ls"
                         " --format json shows every message)")
    lines.append(f"fix the cause, then `{retry}` trains the failed trials again")
    return lines
