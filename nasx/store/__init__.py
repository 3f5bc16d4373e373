"""Run store (SQLite, WAL): the store class in run_store, its typed rows in records, the schema
in schema, and the one query of a run's finished population in finished."""

from nasx.store.finished import Finished, finished_population, is_finished
from nasx.store.records import NewTrial, Origin, TrialRecord, TrialStatus
from nasx.store.run_store import RunStore, trials_frame

__all__ = ["Finished", "NewTrial", "Origin", "RunStore", "TrialRecord", "TrialStatus",
           "finished_population", "is_finished", "trials_frame"]
