"""The sections of the report page, each built from summary.json numbers (and its figures)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import nasx.report.figures as figures
from nasx.analysis.fidelity import BOOTSTRAP_B, LEVEL, RANK_METHOD
from nasx.analysis.multiple import in_family_order
from nasx.analysis.power import POWER
from nasx.analysis.results import PairComparison, RunSummary, Summary
from nasx.report.html import figure, fmt, pre, recipe_block, table
from nasx.status import TrialStatus as S

# the overview's columns: every status, the finished ones first
STATUS_COLS = (S.DONE, S.PRUNED, S.FAILED, S.DIVERGED, S.PENDING, S.RUNNING)


def overview(s: Summary) -> str:
    """Headlines first, each comparison's full verdict (collapsed), and trial counts."""
    comps = in_family_order(s.comparisons, s.family)
    parts = [f'<p class="headline">{fmt(c.verdict.headline)}</p>' for c in comps]
    if s.family is not None and s.family.size > 1:
        parts.append(f'<p class="note">{fmt(s.family.rule)}.</p>')
    parts += [f'<p class="headline">{fmt(lv.sentence)}</p>' for c in comps for lv in c.long or []]
    parts += [f"<details><summary>the full verdict: {fmt(c.plain.a)} vs {fmt(c.plain.b)}"
              f'</summary><p class="verdict">{fmt(c.verdict.text)}</p></details>'
              for c in comps]
    if not s.comparisons:
        parts.append(f'<p class="verdict">{fmt(run_line(s.runs[0]))}</p>')
    parts.append(f'<p class="note">Every EDF, test, good range, trend and best-model ranking uses'
                 f' the {fmt(s.settings.error)}; the test error is '
                 f'{fmt(s.settings.test_error)}.</p>')
    rows = [[r.name, r.counts.total, *(r.counts.statuses[c] for c in STATUS_COLS),
             r.counts.finished_sampled, r.counts.finished_refine,
             r.counts.finished_other_recipe, r.counts.statuses["done_without_error"]]
            for r in s.runs]
    parts.append(table(["run", "trials", *STATUS_COLS, "finished sampled", "finished refine",
                        "finished, other recipe", "done, no error"], rows))
    notes = [f"{r.name}: population = {r.population}" for r in s.runs
             if r.population != "sampled"]
    notes += s.notes
    parts += [f'<p class="note">{fmt(n)}</p>' for n in notes]
    return "".join(parts)


def run_line(r: RunSummary) -> str:
    """One sentence on a single run: its population, median and best (with the test error)."""
    test = r.best_test_error
    kind = r.error_kind
    line = (f"{r.name}: {r.edf.n} finished sampled models, median {kind} error"
            f" {fmt(r.median_error)}%, best {kind} error {fmt(r.best_error)}%"
            f" (trial {r.best_id}")
    line += f", test error {fmt(test)}%)." if test is not None and kind != "test" else ")."
    if r.other_recipe.note:
        line += f" {r.other_recipe.note.split(': ', 1)[1].capitalize()}."
    return line


def edfs(s: Summary) -> str:
    """Raw EDFs with bands, and the normalised EDFs of every pair a normalised comparison
    carries (the very weights and numbers of its verdict)."""
    st = s.settings
    first = s.runs[0]
    bands = ("" if len(s.runs) <= figures.BANDS_UP_TO else
             f" (drawn with up to {figures.BANDS_UP_TO} runs; in summary.json for all)")
    out = [figure(figures.edf_figure(s), "error EDF"),
           f'<p class="note">F(e) = fraction of models with error &lt; e (the '
           f'{fmt(st.error)}) over the finished sampled models trained with the run\'s recipe'
           f" (refine trials dashed, trials of another recipe dotted: both apart). Bands:"
           f" {fmt(first.edf.band_method)}, alpha = {st.alpha}{bands}.</p>"]
    panels = figures.normalized_panels(s)
    if panels:
        out.append(figure(figures.normalized_figure(s), "normalised error EDFs"))
        more = len(panels) - figures.MAX_NORMALIZED_PANELS
        out.append('<p class="note">For each pair whose conclusion a normalised comparison'
                   " carries: both EDFs re-weighted onto one complexity distribution over the"
                   f" {st.bins} log bins (range of both runs) that both populate, bin h weighing"
                   " n_a n_b / (n_a + n_b) (normalised), shared by the two sides; D and the"
                   " permutation p in each title are those of the verdict and the tables."
                   + (f" {more} more panels are in summary.json only." if more > 0 else "")
                   + "</p>")
    return "".join(out)


