"""A driver process for the crash tests: ``python exec_driver.py RUN SCRATCH EXECUTOR FN SLEEP``."""

from __future__ import annotations

import sys

from nasx.execute import ExecOptions, train_run
from nasx.store import RunStore


def main() -> None:
    """Train the run with the fake trial function FN (module:name), SLEEP seconds per trial."""
    run, scratch, executor, fn, sleep = sys.argv[1:6]
    opts = ExecOptions(executor=executor, progress=False,  # type: ignore[arg-type]
                       overrides={"data_dir": scratch, "lr": float(sleep)})
    with RunStore.open(run) as store:
        print(train_run(store, opts, trial_fn=fn), flush=True)


if __name__ == "__main__":
    main()
