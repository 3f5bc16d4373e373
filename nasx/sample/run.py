"""Writing sampled trials into run folders: :func:`create_run`.

A run folder is built beside its target under a temporary name and renamed into place only when
complete, so an error (a bad space, too few samples, Ctrl-C) never leaves half a run behind.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nasx import __version__
from nasx.errors import StoreError
from nasx.fsutil import InstallError, atomic_folder, temp_folder_beside
from nasx.sample.accept import Measurer
from nasx.sample.progress import DelayedProgress
from nasx.sample.sampler import SampleResult, check_counts, sample_space
from nasx.space import SearchSpace, load_space
from nasx.store import RunStore
from nasx.store.measurements import StoredMeasurement, ensure_table, put_measurements


@dataclass(frozen=True)
class SampleSummary:
    """What ``create_run`` did, for the CLI's summary."""

    name: str
    out: Path
    n: int
    seed: int
    accepted: int
    attempts: int
    rejected: dict[str, int] = field(default_factory=dict)
    flops: tuple[int, int] = (0, 0)  # min, max over the trials
    params: tuple[int, int] = (0, 0)
    existed: bool = False  # the folder already held this very run: nothing was written
    seconds: float = 0.0
    # measured constraints (run meta "measured"): their keys, the distinct candidates measured
    # and how many of those they rejected; () / 0 for a space without them
    measured_keys: tuple[str, ...] = ()
    measured: int = 0
    measured_rejected: int = 0

    @property
    def acceptance_rate(self) -> float:
        """accepted / attempts."""
        return self.accepted / self.attempts if self.attempts else 0.0

    def measured_line(self) -> str | None:
        """``measured latency_ms of 37 candidates (12 rejected)``; None without measured
        constraints."""
        if not self.measured_keys:
            return None
        return (f"measured {', '.join(self.measured_keys)} of {self.measured} candidates "
                f"({self.measured_rejected} rejected)")


def _summary(store: RunStore, space: SearchSpace, n: int, seed: int, *, existed: bool,
             seconds: float) -> SampleSummary:
    meta = store.meta()
    accepted, flops, params = store.size_range()  # in SQL: decoding 500 rows cost ~30 ms
    measured = meta.get("measured")
    m = measured if isinstance(measured, dict) else {}
    return SampleSummary(
        name=str(meta.get("name", space.name)), out=store.root, n=n, seed=seed,
        accepted=accepted, attempts=int(meta.get("attempts", 0)),
        rejected=dict(meta.get("rejected", {})), flops=flops, params=params,
        existed=existed, seconds=seconds,
        measured_keys=tuple(str(k) for k in m.get("keys", [])),
        measured=int(m.get("candidates", 0)), measured_rejected=int(m.get("rejected", 0)),
    )


