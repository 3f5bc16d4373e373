"""Keep the safetensors weights of the best K trials (by test error) beside the run database."""

from __future__ import annotations

import os
from pathlib import Path

from nasx.store import RunStore
from nasx.store.run_store import WEIGHTS_DIR


def _write_atomic(path: Path, data: bytes) -> None:
    # tmp + fsync + rename: a crash leaves either the old file or the new one, never half of one
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class WeightKeeper:
    """Decides which trials keep their weights and writes / deletes the files (driver only)."""

    def __init__(self, store: RunStore, keep: int) -> None:
        self.store = store
        self.keep = keep
        self._kept: dict[int, float] = {
            t.id: (t.error if t.error is not None else float("inf"))
            for t in store.trials() if t.weights
        }
        self.sweep()

    def sweep(self) -> None:
        """Delete leftovers of an interrupted write: temp files and files the store does not name."""
        folder = self.store.weights_dir
        if not folder.is_dir():
            return
        named = {f"{i}.safetensors" for i in self._kept}
        for f in folder.iterdir():
            if f.is_file() and f.name not in named:
                f.unlink(missing_ok=True)

    def offer(self, trial_id: int, error: float | None, data: bytes | None) -> bool:
        """Keep ``data`` if the trial ranks among the best K; drop whoever it pushes out."""
        if self.keep <= 0 or data is None or error is None:
            return False
        ranked = sorted([*self._kept.items(), (trial_id, error)], key=lambda kv: (kv[1], kv[0]))
        winners = {i for i, _ in ranked[: self.keep]}
        if trial_id not in winners:
            return False
        self.store.weights_dir.mkdir(exist_ok=True)
        rel = f"{WEIGHTS_DIR}/{trial_id}.safetensors"
        _write_atomic(self.store.root / rel, data)
        self.store.set_weights(trial_id, rel)  # recorded only once the file is complete
        self._kept[trial_id] = error
        for loser in [i for i in self._kept if i not in winners]:
            self.store.set_weights(loser, None)  # forget first, then delete: never a dangling name
            (self.store.weights_dir / f"{loser}.safetensors").unlink(missing_ok=True)
            del self._kept[loser]
        return True