def carried_text(c: PairComparison) -> str:
    """What carries a pair's conclusion, in a table cell."""
    v = c.verdict
    if v.carried_by == "normalized":
        return "normalised by " + " and ".join(v.normalized_by)
    return v.carried_by


def _tests_row(c: PairComparison) -> list[object]:
    p, v = c.plain, c.verdict
    return [p.a, p.b, p.n_a, p.n_b, p.ks_statistic, p.ks_pvalue, p.ad_statistic, p.ad_pvalue,
            p.mw_pvalue, p.cliffs_delta, p.cles_b_better, p.median_a, p.median_b,
            carried_text(c), v.normalized_ks_statistic, v.normalized_ks_pvalue_permutation]


def _confounds_row(c: PairComparison) -> list[object]:
    v = c.verdict
    cx, pw = v.complexity, v.power
    needed = None if pw is None else pw.n if pw.n is not None else f"> {pw.more_than}"
    row: list[object] = [c.plain.a, c.plain.b, carried_text(c)]
    for key in ("flops", "params"):
        n, o = v.normalized[key], cx.overlap(key)
        row += [cx.ks(key).pvalue, min(o.frac_a_in_shared, o.frac_b_in_shared),
                f"{n.K_common} of {n.K}", n.ks_statistic, n.ks_pvalue_permutation,
                n.cliffs_delta]
    return [*row, needed]


def comparisons(s: Summary) -> str:
    """Two-sample tests and effect sizes, the caveats and which comparison carries."""
    out = [table(["a", "b", "n a", "n b", "KS D", "KS p", "AD stat", "AD p", "MWU p",
                  "Cliff's delta (b better > 0)", "P(b beats a)", "median a", "median b",
                  "carried by", "normalised KS D", "its permutation p"],
                 map(_tests_row, s.comparisons), left=2),
           '<p class="note">Tests on the ' + fmt(s.settings.error) + " of the finished"
           " sampled models (two-sided). KS p: exact mid-p value given the pooled errors, ties"
           " included (errors are multiples of 100/n_val); scipy.stats anderson_ksamp and"
           " mannwhitneyu for the others. Anderson-Darling p-values are interpolated by scipy and"
           " capped to [0.001, 0.25]. Normalised KS D and its p: the normalised comparison that"
           " carries the pair's conclusion (empty when the plain one carries), the numbers of its"
           " verdict; by two measures, the one with the larger p (a difference is stated only"
           " when both find it). Its p-value is a seeded permutation mid-p, relabelling models"
           " within complexity bins.</p>"]
    out.append("<h3>Confounds and which comparison carries the conclusion</h3>")
    per = [f"{h} ({key})" for key in ("flops", "params")
           for h in ("KS p of the sizes", "least share in shared range", "common bins",
                     "normalised KS D", "its permutation p", "weighted Cliff's delta")]
    out.append(table(["a", "b", "carried by", *per, "models per space needed"],
                     map(_confounds_row, s.comparisons), left=3))
    for c in s.comparisons:
        if c.verdict.caveats:
            items = "".join(f"<li>{fmt(v.text)}</li>" for v in c.verdict.caveats)
            out.append(f"<p>{fmt(c.plain.a)} vs {fmt(c.plain.b)}:</p><ul>{items}</ul>")
    out.append('<p class="note">A normalised comparison carries the conclusion when the flops or'
               " params distributions differ (two-sample KS, p &lt; alpha) or less than half of"
               " one run's models lie in the range both share; it is normalised by the measure"
               " that differs (by both when both differ, and a difference is then stated only"
               " when both find it), or by the one --normalize names. Both are shown for every"
               " pair. Models needed: smallest n per space at which"
               f" a KS test at alpha detects the observed difference with {100 * POWER:.0f}%"
               " power (seeded bootstrap), given when the carrying comparison is not"
               " significant.</p>")
    return "".join(out)


def best_of_k(s: Summary) -> str:
    """Best error among k random models."""
    rows = [[r.name, b.k, b.mean, b.std, b.p2_5, b.p50, b.p97_5]
            for r in s.runs for b in r.best_of_k]
    return (figure(figures.best_of_k_figure(s), "best of k")
            + f'<p class="note">{fmt(s.settings.best_of_k_method)}.</p>'
            + table(["run", "k", "expected best", "std", "2.5%", "50%", "97.5%"], rows))


def good_ranges(s: Summary) -> str:
    """Bootstrap good ranges (DDS)."""
    out = []
    for r in s.runs:
        g = r.good_ranges
        rows = [[col, v.p2_5, v.p50, v.p97_5, v.min, v.max] for col, v in g.ranges.items()]
        out.append(f"<h3>{fmt(r.name)}</h3><p class=\"note\">B = {g.B} draws of m = {g.m}"
                   f" models with replacement (seed {g.seed}); percentiles of the winners.</p>")
        out.append(table(["parameter", "2.5%", "50%", "97.5%", "min in run", "max in run"], rows))
    return "".join(out)


