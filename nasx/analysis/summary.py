"""Every number a report shows, computed from validated runs into one typed Summary.

The population of a run is its finished trials of origin ``sampled`` trained with the run's
recipe; trials of origin ``refine`` (suggested by an optimiser, not drawn from the space) get their
own EDF, and trials trained with another recipe get theirs too: both are left out of the
population EDF, the good ranges, the trends and the comparisons (plain and normalised); other-recipe
trials are also left out of the best models, the Pareto front and the stage profiles.

Every error is the run's ``error`` column: the validation top-1 error (the test error for runs
made before the validation split, labelled so). The test error is only shown beside the best
models, never used to select them.
"""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nasx.analysis.carry import check_options
from nasx.analysis.compare import compare
from nasx.analysis.edf import EDF, SPACING, edf
from nasx.analysis.fidelity import fidelity_of, noise_floor
from nasx.analysis.latency import latency_views
from nasx.analysis.load import ERROR_LABELS, RunData, check_comparable
from nasx.analysis.long_verdict import long_verdicts
from nasx.analysis.multiple import family_wise
from nasx.analysis.proxies import proxy_table
from nasx.analysis.ranges import best_of_k, good_ranges
from nasx.analysis.results import (
    BestModel,
    Counts,
    OtherRecipe,
    PairComparison,
    ProxyRow,
    RecipeSummary,
    RunSummary,
    Settings,
    SpaceDiff,
    Summary,
    VaryingKey,
)
from nasx.analysis.trends import COMPLEXITY, pareto_front, stage_profiles, trend, varying_columns
from nasx.analysis.verdict import Pair, pair_verdict
from nasx.arch.scale import Scaled, scaled_versions
from nasx.arch.spec import ArchSpec


@dataclass(frozen=True)
class Options:
    """The settings of one summary (see :func:`summarize`)."""

    normalize: str
    bins: int
    seed: int
    alpha: float
    top_frac: float

BEST_OF_K_METHOD = "exact, from order statistics (draws with replacement)"


def recipe_summary(frame: pd.DataFrame) -> RecipeSummary:
    """Recipe keys shared by every finished trial, and the keys that vary (sampled hparams)."""
    recipes = [r for r in frame["recipe"] if isinstance(r, dict)]
    if not recipes:
        return RecipeSummary(common={}, varying={})
    keys = sorted(set().union(*recipes))
    common: dict[str, object] = {}
    varying: dict[str, VaryingKey] = {}
    for k in keys:
        vals = [r.get(k) for r in recipes]
        if len({repr(v) for v in vals}) == 1:
            common[k] = vals[0]
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            varying[k] = VaryingKey(n_distinct=len(set(vals)), min=min(vals), max=max(vals))
        else:
            varying[k] = VaryingKey(n_distinct=len({repr(v) for v in vals}),
                                    values=sorted({repr(v) for v in vals})[:10])
    return RecipeSummary(common=common, varying=varying)


def population(run: RunData) -> tuple[pd.DataFrame, str]:
    """The frame the distribution statistics use, and a word on what it is."""
    if len(run.sampled):
        return run.sampled, "sampled"
    if len(run.comparable):
        return run.comparable, ("all finished trials with the run's recipe (the run has no"
                                " finished sampled trial)")
    return run.done, "all finished trials (none was trained with the run's recipe)"


