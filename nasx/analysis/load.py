"""Read run stores into pandas frames and check that several runs can be compared.

A run is analysable when it has at least one trial and at least one ``done`` trial with a finite
error. The ``error`` column is the error every EDF, test and selection uses: the VALIDATION top-1
error of runs trained with a validation split (metrics ``val_error``); runs made before the split
only hold the test error, and are labelled so. ``test_error`` (metrics) is kept beside it, shown
where a final number belongs and never used to select.

One recipe per population (:mod:`nasx.train.population`, the one rule): a trial trained with
another recipe than the run's (store meta ``recipe``) is kept out of the population frame and
shown apart; runs without a recorded recipe (older runs) count every trial. Several runs are
comparable when their errors measure the same thing: the same population recipe (the same rule,
:func:`nasx.train.population.diff`), the same number of classes and the same kind of error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from nasx.errors import AnalysisError, printable
from nasx.store.finished import PopulationRule, finished_population, run_recipe_of
from nasx.store.measurements import StoredMeasurement, get_measurements
from nasx.store.proxies import get_proxies
from nasx.store.run_store import STATUSES, Origin, RunStore, TrialStatus, trials_frame
from nasx.train import population
from nasx.types import JSONObject, Scalar

ERROR_LABELS = {"validation": "validation top-1 error (%)", "test": "test top-1 error (%)"}


class RecipeGroup(TypedDict):
    """Finished trials trained with another recipe that differ from the population alike."""

    diff: str  # what differs, e.g. "epochs 2 -> 5" ("recipe" when no key says)
    n: int
    ids: list[int]


@dataclass(frozen=True)
class RunData:
    """One run read for analysis: its identity, its space file and its trials.

    ``recipe`` is the run's population recipe (store meta; None for runs made before nasx
    recorded it); ``error_kind`` says what the ``error`` column is (``validation`` or ``test``).
    The frame is read-only once made: its row selections are computed once (cached).
    """

    name: str
    root: Path
    meta: JSONObject  # the store's meta, as stored (summary.json repeats it)
    space_text: str
    frame: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    recipe: dict[str, Scalar] | None = None
    error_kind: str = "validation"
    # zero-cost proxies from `nasx proxies`: trial id -> name -> value (empty without the table)
    proxies: dict[int, dict[str, float | None]] = field(default_factory=dict)
    # measured latency and memory from `nasx measure`: trial id -> key -> row (empty without)
    measurements: dict[int, dict[str, StoredMeasurement]] = field(default_factory=dict)

    @property
    def error_label(self) -> str:
        """What the ``error`` column is, for axis labels and tables."""
        return ERROR_LABELS[self.error_kind]

    @cached_property
    def done(self) -> pd.DataFrame:
        """Finished trials with a finite error (every origin, every recipe)."""
        return self.frame[self.frame["ok"]]

    @cached_property
    def comparable(self) -> pd.DataFrame:
        """Finished trials trained with the population's recipe (sampled and refine)."""
        d = self.done
        return d[d["in_population"]]

    @cached_property
    def sampled(self) -> pd.DataFrame:
        """Finished trials drawn from the space with the run's recipe: the population."""
        d = self.comparable
        return d[d["origin"] == "sampled"]

    @cached_property
    def refined(self) -> pd.DataFrame:
        """Finished trials suggested by refine with the run's recipe (kept apart)."""
        d = self.comparable
        return d[d["origin"] == "refine"]

    @cached_property
    def other_recipe(self) -> pd.DataFrame:
        """Finished trials trained with another recipe than the population's (kept apart)."""
        d = self.done
        return d[~d["in_population"]]

    def recipe_groups(self) -> list[RecipeGroup]:
        """Finished trials with another recipe, grouped by what differs (``epochs 2 -> 5``)."""
        other = self.other_recipe
        if other.empty or self.recipe is None:
            return []
        groups: dict[str, list[int]] = {}
        for tid, rec, hp in zip(other["id"], other["recipe"], other["hparams"], strict=True):
            what = ", ".join(population.diff(self.recipe, rec or {}, (hp or {}).keys()))
            groups.setdefault(what or "recipe", []).append(int(tid))
        return [{"diff": k, "n": len(v), "ids": v} for k, v in sorted(groups.items())]

    def exclusion_note(self) -> str | None:
        """One sentence on the trials kept out of the population for their recipe, or None."""
        groups = self.recipe_groups()
        if not groups:
            return None
        n = sum(g["n"] for g in groups)
        what = "; ".join(g["diff"] for g in groups)
        return (f"{self.name}: {n} trial{'s' if n != 1 else ''} trained with another recipe"
                f" ({what}) {'are' if n != 1 else 'is'} shown apart and excluded from the"
                " population (EDFs, tests, good ranges, trends, best models)")


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _metric(m: Any, key: str) -> float:
    """A finite metric from a trial's metrics dict, NaN when absent or not a number."""
    if isinstance(m, dict):
        v = m.get(key)
        if _finite(v):
            return float(v)
    return math.nan