def trends(s: Summary) -> str:
    """Error against complexity and every sampled parameter, with correlations."""
    params: list[str] = []
    for r in s.runs:
        params += [p for p in r.parameters if p not in params]
    out = [figure(figures.scatter_figure(s, ["flops", "params", "acts"],
                                         "error vs complexity (dotted: Pareto front)"),
                  "error vs complexity")]
    if params:
        out.append(figure(figures.scatter_figure(s, params, "error vs sampled parameters"),
                          "error vs parameters"))
    rows = [[r.name, t.column, t.n, t.x_scale, t.spearman_rho, t.spearman_pvalue, t.slope, t.r,
             t.fit_pvalue] for r in s.runs for t in r.trends]
    out.append('<p class="note">Dots: sampled; crosses: refine; squares: another recipe (not in'
               " the trends). Lines: median error in quantile bins. Slope: linregress of error on"
               " x (or log10 x).</p>")
    out.append(table(["run", "x", "n", "x scale", "Spearman rho", "rho p", "slope", "r", "fit p"],
                     rows, left=2))
    return "".join(out)


def stages(s: Summary) -> str:
    """Stage width/depth profiles and the best models."""
    out = [figure(figures.stage_figure(s), "stage profiles")]
    rows = [[r.name, b.id, b.origin, b.error, b.test_error, b.flops, b.params, b.acts,
             " / ".join(f"{x.flops:,} ({x.resolution} px)" for x in b.scaled or [])]
            for r in s.runs for b in r.best]
    out.append(f'<h3>Best models (ranked by {fmt(s.settings.error)})</h3>')
    out.append(table(["run", "trial", "origin", "error (ranks)", "test error (not used to rank)",
                      "flops", "params", "acts", "flops scaled 2x / 4x (dWr)"], rows, left=3))
    out.append('<p class="note">Trials trained with another recipe are not ranked. The test error'
               " of the chosen models is the unbiased final number; selecting on it would be"
               " optimistic.</p>")
    rows = [[r.name, p.id, p.origin, p.value, p.error] for r in s.runs for p in r.pareto_flops]
    out.append("<h3>Pareto front (error vs flops)</h3>")
    out.append(table(["run", "trial", "origin", "flops", "error"], rows, left=3))
    return "".join(out)


def fidelity(s: Summary) -> str:
    """The seed-noise floor and the short-vs-long rank agreement of the runs with retrains."""
    out = []
    for r in s.runs:
        f = r.fidelity
        if f is None:
            continue
        out.append(f"<h3>{fmt(r.name)}</h3>")
        out += [f'<p class="verdict">{fmt(line)}</p>' for line in f.lines()]
        sn = f.seed_noise
        if sn is not None:
            rows = [[m.id, m.n, m.mean, m.sd, ", ".join(f"{e:.2f}" for e in m.errors)]
                    for m in sn.per_model]
            out.append(table(["trial", "trainings", "mean error", "seed SD", "errors"], rows,
                             left=1))
            out.append(f'<p class="note">{fmt(sn.method)}.</p>')
        for sl in f.short_long:
            out.append(table(["trial", f"error at {sl.epochs_short or 'population'} epochs",
                              f"error at {sl.epochs_long} epochs"],
                             ([p.id, p.short, p.long] for p in sl.pairs)))
            out.append(f'<p class="note">{fmt(sl.method)}; B = {sl.B}, seed {sl.seed}.</p>')
        if f.unfinished or f.excluded:
            out.append(f'<p class="note">{f.unfinished} retrains not finished, {f.excluded}'
                       " finished ones left out (original not finished, or another recipe).</p>")
    out.append('<p class="note">From <code>nasx fidelity RUN</code>: a seeded random subset of'
               " the finished sampled models retrained with other seeds (same recipe) and/or a"
               " longer schedule; these retrains are kept out of every EDF, test and ranking."
               " Errors are the " + fmt(s.settings.error) + ".</p>")
    return "".join(out)


BASELINES = ("params", "flops")


def _interval(low: float | None, high: float | None) -> str:
    return f"[{fmt(low)}, {fmt(high)}]"