def _check_target(out: Path, space: SearchSpace, n: int, seed: int) -> bool:
    """True when ``out`` already holds this run; StoreError when it holds anything else."""
    if RunStore.exists(out):
        with RunStore.open(out) as store:
            meta = store.meta()
        same = (meta.get("space_sha256"), meta.get("n"), meta.get("seed")) == (space.sha256, n, seed)
        if same:
            return True
        raise StoreError(
            "holds a different run (space sha256 "
            f"{str(meta.get('space_sha256'))[:12]}, n {meta.get('n')}, seed {meta.get('seed')}; "
            f"wanted {space.sha256[:12]}, n {n}, seed {seed}); pick another --out or remove it",
            where=str(out),
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StoreError("exists and is not a nasx run (expected an empty folder)", where=str(out))
    return False


def create_run(
    space_path: str | Path | SearchSpace,
    n: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    progress: bool = True,
    max_attempts: int | None = None,
    measure: Measurer | None = None,
) -> tuple[RunStore, SampleSummary]:
    """Sample ``n`` trials of a space (a loaded one, or a path loaded here) and write ``out``
    (default ``runs/<space name>``).

    Re-running with the same space, n and seed into the same folder changes nothing. A space
    with measured constraints needs ``measure`` (``nasx.measure.probe.constraint_measurer``);
    what it measured for each trial goes to the run's measurements table.
    """
    started = time.monotonic()
    space = space_path if isinstance(space_path, SearchSpace) else load_space(space_path)
    space_path = space.path if isinstance(space_path, SearchSpace) else space_path
    n = space.n if n is None else n
    seed = space.seed if seed is None else seed
    check_counts(str(space_path), n, seed)
    target = Path(out) if out is not None else Path("runs") / space.name
    sweep_stale_tmp(target)
    if _check_target(target, space, n, seed):
        store = RunStore.open(target)
        return store, _summary(store, space, n, seed, existed=True,
                               seconds=time.monotonic() - started)

    with DelayedProgress(n, enabled=progress) as bar:
        result = sample_space(space, n, np.random.default_rng(seed), max_attempts=max_attempts,
                              progress=bar, measure=measure)
    meta = {
        "name": space.name, "family": space.family, "space_file": str(space_path),
        "space_sha256": space.sha256, "seed": seed, "n": n, "nasx_version": __version__,
        "attempts": result.attempts, "rejected": result.rejected,
    }
    if space.measured:  # only then: the meta of every other run stays as it was
        meta["measured"] = {"keys": list(space.measured), "candidates": result.measured,
                            "rejected": result.measured_rejected,
                            "settings": space.measure.to_dict()}
    _write_atomically(target, space, meta, result)
    store = RunStore.open(target)
    return store, _summary(store, space, n, seed, existed=False,
                           seconds=time.monotonic() - started)


# What a temporary run folder holds (RunStore.create, SQLite's side files): nothing else is ours.
_RUN_FILES = frozenset({"space.yaml", "run.db", "run.db-wal", "run.db-shm", "run.db-journal"})


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_stale_tmp(target: Path) -> list[Path]:
    """Remove ``.NAME.tmp-PID`` folders beside ``target`` left by a killed sampler; returns them.

    Only folders of dead PIDs that hold nothing but run files are removed: a live sampler's
    folder, or one that holds anything else, is left alone.
    """
    parent = target.parent
    prefix = f".{target.name}.tmp-"
    if not parent.is_dir():
        return []
    removed = []
    try:
        for p in parent.iterdir():
            pid = p.name[len(prefix):]
            if (not p.name.startswith(prefix) or not pid.isdigit() or p.is_symlink()
                    or not p.is_dir() or int(pid) == os.getpid() or _pid_alive(int(pid))):
                continue
            if all(f.name in _RUN_FILES and f.is_file() for f in p.iterdir()):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    except OSError:  # an unreadable parent: nothing to sweep that we could see
        pass
    return removed


def _write_atomically(target: Path, space: SearchSpace, meta: dict[str, object],
                      result: SampleResult) -> None:
    """Build the run under a temporary name beside ``target``, then rename it into place."""
    # the name sweep_stale_tmp knows; a run folder gets the umask's permissions, like mkdir
    tmp = temp_folder_beside(target, name=f".{target.name}.tmp-{os.getpid()}")
    try:
        # target: absent or empty (_check_target). The store closes before the folder moves:
        # closing the last connection checkpoints the WAL, so the folder moves as a whole.
        with (atomic_folder(target, tmp=tmp) as folder,
              RunStore.create(folder, space.text, meta) as store):
            ids = store.add_trials(result.trials)
            _record_measurements(store, ids, result)
    except InstallError as exc:  # e.g. another `nasx sample` filled the folder meanwhile
        raise StoreError(f"cannot move the new run into place ({exc.strerror or exc})",
                         where=str(target)) from None


def _record_measurements(store: RunStore, ids: list[int], result: SampleResult) -> None:
    """What the measured constraints read for each trial, in the measurements table under the
    constraint's key (``latency_ms``, ``memory_mb``) with device, batch, threads and method."""
    if not result.measurements:
        return
    ensure_table(store)
    for trial_id, trial in zip(ids, result.trials, strict=True):
        got = result.measurements.get(trial.fingerprint, {})
        put_measurements(store, trial_id, [
            StoredMeasurement(key, m.median, m.spread, m.device, m.batch, m.threads,
                              f"{m.method} ({m.key}, at sampling)")
            for key, m in got.items()])
