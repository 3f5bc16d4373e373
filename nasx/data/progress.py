"""A progress display for long conversions: images done, images/s and ETA.

On a terminal one line is rewritten in place (at most 5 times a second); off a terminal a plain
line is printed every tenth of the work or every 30 s, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    s = int(max(0.0, seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    """Counts images converted and prints the rate and the time left."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total = 0
        self.done = 0
        self._base = 0  # done before this process started (a resumed conversion)
        self._t0 = time.monotonic()
        self._last = 0.0
        self._last_tenth = -1

    def start(self, total: int, already: int = 0) -> None:
        """Set the total; ``already`` images were converted by an earlier, killed attempt."""
        self.total, self.done, self._base = total, already, already
        self._t0 = time.monotonic()
        if already:
            print(f"{self.label}: resuming, {already}/{total} images already converted",
                  file=self.stream, flush=True)

    def line(self) -> str:
        """The current status line."""
        elapsed = max(1e-9, time.monotonic() - self._t0)
        rate = (self.done - self._base) / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (f"{self.label}: {self.done}/{self.total} images ({pct:.0f}%), {rate:,.0f} images/s,"
                f" ETA {_clock(left)}")

    def advance(self, n: int) -> None:
        """``n`` more images converted."""
        self.done += n
        now = time.monotonic()
        if self.tty:
            if now - self._last >= 0.2:
                self._last = now
                print("\r" + self.line(), end="", file=self.stream, flush=True)
            return
        tenth = int(10 * self.done / self.total) if self.total else 10
        if tenth > self._last_tenth or now - self._last >= 30.0:
            self._last_tenth, self._last = tenth, now
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        """End the display (a newline after the live line)."""
        if self.tty and self._last:
            print("\r" + self.line(), file=self.stream, flush=True)
