"""Trial statuses and origins: the one definition every layer imports (torch-free, base layer).

A status or origin is a ``StrEnum`` member, so it equals its string where the data is a string
(SQLite rows, JSON, pandas columns): ``frame["status"] == TrialStatus.DONE`` works, and the
store's CHECK constraint and ``nasx ls --status`` derive from these members.
"""

from __future__ import annotations

from enum import StrEnum


class TrialStatus(StrEnum):
    """Where a trial stands; a str, so ``status == "done"`` and the SQLite CHECK keep working.

    Adding a status: a member here (the schema's CHECK and ``nasx ls --status`` derive from it),
    then decide whether :meth:`final` holds it and what the driver does with it (execute/plan).
    """

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    DIVERGED = "diverged"
    # stopped by a pruner after an evaluated epoch: a partial curve, never a finished model
    PRUNED = "pruned"

    @classmethod
    def final(cls) -> tuple[TrialStatus, ...]:
        """The statuses a trial ends in (what ``RunStore.finish`` accepts)."""
        return (cls.DONE, cls.FAILED, cls.DIVERGED, cls.PRUNED)


class Origin(StrEnum):
    """Who made a trial: drawn from the space, suggested by refine, or retrained by fidelity.

    A ``fidelity`` trial repeats a finished sampled trial (``repeat_of``) with another seed or a
    longer schedule (``repeat_epochs``): a measurement of the population's noise, never a model
    of the search (the finished-population query leaves it out unless asked by name).
    """

    SAMPLED = "sampled"
    REFINE = "refine"
    FIDELITY = "fidelity"
