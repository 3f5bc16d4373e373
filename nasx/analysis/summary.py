"""Every number a report shows, computed from validated runs into one JSON-able dict.

The population of a run is its finished trials of origin ``sampled`` trained with the run's
recipe; trials of origin ``refine`` (suggested by an optimiser, not drawn from the space) get their
own EDF, and trials trained with another recipe get theirs too: both are left out of the
population EDF, the normalised EDF, the good ranges, the trends and the comparisons; other-recipe
trials are also left out of the best models, the Pareto front and the stage profiles.

Every error is the run's ``error`` column: the validation top-1 error (the test error for runs
made before the validation split, labelled so). The test error is only shown beside the best
models, never used to select them.
"""

from __future__ import annotations

import difflib
import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nasx.analysis.compare import compare
from nasx.analysis.edf import EDF, edf, edf_distance, normalized_edf
from nasx.analysis.load import ERROR_LABELS, RunData, check_comparable
from nasx.analysis.ranges import best_of_k, good_ranges
from nasx.analysis.trends import COMPLEXITY, pareto_front, stage_profiles, trend, varying_columns
from nasx.analysis.verdict import pair_verdict

NORMALIZE = ("flops", "params", "none")


def clean(obj: Any) -> Any:
    """Make ``obj`` strict-JSON-able: numpy scalars to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def recipe_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Recipe keys shared by every finished trial, and the keys that vary (sampled hparams)."""
    recipes = [r for r in frame["recipe"] if isinstance(r, dict)]
    if not recipes:
        return {"common": {}, "varying": {}}
    keys = sorted(set().union(*recipes))
    common: dict[str, Any] = {}
    varying: dict[str, Any] = {}
    for k in keys:
        vals = [r.get(k) for r in recipes]
        if len({repr(v) for v in vals}) == 1:
            common[k] = vals[0]
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            varying[k] = {"n_distinct": len(set(vals)), "min": min(vals), "max": max(vals)}
        else:
            varying[k] = {"n_distinct": len({repr(v) for v in vals}),
                          "values": sorted({repr(v) for v in vals})[:10]}
    return {"common": common, "varying": varying}


def population(run: RunData) -> tuple[pd.DataFrame, str]:
    """The frame the distribution statistics use, and a word on what it is."""
    if len(run.sampled):
        return run.sampled, "sampled"
    if len(run.comparable):
        return run.comparable, ("all finished trials with the run's recipe (the run has no"
                                " finished sampled trial)")
    return run.done, "all finished trials (none was trained with the run's recipe)"


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def error_label(runs: list[RunData]) -> str:
    """What the error of every figure and table is (one label when all runs agree)."""
    kinds = sorted({r.error_kind for r in runs})
    if len(kinds) == 1:
        return ERROR_LABELS[kinds[0]]
    return "top-1 error (%): " + ", ".join(f"{r.name} {r.error_kind}" for r in runs)


def _run_summary(run: RunData, normalize: str, bins: int, seed: int, alpha: float,
                 lohi: tuple[float, float] | None, top_frac: float) -> dict[str, Any]:
    pop, what = population(run)
    err = pop["error"].to_numpy(dtype=float)
    comparable = run.comparable if len(run.comparable) else run.done
    other = run.other_recipe
    out: dict[str, Any] = {
        "name": run.name, "root": str(run.root), "meta": run.meta, "population": what,
        "error": run.error_label, "error_kind": run.error_kind,
        "counts": {**run.counts, "finished_sampled": len(run.sampled),
                   "finished_refine": len(run.refined), "finished_other_recipe": len(other),
                   "total": len(run.frame)},
        "population_recipe": run.recipe,
        "other_recipe": {"groups": run.recipe_groups(), "note": run.exclusion_note(),
                         "edf": (edf(other["error"].to_numpy(dtype=float), alpha=alpha).to_dict()
                                 if len(other) else None)},
        "ids": pop["id"].astype(int).tolist(),
        "edf": edf(err, alpha=alpha).to_dict(),
        "median_error": float(np.median(err)),
        "best_error": float(err.min()),
        "best_id": int(pop["id"].to_numpy()[int(np.argmin(err))]),
        "best_test_error": _num(pop["test_error"].to_numpy()[int(np.argmin(err))]),
        "refine_edf": (edf(run.refined["error"].to_numpy(dtype=float), alpha=alpha).to_dict()
                       if len(run.refined) else None),
        "best_of_k": best_of_k(err),
        "recipe": recipe_summary(comparable),
        "space_file": run.meta.get("space_file"),
        "space_sha256": run.meta.get("space_sha256"),
        "space_text": run.space_text,
    }
    if normalize != "none" and lohi is not None:
        nedf, b, w = normalized_edf(err, pop[normalize].to_numpy(dtype=float), bins, normalize,
                                    alpha, lo=lohi[0], hi=lohi[1])
        out["normalized"] = {"edf": nedf.to_dict(), "bins": b.to_dict(), "weights": w.tolist(),
                             "weights_sum": float(w.sum()),
                             "weights_order": "same order as ids"}
    else:
        out["normalized"] = None
    params = varying_columns(pop)
    out["parameters"] = params
    cols = ["id", "origin", "in_population", "error", *COMPLEXITY, *params]
    out["points"] = run.done[cols].to_dict(orient="records")
    out["good_ranges"] = good_ranges(pop, params + list(COMPLEXITY), seed=seed)
    out["trends"] = [trend(pop, c) for c in params + list(COMPLEXITY)]
    out["stage_profiles"] = stage_profiles(comparable, top_frac)
    out["pareto_flops"] = pareto_front(comparable, "flops")
    # Selected on the validation error; the test error is shown beside it, never used to rank.
    best = comparable.sort_values(["error", "id"]).head(10)
    out["best"] = [{"id": int(r["id"]), "error": float(r["error"]),
                    "test_error": _num(r["test_error"]), "flops": int(r["flops"]),
                    "params": int(r["params"]), "acts": int(r["acts"]), "origin": r["origin"]}
                   for _, r in best.iterrows()]
    return out


