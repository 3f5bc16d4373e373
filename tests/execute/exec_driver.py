"""A driver process for the crash tests.

``python exec_driver.py RUN SCRATCH EXECUTOR FN SLEEP [PAUSE WHERE]``: train RUN with the fake
trial function FN (module:name), SLEEP seconds per trial. With PAUSE, every ``RunStore.finish``
transaction is preceded (WHERE=before) or followed (WHERE=after) by PAUSE seconds of sleep, which
widens the window around "trial turned done" so that a test can SIGKILL the driver inside it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from nasx.execute import ExecOptions, train_run
from nasx.store import RunStore


def _pause_around_finish(pause: float, where: str) -> None:
    finish = RunStore.finish

    def slow_finish(self: RunStore, *args: Any, **kwargs: Any) -> None:
        if where == "before":
            time.sleep(pause)
        finish(self, *args, **kwargs)
        if where == "after":
            time.sleep(pause)

    RunStore.finish = slow_finish  # type: ignore[method-assign]


def main() -> None:
    """Train the run; print the final counts."""
    run, scratch, executor, fn, sleep = sys.argv[1:6]
    if len(sys.argv) > 6:
        _pause_around_finish(float(sys.argv[6]), sys.argv[7])
    opts = ExecOptions(executor=executor, progress=False,
                       overrides={"data_dir": scratch, "lr": float(sleep)})
    with RunStore.open(run) as store:
        print(train_run(store, opts, trial_fn=fn), flush=True)


if __name__ == "__main__":
    main()
