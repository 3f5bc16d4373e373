"""Family-wise error control for a report of several runs: Holm's step-down correction.

A report of k runs tests several pairs; at alpha = 0.05 each, the chance that at least one of m
true-null comparisons is called a difference grows towards 1 - 0.95^m. Holm (1979) controls that
family-wise error rate at alpha for any dependence between the tests: sort the m p-values,
p_(1) <= ... <= p_(m); the adjusted p_(i) is max over j <= i of min(1, (m - j + 1) p_(j)); a
comparison holds when its adjusted p-value is below alpha (and its own test found the
difference).

The family: when the runs form the design-space progression (run names ending in ``anynet_a`` ..
``anynet_e`` and ``regnet``, each step at most once, at least three runs), the consecutive steps
of the progression present (A-B, B-C, C-D, D-E, E-RegNet) and the first vs the last AnyNet step
(A-E); otherwise every pair. Comparisons without a p-value (no conclusion possible) are not in it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from nasx.analysis.results import Adjusted, Family, PairComparison

STEPS = ("anynet_a", "anynet_b", "anynet_c", "anynet_d", "anynet_e", "regnet")
_STEP = re.compile(r"(anynet[_-]?[a-e]|regnet)$", re.IGNORECASE)
METHOD = "holm"


def holm(pvalues: Sequence[float | None] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values, along the last axis (rows: independent families).

    NaN (or None) entries are not in the family: they stay NaN and do not count in m.
    """
    p = np.array([np.nan if v is None else v for v in pvalues], dtype=float) \
        if not isinstance(pvalues, np.ndarray) else pvalues.astype(float)
    p2 = np.atleast_2d(p)
    m = np.sum(~np.isnan(p2), axis=-1, keepdims=True)
    order = np.argsort(np.where(np.isnan(p2), np.inf, p2), axis=-1, kind="stable")
    ps = np.take_along_axis(p2, order, axis=-1)
    factor = m - np.arange(p2.shape[-1])[None, :]
    adj = np.fmax.accumulate(np.minimum(1.0, np.where(np.isnan(ps), np.nan, ps * factor)),
                             axis=-1)
    adj = np.where(np.isnan(ps), np.nan, adj)
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=-1)
    return out.reshape(p.shape)


def step_of(name: str) -> int | None:
    """The index in :data:`STEPS` of the progression step a run's name ends with, if any."""
    m = _STEP.search(name)
    if not m:
        return None
    key = m.group(1).lower().replace("-", "_")
    key = key if key == "regnet" or "_" in key else f"anynet_{key[-1]}"
    return STEPS.index(key)


def progression_pairs(names: Sequence[str]) -> list[tuple[int, int]] | None:
    """The progression's pairs (indices into ``names``, earlier step first), or None when the
    runs do not form a progression (module docstring)."""
    steps = [step_of(n) for n in names]
    if len(names) < 3 or any(s is None for s in steps) or len(set(steps)) != len(steps):
        return None
    order = sorted(range(len(names)), key=lambda i: steps[i])  # type: ignore[arg-type, return-value]
    pairs = list(zip(order, order[1:], strict=False))
    anynet = [i for i in order if steps[i] != STEPS.index("regnet")]
    if len(anynet) > 2:
        pairs.append((anynet[0], anynet[-1]))
    return pairs


def family_rule(scope: str, size: int, alpha: float) -> str:
    """The sentence that states the correction."""
    what = ("the progression's consecutive steps and its first vs last AnyNet step"
            if scope == "progression" else "every pair of runs")
    return (f"Holm's correction over the {size} comparison{'s' * (size != 1)} of {what} keeps"
            " the family-wise"
            f" false-positive rate at alpha = {alpha:g}")


def fmt_holm(adj: Adjusted, alpha: float, member: bool = False) -> str:
    """The headline's family-wise clause: adjusted p and whether the conclusion holds."""
    from nasx.analysis.compare import fmt_p

    if adj.pvalue_adjusted is None:
        return ("in the family, but no test to correct (no conclusion)" if member
                else "not in the corrected family")
    said = ("holds" if adj.significant else "no longer significant" if adj.significant_unadjusted
            else "not significant")
    return (f"Holm-adjusted p = {fmt_p(adj.pvalue_adjusted)} over {adj.family_size} comparisons:"
            f" {said} at alpha = {alpha:g}")


def _own(c: PairComparison) -> tuple[float | None, bool, str | None]:
    """(p-value, significant, better) of the comparison that carries a pair's conclusion."""
    v = c.verdict
    p = (c.plain.ks_pvalue if v.carried_by == "plain" else
         v.normalized_ks_pvalue_permutation if v.carried_by == "normalized" else None)
    return p, v.significant_conclusion, v.better_conclusion


def _stated(c: PairComparison, adj: Adjusted, rule: str, alpha: float, member: bool
            ) -> PairComparison:
    """The comparison with its Holm result, stated in its headline and verdict."""
    v = c.verdict
    clause = fmt_holm(adj, alpha, member)
    head = v.headline[:-1] + f"; {clause})" if v.headline.endswith(")") else \
        f"{v.headline} ({clause})"
    text = f"{v.text} Family-wise: {rule}; {clause}."
    return replace(c, verdict=replace(v, headline=head, text=text), holm=adj)


def family_wise(names: Sequence[str], comparisons: list[PairComparison], alpha: float
                ) -> tuple[Family | None, list[PairComparison]]:
    """The family of a report's comparisons (in ``itertools.combinations`` order of the runs)
    and each comparison with its Holm-adjusted result; verdicts and headlines state it when
    the family holds more than one comparison."""
    if not comparisons:
        return None, comparisons
    index = list(itertools.combinations(range(len(names)), 2))
    prog = progression_pairs(names)
    scope = "progression" if prog else "every pair"
    members = [index.index(tuple(sorted(p))) for p in prog] if prog else list(range(len(index)))
    own = [_own(c) for c in comparisons]
    adjusted = holm([own[k][0] for k in members])
    size = int(np.sum(~np.isnan(adjusted)))
    rule = family_rule(scope, size, alpha)
    family = Family(method=METHOD, scope=scope, alpha=alpha, size=size, rule=rule,
                    pairs=[f"{comparisons[k].plain.a} vs {comparisons[k].plain.b}"
                           for i, k in enumerate(members) if not np.isnan(adjusted[i])])
    out = list(comparisons)
    for k, c in enumerate(comparisons):
        p, sig, better = own[k]
        q = float(adjusted[members.index(k)]) if k in members else float("nan")
        q_or_none = None if np.isnan(q) else q
        ok = bool(sig and q_or_none is not None and q_or_none < alpha)
        adj = Adjusted(in_family=k in members and q_or_none is not None, pvalue=p,
                       pvalue_adjusted=q_or_none, significant=ok,
                       significant_unadjusted=bool(sig), better=better if ok else None,
                       family_size=size)
        out[k] = (_stated(c, adj, rule, alpha, k in members) if size > 1
                  else replace(c, holm=adj))
    return family, out


def in_family_order(comparisons: Sequence[PairComparison], family: Family | None
                    ) -> list[PairComparison]:
    """The comparisons with the family's first, in its order (a progression's steps in turn)."""
    if family is None:
        return list(comparisons)
    label = {f"{c.plain.a} vs {c.plain.b}": c for c in comparisons}
    first = [label[p] for p in family.pairs if p in label]
    return first + [c for c in comparisons if all(c is not f for f in first)]