def population_mask(frame: pd.DataFrame, run_recipe: Mapping[str, Scalar] | None) -> pd.Series:
    """Per trial: trained with the run's population recipe (:func:`population.in_population`).

    Cached per distinct (recipe without sampled keys, sampled keys): trials of one population
    differ only in their sampled hparams, so the rule is evaluated a handful of times per run.
    """
    rule = PopulationRule(run_recipe)
    out = [rule(rec if isinstance(rec, dict) else None, hp if isinstance(hp, dict) else {})
           for rec, hp in zip(frame["recipe"], frame["hparams"], strict=True)]
    return pd.Series(out, index=frame.index, dtype=bool)


def _error_kind(frame: pd.DataFrame) -> str:
    """``validation`` when the finished trials carry a validation error, else ``test`` (old)."""
    # The metrics say it: the store's own val_error column repeats ``error`` whatever it is.
    done = frame[frame["ok"]]
    has_val = done["metrics"].map(lambda m: _finite(_metric(m, "val_error"))).any()
    return "validation" if has_val else "test"


def read_run(run_dir: str | Path) -> RunData:
    """Open one run folder; AnalysisError when it is empty or has no finished trial."""
    root = Path(run_dir)
    with RunStore.open(root, readonly=True) as store:
        meta = store.meta()
        trials = store.trials()
        counts = store.counts()
        space_text = store.space_text(missing_ok=True)
        proxies = get_proxies(store)
        measurements = get_measurements(store)
    frame = trials_frame(trials)
    # Names reach terminals, figures and pages: control characters escaped, length bounded.
    name = printable(meta.get("name") or root.name, limit=100)
    if frame.empty:
        raise AnalysisError("the run has no trials; sample it first (nasx sample)", where=str(root))
    frame = frame.sort_values("id").reset_index(drop=True)
    run_recipe = run_recipe_of(meta)
    # The one query of the store: every origin of the search (refine trials are shown apart;
    # fidelity repeats are read by nasx.analysis.fidelity), pruned trials kept.
    finished = finished_population(trials, run_recipe, origins=None, stopped_early=True)
    frame["ok"] = frame["id"].isin([t.id for t in finished.trials + finished.other_recipe])
    if not frame["ok"].any():
        status = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        raise AnalysisError(
            f"no finished (done) trial with an error to analyse ({status}); train it first",
            where=str(root),
        )
    frame["error"] = pd.to_numeric(frame["error"], errors="coerce")
    if "test_error" in frame.columns:  # the store's own column (newer nasx)
        frame["test_error"] = pd.to_numeric(frame["test_error"], errors="coerce")
    else:
        frame["test_error"] = frame["metrics"].map(lambda m: _metric(m, "test_error"))
    frame["in_population"] = frame["id"].isin(finished.ids)
    kind = _error_kind(frame)
    if kind == "test":
        # Runs from before the validation split: the error IS the test error.
        frame["test_error"] = frame["test_error"].fillna(frame["error"])
    counts = {s: int(counts.get(s, 0)) for s in STATUSES}
    # fidelity repeats are measurements of noise, not models: left out of ``ok`` by the query
    done = (frame["status"] == TrialStatus.DONE) & (frame["origin"] != Origin.FIDELITY)
    counts["done_without_error"] = int((done & ~frame["ok"]).sum())
    return RunData(name=name, root=root, meta=meta, space_text=space_text, frame=frame,
                   counts=counts, recipe=run_recipe, error_kind=kind, proxies=proxies,
                   measurements=measurements)


