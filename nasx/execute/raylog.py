"""Ray's reports of dead workers and nodes, cut to one line each for the user.

When a node dies mid-run, Tune's controller logs every trial it loses at ERROR level with the
full traceback of Ray's ``ActorUnavailableError`` / ``ActorDiedError`` (tens of lines each).
nasx stores the event (the trial goes back to pending and is retried) and says it in one line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

LOGGERS = ("ray.tune.execution.tune_controller", "ray.tune")


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class OneLine(logging.Filter):
    """Drops tracebacks of lost trials and prints one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record with a traceback (its one line is printed here)."""
        if not record.exc_info or record.levelno < logging.ERROR:
            return True
        exc = record.exc_info[1]
        first = str(exc).splitlines()[0] if exc is not None and str(exc) else ""
        print(one_line(f"nasx: {record.getMessage()}: {type(exc).__name__}: {first} (a worker "
                       "or node died; the trial is retried up to --max-failures times)"),
              file=sys.stderr, flush=True)
        return False


@contextmanager
def one_line_failures() -> Iterator[None]:
    """While it lasts, a lost trial is one line on stderr, not a traceback."""
    flt = OneLine()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    for log in loggers:
        log.addFilter(flt)
    try:
        yield
    finally:
        for log in loggers:
            log.removeFilter(flt)