def _normalized_ks(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """KS distance of two normalised EDFs, p-value from the asymptotic Kolmogorov law with the
    effective sizes n_eff (an approximation: weighted EDFs have no exact two-sample test)."""
    ea, eb = (EDF(x=np.array(d["x"]), F=np.array(d["F"]), F_after=np.array(d["F_after"]),
                  n=d["n"], n_eff=d["n_eff"], alpha=d["alpha"], eps=d["eps"],
                  band_method=d["band_method"]) for d in (a, b))
    dist = edf_distance(ea, eb)
    n_e = ea.n_eff * eb.n_eff / (ea.n_eff + eb.n_eff)
    return {"normalized_ks_statistic": dist,
            "normalized_ks_pvalue_approx": float(stats.kstwobign.sf(dist * np.sqrt(n_e)))}


def space_diff(a: RunData, b: RunData) -> str:
    """Unified diff of two runs' space files ('' when identical)."""
    return "".join(difflib.unified_diff(
        a.space_text.splitlines(keepends=True), b.space_text.splitlines(keepends=True),
        fromfile=f"{a.name}/space.yaml", tofile=f"{b.name}/space.yaml"))


def summarize(runs: list[RunData], normalize: str = "flops", bins: int = 10, seed: int = 0,
              alpha: float = 0.05, top_frac: float = 0.15) -> dict[str, Any]:
    """All report numbers for validated runs (see read_runs), JSON-able."""
    if normalize not in NORMALIZE:
        raise ValueError(f"normalize must be one of {NORMALIZE}")
    lohi = None
    if normalize != "none":
        # Shared bins across runs, so every run is re-weighted onto the same complexity grid.
        vals = np.concatenate([population(r)[0][normalize].to_numpy(dtype=float) for r in runs])
        lohi = (float(vals.min()), float(vals.max()))
    summaries = [_run_summary(r, normalize, bins, seed, alpha, lohi, top_frac) for r in runs]
    label = error_label(runs)
    what = label.removesuffix(" (%)") if len({r.error_kind for r in runs}) == 1 else "top-1 error"
    metric_diffs = check_comparable(runs, allow=True)
    key = normalize if normalize != "none" else "flops"
    comparisons = []
    for ra, rb in itertools.combinations(runs, 2):
        pa, pb = population(ra)[0], population(rb)[0]
        ea = pa["error"].to_numpy(dtype=float)
        eb = pb["error"].to_numpy(dtype=float)
        c = compare(ea, eb, ra.name, rb.name, alpha, what=what).to_dict()
        ia, ib = runs.index(ra), runs.index(rb)
        if normalize != "none":
            c.update(_normalized_ks(summaries[ia]["normalized"]["edf"],
                                    summaries[ib]["normalized"]["edf"]))
        if key == normalize and lohi is not None:
            grid = lohi
        else:
            both = np.concatenate([pa[key].to_numpy(dtype=float), pb[key].to_numpy(dtype=float)])
            grid = (float(both.min()), float(both.max()))
        c["plain_verdict"] = c["verdict"]
        c.update(pair_verdict(ra, rb, pa, pb, c, key, bins, grid, alpha, seed,
                              metric_diffs.get((ra.name, rb.name), []), what))
        comparisons.append(c)
    diffs = [{"a": runs[0].name, "b": r.name, "diff": space_diff(runs[0], r)} for r in runs[1:]]
    return clean({
        "settings": {"error": label,
                     "test_error": "shown beside the best models only; never used to select",
                     "normalize": normalize, "bins": bins, "bin_spacing": "log", "seed": seed,
                     "alpha": alpha, "top_frac": top_frac, "good_range_B": 1000,
                     "good_range_frac": 0.25, "comparison_population": "finished sampled trials trained with the run's recipe",
                     "best_of_k_method": "exact, from order statistics (draws with replacement)"},
        "report_of": [str(r.root.resolve()) for r in runs],
        "notes": [n for n in (r.exclusion_note() for r in runs) if n],
        "runs": summaries,
        "comparisons": comparisons,
        "space_diffs": diffs,
    })
