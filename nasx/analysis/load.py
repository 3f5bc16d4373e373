"""Read run stores into pandas frames and check that several runs can be compared.

A run is analysable when it has at least one trial and at least one ``done`` trial with a finite
error. Several runs are comparable when their errors measure the same thing: the same data set
and the same training budget (recipe keys in :data:`METRIC_KEYS` that are not sampled per trial)
and the same number of classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from nasx.errors import AnalysisError
from nasx.store.run_store import STATUSES, RunStore

# Recipe keys that define what "error" means; runs differing in one of them are not comparable.
METRIC_KEYS = ("data", "data_dir", "epochs", "train_fraction")


@dataclass(frozen=True)
class RunData:
    """One run read for analysis: its identity, its space file and its trials."""

    name: str
    root: Path
    meta: dict[str, Any]
    space_text: str
    frame: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> pd.DataFrame:
        """Finished trials with a finite error (every origin)."""
        return self.frame[self.frame["ok"]]

    @property
    def sampled(self) -> pd.DataFrame:
        """Finished trials drawn from the space (origin ``sampled``): the population."""
        d = self.done
        return d[d["origin"] == "sampled"]

    @property
    def refined(self) -> pd.DataFrame:
        """Finished trials suggested by refine (kept apart from the population)."""
        d = self.done
        return d[d["origin"] == "refine"]


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def read_run(run_dir: str | Path) -> RunData:
    """Open one run folder; AnalysisError when it is empty or has no finished trial."""
    root = Path(run_dir)
    with RunStore.open(root) as store:
        meta = store.meta()
        frame = store.dataframe()
        counts = store.counts()
        space_text = store.space_path.read_text() if store.space_path.is_file() else ""
    name = str(meta.get("name") or root.name)
    if frame.empty:
        raise AnalysisError("the run has no trials; sample it first (nasx sample)", file=str(root))
    frame = frame.sort_values("id").reset_index(drop=True)
    frame["ok"] = (frame["status"] == "done") & frame["error"].map(_finite)
    if not frame["ok"].any():
        status = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        raise AnalysisError(
            f"no finished (done) trial with an error to analyse ({status}); train it first",
            file=str(root),
        )
    frame["error"] = pd.to_numeric(frame["error"], errors="coerce")
    counts = {s: int(counts.get(s, 0)) for s in STATUSES}
    counts["done_without_error"] = int(((frame["status"] == "done") & ~frame["ok"]).sum())
    return RunData(name=name, root=root, meta=meta, space_text=space_text, frame=frame,
                   counts=counts)


def _metric_identity(run: RunData) -> dict[str, Any]:
    """The values of METRIC_KEYS (unless sampled per trial) and num_classes of a run's trials."""
    done = run.done
    sampled = {c[2:] for c in done.columns if c.startswith("h.")}
    ident: dict[str, set[str]] = {}
    for recipe in done["recipe"]:
        for key in METRIC_KEYS:
            if key not in sampled:
                ident.setdefault(key, set()).add(repr((recipe or {}).get(key)))
    for spec in done["spec"]:
        ident.setdefault("num_classes", set()).add(repr((spec or {}).get("head", {}).get(
            "num_classes")))
    return {k: sorted(v) for k, v in ident.items()}


def check_comparable(runs: list[RunData]) -> None:
    """AnalysisError naming both runs and the key when their errors measure different things."""
    if len(runs) < 2:
        return
    first = runs[0]
    ref = _metric_identity(first)
    for other in runs[1:]:
        ident = _metric_identity(other)
        for key in sorted(set(ref) | set(ident)):
            a, b = ref.get(key, ["None"]), ident.get(key, ["None"])
            if a != b:
                raise AnalysisError(
                    f"runs {first.name} and {other.name} cannot be compared: their recipes differ"
                    f" in '{key}' ({'/'.join(a)} vs {'/'.join(b)}), so their errors measure"
                    " different things",
                    file=str(other.root),
                )


def _unique_names(runs: list[RunData]) -> list[RunData]:
    """Rename runs that share a name (e.g. two copies of one space) after their folders."""
    seen: dict[str, int] = {}
    for r in runs:
        seen[r.name] = seen.get(r.name, 0) + 1
    out = []
    for r in runs:
        if seen[r.name] > 1:
            r = RunData(name=f"{r.name}@{r.root}", root=r.root, meta=r.meta,
                        space_text=r.space_text, frame=r.frame, counts=r.counts)
        out.append(r)
    return out


def read_runs(run_dirs: list[str | Path]) -> list[RunData]:
    """Read and validate several runs (each analysable, all comparable)."""
    if not run_dirs:
        raise AnalysisError("no run given; name at least one run folder")
    runs = _unique_names([read_run(d) for d in run_dirs])
    check_comparable(runs)
    return runs


def load_runs(run_dirs: list[str | Path]) -> pd.DataFrame:
    """All trials of the given runs in one frame with a ``run`` column (validated as read_runs)."""
    runs = read_runs(run_dirs)
    frames = [r.frame.assign(run=r.name) for r in runs]
    return pd.concat(frames, ignore_index=True)