def _num(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def error_label(runs: list[RunData]) -> str:
    """What the error of every figure and table is (one label when all runs agree)."""
    kinds = sorted({r.error_kind for r in runs})
    if len(kinds) == 1:
        return ERROR_LABELS[kinds[0]]
    return "top-1 error (%): " + ", ".join(f"{r.name} {r.error_kind}" for r in runs)


def _edf_of(frame: pd.DataFrame, alpha: float) -> EDF | None:
    return edf(frame["error"].to_numpy(dtype=float), alpha=alpha) if len(frame) else None


def _counts(run: RunData) -> Counts:
    return Counts(statuses=run.counts, finished_sampled=len(run.sampled),
                  finished_refine=len(run.refined), finished_other_recipe=len(run.other_recipe),
                  total=len(run.frame))


def _best(comparable: pd.DataFrame) -> list[BestModel]:
    # Selected on the validation error; the test error is shown beside it, never used to rank.
    best = comparable.sort_values(["error", "id"]).head(10)
    return [BestModel(id=int(r["id"]), error=float(r["error"]), test_error=_num(r["test_error"]),
                      flops=int(r["flops"]), params=int(r["params"]), acts=int(r["acts"]),
                      origin=r["origin"], scaled=_scaled(r.get("spec")))
            for _, r in best.iterrows()]


def _scaled(spec: object) -> list[Scaled] | None:
    """A best model's complexity scaled 2x and 4x with dWr, None when it cannot scale."""
    if not isinstance(spec, dict):
        return None
    try:
        arch = ArchSpec.from_dict(spec)
    except (KeyError, TypeError, ValueError):
        return None
    return scaled_versions(arch)


def proxy_rows(run: RunData, pop: pd.DataFrame, seed: int) -> list[ProxyRow] | None:
    """The ranked proxy correlations over the population, or None when no population trial
    has proxies (so summaries of runs without ``nasx proxies`` stay as they were)."""
    ids = set(pop["id"].astype(int).tolist())
    have = {tid: v for tid, v in run.proxies.items() if tid in ids and v}
    if not have:
        return None
    errors = dict(zip(pop["id"].astype(int).tolist(), pop["error"].astype(float).tolist(),
                      strict=True))
    return [ProxyRow(proxy=r.name, n=r.n, spearman=r.spearman, spearman_ci=r.spearman_ci,
                     kendall=r.kendall, kendall_ci=r.kendall_ci)
            for r in proxy_table(errors, have, seed=seed).rows]


def _run_summary(run: RunData, opts: Options) -> RunSummary:
    alpha = opts.alpha
    pop, what = population(run)
    err = pop["error"].to_numpy(dtype=float)
    at_best = int(np.argmin(err))
    comparable = run.comparable if len(run.comparable) else run.done
    params = varying_columns(pop)
    return RunSummary(
        name=run.name, root=str(run.root), meta=run.meta, population=what,
        error=run.error_label, error_kind=run.error_kind, counts=_counts(run),
        population_recipe=run.recipe,
        other_recipe=OtherRecipe(groups=run.recipe_groups(), note=run.exclusion_note(),
                                 edf=_edf_of(run.other_recipe, alpha)),
        ids=pop["id"].astype(int).tolist(), edf=edf(err, alpha=alpha),
        median_error=float(np.median(err)), best_error=float(err.min()),
        best_id=int(pop["id"].to_numpy()[at_best]),
        best_test_error=_num(pop["test_error"].to_numpy()[at_best]),
        refine_edf=_edf_of(run.refined, alpha), best_of_k=best_of_k(err),
        recipe=recipe_summary(comparable), space_file=run.meta.get("space_file"),
        space_sha256=run.meta.get("space_sha256"), space_text=run.space_text,
        parameters=params,
        points=run.done[["id", "origin", "in_population", "error", *COMPLEXITY, *params]],
        good_ranges=good_ranges(pop, params + list(COMPLEXITY), seed=opts.seed),
        trends=[trend(pop, c) for c in params + list(COMPLEXITY)],
        stage_profiles=stage_profiles(comparable, opts.top_frac),
        pareto_flops=pareto_front(comparable, "flops"), best=_best(comparable),
        fidelity=fidelity_of(run.frame, run.recipe, seed=opts.seed, name=run.name),
        proxies=proxy_rows(run, pop, opts.seed),
        latency=latency_views(comparable, run.measurements),
    )


def space_diff(a: RunData, b: RunData) -> str:
    """Unified diff of two runs' space files ('' when identical)."""
    return "".join(difflib.unified_diff(
        a.space_text.splitlines(keepends=True), b.space_text.splitlines(keepends=True),
        fromfile=f"{a.name}/space.yaml", tofile=f"{b.name}/space.yaml"))


def _compare_pair(ra: RunData, rb: RunData, sa: RunSummary, sb: RunSummary, opts: Options,
                  metric_diffs: list[str], what: str) -> PairComparison:
    """Plain tests and the verdict (with its normalised comparisons) of two runs."""
    pa, pb = population(ra)[0], population(rb)[0]
    plain = compare(pa["error"].to_numpy(dtype=float), pb["error"].to_numpy(dtype=float),
                    ra.name, rb.name, opts.alpha, what=what)
    p = Pair(a=ra, b=rb, pa=pa, pb=pb, normalize=opts.normalize, bins=opts.bins,
             alpha=opts.alpha, seed=opts.seed, what=what, metric_diffs=metric_diffs,
             noise_floor=noise_floor(sa.fidelity, sb.fidelity, plain.median_a, plain.median_b))
    return PairComparison(plain=plain, verdict=pair_verdict(p, plain))


def _settings(runs: list[RunData], opts: Options, first: RunSummary) -> Settings:
    g = first.good_ranges  # the bootstrap's own B and frac, as drawn
    return Settings(
        error=error_label(runs),
        test_error="shown beside the best models only; never used to select",
        normalize=opts.normalize, bins=opts.bins,
        bin_spacing=SPACING, seed=opts.seed,
        alpha=opts.alpha, top_frac=opts.top_frac, good_range_B=g.B, good_range_frac=g.frac,
        comparison_population="finished sampled trials trained with the run's recipe",
        best_of_k_method=BEST_OF_K_METHOD)


def summarize(runs: list[RunData], normalize: str = "auto", bins: int = 10, seed: int = 0,
              alpha: float = 0.05, top_frac: float = 0.15) -> Summary:
    """All report numbers for validated runs (see read_runs); ``.to_json()`` is summary.json."""
    check_options(normalize, bins)
    opts = Options(normalize=normalize, bins=bins, seed=seed, alpha=alpha, top_frac=top_frac)
    summaries = [_run_summary(r, opts) for r in runs]
    what = (error_label(runs).removesuffix(" (%)") if len({r.error_kind for r in runs}) == 1
            else "top-1 error")
    metric_diffs = check_comparable(runs, allow=True)
    comparisons = [
        _compare_pair(runs[i], runs[j], summaries[i], summaries[j], opts,
                      metric_diffs.get((runs[i].name, runs[j].name), []), what)
        for i, j in itertools.combinations(range(len(runs)), 2)]
    family, comparisons = family_wise([r.name for r in runs], comparisons, alpha)
    comparisons = long_verdicts(summaries, comparisons, bins, alpha, seed)
    return Summary(
        settings=_settings(runs, opts, summaries[0]),
        report_of=[str(r.root.resolve()) for r in runs],
        notes=[n for n in (r.exclusion_note() for r in runs) if n],
        runs=summaries, comparisons=comparisons,
        space_diffs=[SpaceDiff(a=runs[0].name, b=r.name, diff=space_diff(runs[0], r))
                     for r in runs[1:]],
        family=family)
