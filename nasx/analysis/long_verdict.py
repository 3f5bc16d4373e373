"""Does a verdict hold at a longer fidelity? The pair's test recomputed on long retrainings.

``nasx fidelity RUN --epochs-long E --k K`` retrains a seeded random subset of K finished models
of a run for E epochs (origin ``fidelity``). When both runs of a compared pair hold such long
retrainings at the same E, the pair's conclusion is tested again on them: the same test as the
short conclusion (plain KS when the plain comparison carried it; the complexity-normalised KS by
the same measure(s), same bins and seed, when a normalised one did), the same family-wise
correction (Holm over the pairs of the report's family that have long data), and the outcome is
compared with the short conclusion:

- holds: the long test finds the same better run (Holm-adjusted p < alpha);
- does not hold: the long test finds the other run better, or finds a difference the short
  conclusion did not;
- cannot be decided: the long test finds no difference (K models per run may be too few to
  confirm the short conclusion, or its absence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from nasx.analysis.compare import compare, fmt_p
from nasx.analysis.multiple import holm
from nasx.analysis.normalized import joint, normalized_comparison
from nasx.analysis.results import LongVerdict, PairComparison, RunSummary

if TYPE_CHECKING:
    from nasx.analysis.fidelity import ShortLong

HOLDS, NOT_HOLD, UNDECIDED = "holds", "does not hold", "cannot be decided"


@dataclass(frozen=True)
class _Raw:
    """The long test of one pair before the correction."""

    epochs: int
    k_a: int
    k_b: int
    test: str
    statistic: float | None
    pvalue: float | None
    own_significant: bool
    better: str | None


def _long_side(run: RunSummary, sl: ShortLong) -> dict[str, np.ndarray]:
    """error (long), flops and params of a run's long-retrained models."""
    pts = run.points.set_index("id")
    ids = [p.id for p in sl.pairs]
    return {"error": np.array([p.long for p in sl.pairs], dtype=float),
            "flops": pts.loc[ids, "flops"].to_numpy(dtype=float),
            "params": pts.loc[ids, "params"].to_numpy(dtype=float)}


def _test(c: PairComparison, a: dict[str, np.ndarray], b: dict[str, np.ndarray], bins: int,
          alpha: float, seed: int) -> tuple[str, float | None, float | None, bool, str | None]:
    """(test, statistic, p, significant, better) of the pair's own test on long errors."""
    v, names = c.verdict, (c.plain.a, c.plain.b)
    if v.carried_by != "normalized":
        r = compare(a["error"], b["error"], *names, alpha)
        return "plain KS", r.ks_statistic, r.ks_pvalue, r.significant, r.better
    parts = [normalized_comparison(a["error"], a[k], b["error"], b[k], k, bins, alpha,
                                   seed=seed) for k in v.normalized_by]
    j = joint(parts)
    better = None
    if j.significant and j.cliffs_delta:
        better = names[1] if j.cliffs_delta > 0 else names[0]
    return ("KS normalised by " + " and ".join(v.normalized_by), j.ks_statistic,
            j.ks_pvalue_permutation, j.significant, better)


def _agreement(short: str | None, long_sig: bool, long_better: str | None) -> str:
    if not long_sig:
        return UNDECIDED
    return HOLDS if long_better == short else NOT_HOLD


def _sentence(c: PairComparison, lv: LongVerdict) -> str:
    said = {HOLDS: "this conclusion holds", NOT_HOLD: "this conclusion does not hold",
            UNDECIDED: "this conclusion cannot be decided"}[lv.agreement]
    found = (f"{lv.better} is better" if lv.significant else "no significant difference")
    p = "n/a" if lv.pvalue is None else fmt_p(lv.pvalue)
    adj = "" if lv.pvalue_adjusted is None or lv.family_size < 2 else (
        f", Holm-adjusted p = {fmt_p(lv.pvalue_adjusted)} over {lv.family_size} comparisons")
    return (f"At {lv.epochs_long} epochs on {lv.k_a} and {lv.k_b} retrained models of"
            f" {c.plain.a} and {c.plain.b}, {said}: {found} ({lv.test} p = {p}{adj}).")


def _raw(c: PairComparison, ra: RunSummary, rb: RunSummary, bins: int, alpha: float,
         seed: int) -> list[_Raw]:
    """The long tests of a pair, one per long schedule both runs hold."""
    if ra.fidelity is None or rb.fidelity is None or c.verdict.carried_by == "none":
        return []
    by_a = {sl.epochs_long: sl for sl in ra.fidelity.short_long if sl.n >= 2}
    out = []
    for sl_b in rb.fidelity.short_long:
        sl_a = by_a.get(sl_b.epochs_long)
        if sl_a is None or sl_b.n < 2:
            continue
        test, stat, p, sig, better = _test(c, _long_side(ra, sl_a), _long_side(rb, sl_b), bins,
                                           alpha, seed)
        out.append(_Raw(sl_b.epochs_long, sl_a.n, sl_b.n, test, stat, p, sig, better))
    return out


def long_verdicts(runs: Sequence[RunSummary], comparisons: list[PairComparison],
                  bins: int, alpha: float, seed: int) -> list[PairComparison]:
    """Each comparison of the report's family with its long verdicts (``long``; None when the
    pair is outside the family or its runs hold no long retrainings at one schedule)."""
    names = [r.name for r in runs]
    in_family = [c.holm is None or c.holm.in_family for c in comparisons]
    raws: list[list[_Raw]] = []
    for c, member in zip(comparisons, in_family, strict=True):
        ra, rb = runs[names.index(c.plain.a)], runs[names.index(c.plain.b)]
        raws.append(_raw(c, ra, rb, bins, alpha, seed) if member else [])
    out = list(comparisons)
    for epochs in sorted({r.epochs for rs in raws for r in rs}):
        slots = [(k, r) for k, rs in enumerate(raws) for r in rs if r.epochs == epochs]
        fam = [(k, r) for k, r in slots if in_family[k] and r.pvalue is not None]
        adjusted = holm([r.pvalue for _, r in fam]) if fam else np.array([])
        adj_of = {k: float(q) for (k, _), q in zip(fam, adjusted, strict=True)}
        for k, r in slots:
            c = out[k]
            q = adj_of.get(k)
            sig = bool(r.own_significant and q is not None and q < alpha)
            lv = LongVerdict(
                epochs_long=epochs, k_a=r.k_a, k_b=r.k_b, test=r.test, statistic=r.statistic,
                pvalue=r.pvalue, pvalue_adjusted=q, family_size=len(fam), significant=sig,
                better=r.better if sig else None, short_better=_short_better(c),
                agreement=_agreement(_short_better(c), sig, r.better if sig else None),
                sentence="")
            lv = replace(lv, sentence=_sentence(c, lv))
            text = f"{c.verdict.text} {lv.sentence}"
            out[k] = replace(c, verdict=replace(c.verdict, text=text),
                             long=[*(c.long or []), lv])
    return out


def _short_better(c: PairComparison) -> str | None:
    """The better run of the short conclusion after the family-wise correction."""
    if c.holm is not None:
        return c.holm.better
    return c.verdict.better_conclusion