def reference_recipe(run: RunData) -> dict[str, Scalar]:
    """The recipe a run's errors were measured with: its population recipe, or (older runs)
    the recipe of its first finished population trial."""
    if run.recipe is not None:
        return run.recipe
    pop = run.sampled if len(run.sampled) else run.comparable
    first = next((r for r in pop["recipe"] if isinstance(r, dict)), None)
    return first or {}


def sampled_keys(run: RunData) -> set[str]:
    """Recipe keys the space samples per trial (hparams columns)."""
    return {c[2:] for c in run.frame.columns if c.startswith("h.")}


def _classes(run: RunData) -> list[str]:
    pop = run.comparable
    return sorted({repr((s or {}).get("head", {}).get("num_classes")) for s in pop["spec"]})


def metric_differences(a: RunData, b: RunData) -> list[tuple[str, str]]:
    """What makes the errors of two runs measure different things: (key, ``old -> new``) pairs.

    The recipe part is :func:`nasx.train.population.diff` (keys sampled per trial in either run
    do not count); then the number of classes and the kind of error (validation vs test).
    """
    skip = sampled_keys(a) | sampled_keys(b)
    out = [(d.split(" ", 1)[0], d) for d in
           population.diff(reference_recipe(a), reference_recipe(b), skip)]
    ca, cb = _classes(a), _classes(b)
    if ca != cb:
        out.append(("num_classes", f"num_classes {'/'.join(ca)} -> {'/'.join(cb)}"))
    if a.error_kind != b.error_kind:
        out.append(("error", f"error {a.error_kind} -> {b.error_kind}"))
    return out


def check_comparable(runs: list[RunData], allow: bool = False) -> dict[tuple[str, str], list[str]]:
    """Differences in what the errors measure, per pair of run names.

    AnalysisError naming both runs and the keys unless ``allow`` (then the report names them as
    confounds of the comparison).
    """
    found: dict[tuple[str, str], list[str]] = {}
    for i, first in enumerate(runs):
        for other in runs[i + 1:]:
            diffs = metric_differences(first, other)
            if not diffs:
                continue
            if not allow:
                keys = ", ".join(f"'{k}'" for k, _ in diffs)
                raise AnalysisError(
                    f"runs {first.name} and {other.name} cannot be compared: they differ in"
                    f" {keys} ({'; '.join(d for _, d in diffs)}), so their errors measure"
                    " different things (--allow-incomparable compares them anyway, naming this)",
                    where=str(other.root),
                )
            found[(first.name, other.name)] = [d for _, d in diffs]
    return found


def _unique_names(runs: list[RunData]) -> list[RunData]:
    """Rename runs that share a name (e.g. two copies of one space) after their folders."""
    seen: dict[str, int] = {}
    for r in runs:
        seen[r.name] = seen.get(r.name, 0) + 1
    return [replace(r, name=f"{r.name}@{r.root}") if seen[r.name] > 1 else r for r in runs]


def read_runs(run_dirs: list[str | Path], allow_incomparable: bool = False) -> list[RunData]:
    """Read and validate several runs (each analysable, all comparable, none given twice)."""
    if not run_dirs:
        raise AnalysisError("no run given; name at least one run folder")
    seen: dict[Path, str] = {}
    for d in run_dirs:
        real = Path(d).resolve()
        if real in seen:
            raise AnalysisError(f"the same run is given twice ({seen[real]} and {d}); name each"
                                " run once", where=str(d))
        seen[real] = str(d)
    runs = _unique_names([read_run(d) for d in run_dirs])
    check_comparable(runs, allow=allow_incomparable)
    return runs


def load_runs(run_dirs: list[str | Path]) -> pd.DataFrame:
    """All trials of the given runs in one frame with a ``run`` column (validated as read_runs)."""
    runs = read_runs(run_dirs)
    frames = [r.frame.assign(run=r.name) for r in runs]
    return pd.concat(frames, ignore_index=True)
