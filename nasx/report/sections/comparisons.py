"""The comparison section: two-sample tests and effect sizes, the caveats and which comparison
carries each pair's conclusion (the tests and verdicts are in the shared Summary: the overview
and ``nasx report`` state them too)."""

from __future__ import annotations

from nasx.analysis.power import POWER
from nasx.analysis.results import PairComparison, Summary
from nasx.report.html import fmt, table
from nasx.report.sections.base import Section, core


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


def render(s: Summary) -> str:
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


def shown(s: Summary) -> bool:
    """Shown when the report compares runs."""
    return bool(s.comparisons)


SECTION = Section("Comparison of spaces", core, render, shown)
