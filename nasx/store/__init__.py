"""Run store (SQLite, WAL); see run_store."""

from nasx.store.run_store import NewTrial, RunStore, TrialRecord

__all__ = ["NewTrial", "RunStore", "TrialRecord"]