def proxies(s: Summary) -> str:
    """Each run's zero-cost proxies ranked by their rank correlation with the error."""
    out = []
    for r in s.runs:
        if r.proxies is None:
            continue
        rows: list[list[object]] = [
            [i, p.proxy + (" (baseline)" if p.proxy in BASELINES else ""), p.n, p.spearman,
             _interval(p.spearman_ci.low, p.spearman_ci.high), p.kendall,
             _interval(p.kendall_ci.low, p.kendall_ci.high)]
            for i, p in enumerate(r.proxies, start=1)]
        out.append(f"<h3>{fmt(r.name)}</h3>")
        out.append(table(["rank", "proxy", "n", "Spearman rho", f"{LEVEL:.0%} interval",
                          "Kendall tau-b", f"{LEVEL:.0%} interval"], rows, left=2))
    out.append('<p class="note">From <code>nasx proxies RUN</code>: scores of each untrained'
               " model, correlated over the run's finished sampled models with minus the "
               + fmt(s.settings.error) + ": +1 means the proxy orders the models as training"
               " did, 0 that it knows nothing of their errors. Ranked by Spearman rho. params"
               " and flops are the baselines: a proxy is worth its cost only above them."
               f" Intervals: {fmt(RANK_METHOD)}; B = {BOOTSTRAP_B}, seed {s.settings.seed}."
               " n: models with both the proxy and the error finite.</p>")
    return "".join(out)


def latency(s: Summary) -> str:
    """Error against measured latency with its Pareto front, per backend, device and batch."""
    out = [figure(figures.latency_figure(s), "error vs measured latency")]
    views: list[list[object]] = [[r.name, v.caption(), v.n, len(v.pareto), v.method]
                                 for r in s.runs for v in r.latency or []]
    out.append(table(["run", "latency measured with", "models", "on the Pareto front",
                      "method"], views, left=2))
    for r in s.runs:
        for v in (r.latency or [])[:1]:  # the most measured view; summary.json has them all
            spread = {p.id: p.spread_ms for p in v.points}
            rows: list[list[object]] = [[p.id, p.origin, p.value, spread.get(p.id), p.error]
                                        for p in v.pareto]
            out.append(f"<h3>Pareto front of {fmt(r.name)} (error vs latency, "
                       f"{fmt(v.caption())})</h3>")
            out.append(table(["trial", "origin", "latency (ms)", "IQR (ms)", "error"], rows,
                             left=2))
    out.append('<p class="note">From <code>nasx measure RUN</code> (or <code>--measure</code> at'
               " training time): median of timed inference runs after warm-up, IQR over those"
               " runs, on the device, backend, batch and thread count named above each panel."
               " Points: the finished models trained with the run's recipe (dots sampled,"
               " crosses refine), against the " + fmt(s.settings.error) + "; latency does not"
               " depend on the seed, so models of one architecture share its measurement."
               " Ringed points on the dotted line: the Pareto front, no model both faster and"
               " more accurate. Latency axis logarithmic.</p>")
    return "".join(out)


def spaces(s: Summary) -> str:
    """Recipes, space files and their differences."""
    out = []
    for r in s.runs:
        out.append(f"<h3>{fmt(r.name)}</h3><p class=\"note\">space file "
                   f"{fmt(r.space_file)}, sha256 {fmt(r.space_sha256)}; run {fmt(r.root)}"
                   "</p>")
        out.append(recipe_block(r.recipe))
        out.append(pre(r.space_text))
    for d in s.space_diffs:
        out.append(f"<h3>space diff {fmt(d.a)} → {fmt(d.b)}</h3>")
        out.append(pre(d.diff, diff=True) if d.diff else "<p>identical space files</p>")
    return "".join(out)


@dataclass(frozen=True)
class Section:
    """One section of the report page: its title, its renderer, and when the page shows it."""

    title: str
    render: Callable[[Summary], str]
    shown: Callable[[Summary], bool] = lambda s: True


# The registry of sections, in page order: adding a section is one entry here plus its renderer.
SECTIONS: tuple[Section, ...] = (
    Section("Overview", overview),
    Section("Error EDFs", edfs),
    Section("Comparison of spaces", comparisons, lambda s: bool(s.comparisons)),
    Section("How much to trust the EDFs (nasx fidelity)", fidelity,
            lambda s: any(r.fidelity is not None for r in s.runs)),
    Section("Best of k", best_of_k),
    Section("Good ranges (bootstrap)", good_ranges),
    Section("Error vs complexity and parameters", trends),
    Section("Best models and stage profiles", stages),
    Section("Zero-cost proxies vs validation error", proxies,
            lambda s: any(r.proxies is not None for r in s.runs)),
    Section("Error vs measured latency", latency,
            lambda s: any(r.latency is not None for r in s.runs)),
    Section("Recipes and space files", spaces),
)
