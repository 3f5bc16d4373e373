"""Execution: train the trials of a run inline or on Ray Tune; the driver alone writes the store."""

from nasx.execute.driver import RunCounts, train_run
from nasx.execute.options import ExecOptions
from nasx.execute.registry import EXECUTORS

__all__ = ["EXECUTORS", "ExecOptions", "RunCounts", "train_run"]
