"""Keep the safetensors weights of the best K trials (by test error) beside the run database.

Crash safety (only the driver writes): a winner's file is written completely (temp file, fsync,
rename) *before* the one transaction that marks its trial done and names the file; losers are
forgotten by the store first and deleted after. A SIGKILL at any point therefore leaves either a
running trial (queued again on resume; its unnamed file is swept) or a done trial that holds its
weights, never a done winner without them. Resuming reconciles what a kill or a user left behind.
"""

from __future__ import annotations

import os
import sys

from nasx.errors import StoreError
from nasx.fsutil import atomic_write_bytes
from nasx.store import RunStore, finished_population
from nasx.store.run_store import WEIGHTS_DIR


def _ids(ids: list[int], most: int = 5) -> str:
    shown = ", ".join(str(i) for i in ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


class WeightKeeper:
    """Decides which trials keep their weights and writes / deletes the files (driver only).

    Use :meth:`prepare` before the trial's finish transaction (it writes the file of a winner and
    returns the path to record with it) and :meth:`admit` after it (it evicts the losers).
    """

    def __init__(self, store: RunStore, keep: int) -> None:
        self.store = store
        self.keep = keep
        folder = store.weights_dir
        if keep > 0 and os.path.lexists(folder) and not folder.is_dir():
            # caught before anything trains, rather than failing the first winner hours later
            raise StoreError("is in the way of the weights folder (not a folder); move it away"
                             " or pass --keep-weights 0", where=str(folder))
        self._kept: dict[int, float] = {}
        self._names: dict[int, str] = {}
        self.missing = self._reconcile()
        self.sweep()
        if self.missing:
            print(f"nasx: note: {self.missing}", file=sys.stderr)

    def _reconcile(self) -> str:
        """Forget dangling names, trim to the best K, and say which best trials lack weights."""
        trials = self.store.trials()
        dangling = []
        for t in trials:
            if not t.weights:
                continue
            if (self.store.root / t.weights).is_file():
                self._kept[t.id] = t.error if t.error is not None else float("inf")
                self._names[t.id] = t.weights
            else:  # deleted by hand, or never written by an older nasx: never name a ghost
                self.store.set_weights(t.id, None)
                dangling.append(t.id)
        if 0 < self.keep < len(self._kept):  # a kill between a winner's commit and evictions
            ranked = sorted(self._kept.items(), key=lambda kv: (kv[1], kv[0]))
            self._evict({i for i, _ in ranked[self.keep:]})
        if self.keep <= 0:
            return ""
        done = finished_population(trials, None, origins=None, any_recipe=True,
                                   stopped_early=True).trials
        best = sorted((t.error, t.id) for t in done if t.error is not None)
        lacking = [i for _, i in best[: self.keep] if i not in self._kept]
        if not lacking:
            return ""
        gone = f" (files of {_ids(dangling)} are missing)" if dangling else ""
        return (f"trial{'s' if len(lacking) > 1 else ''} {_ids(lacking)} of the best "
                f"{self.keep} hold{'s' if len(lacking) == 1 else ''} no weights{gone}; "
                f"`nasx export {self.store.root} --trial ID --train --out DIR` trains one again")

    def sweep(self) -> None:
        """Delete leftovers of an interrupted write: temp files and files the store does not name."""
        folder = self.store.weights_dir
        if not folder.is_dir() or folder.is_symlink():
            return
        named = {(self.store.root / rel).resolve() for rel in self._names.values()}
        for f in folder.iterdir():
            if f.is_file() and f.resolve() not in named:
                f.unlink(missing_ok=True)

    def _winners(self, trial_id: int, error: float) -> set[int]:
        ranked = sorted([*self._kept.items(), (trial_id, error)], key=lambda kv: (kv[1], kv[0]))
        return {i for i, _ in ranked[: self.keep]}

    def prepare(self, trial_id: int, error: float | None, data: bytes | None) -> str | None:
        """Write ``data`` when the trial ranks among the best K; the path to record, else None.

        Call before the trial's finish transaction. A failed write (disk full, permissions) keeps
        the run going: the trial is recorded without weights and a warning says why.
        """
        if self.keep <= 0 or data is None or error is None:
            return None
        if trial_id not in self._winners(trial_id, error):
            return None
        rel = f"{WEIGHTS_DIR}/{trial_id}.safetensors"
        try:
            self.store.weights_dir.mkdir(exist_ok=True)
            # durable: the finish transaction that names the file must never outrun its bytes
            atomic_write_bytes(self.store.root / rel, data, durable=True)
        except OSError as exc:
            print(f"nasx: warning: trial {trial_id}: weights not kept: cannot write "
                  f"{self.store.root / rel} ({exc.strerror or exc})", file=sys.stderr)
            return None
        return rel

    def admit(self, trial_id: int, error: float, rel: str) -> None:
        """After the finish transaction named ``rel``: count the trial and evict who it pushed out."""
        winners = self._winners(trial_id, error)
        self._kept[trial_id] = error
        self._names[trial_id] = rel
        self._evict(set(self._kept) - winners)

    def discard(self, rel: str) -> None:
        """Delete a prepared file whose finish transaction did not happen."""
        (self.store.root / rel).unlink(missing_ok=True)

    def _evict(self, losers: set[int]) -> None:
        for loser in sorted(losers):
            self.store.set_weights(loser, None)  # forget first, then delete: never a dangling name
            path = (self.store.root / self._names.pop(loser)).resolve()
            if path.parent == self.store.weights_dir.resolve():  # never outside the folder
                path.unlink(missing_ok=True)
            del self._kept[loser]
