"""The verdict of a comparison of two runs: a one-line headline, then a paragraph with which
comparison carries the conclusion and why, the caveats, the models needed and the noise floor.

A plain comparison of error EDFs is confounded when the runs differ in anything but the space:

- what their errors measure (recipe, data, classes, validation vs test error; refused unless the
  user asks, see :func:`nasx.analysis.load.check_comparable`), or their inputs (resolution,
  channels, data folder): no comparison removes these, so they are named as caveats;
- their model sizes: then a complexity-normalised comparison carries the conclusion, normalised
  by the measure(s) that differ (:mod:`nasx.analysis.carry`, :mod:`nasx.analysis.normalized`).

When the carrying comparison is not significant, the verdict says how many models per space would
resolve the observed difference (:func:`nasx.analysis.power.models_needed`, seeded). When either
run holds ``nasx fidelity`` seed repeats, the verdict holds the difference in medians against the
seed-noise floor (the larger pooled seed SD, :mod:`nasx.analysis.fidelity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nasx.analysis.carry import ComplexityCheck, Decision, decide
from nasx.analysis.compare import Comparison, fmt_p
from nasx.analysis.fidelity import NoiseFloor, noise_sentence
from nasx.analysis.jsonable import OMIT_NONE, json_name
from nasx.analysis.load import RunData, reference_recipe
from nasx.analysis.normalized import NormalizedComparison, normalized_sentence
from nasx.analysis.power import Power, models_needed

MIN_MODELS = 5  # fewer models on a side support neither a conclusion nor a power estimate


@dataclass(frozen=True)
class Caveat:
    """Something that no comparison of the two runs' errors removes (``kind`` names it)."""

    kind: str  # recipe | resolution | in_channels | data | bins | normalised | size | excluded | few
    text: str


@dataclass(frozen=True)
class PairVerdict:
    """The headline, the carrying comparison (plain | normalized | none) and its numbers, and
    the verdict's paragraph. ``normalized_ks_*`` are the carrying normalised comparison's
    (null when the plain one carries); ``normalized_ks_pvalue_approx`` is a deprecated alias of
    ``normalized_ks_pvalue_permutation``, kept for one release."""

    headline: str
    plain_verdict: str
    text: str = field(metadata=json_name("verdict"))
    carried_by: str
    normalized_by: list[str]
    normalized_reason: str
    normalized_ks_statistic: float | None
    normalized_ks_pvalue_permutation: float | None
    normalized_ks_pvalue_approx: float | None
    significant_conclusion: bool
    better_conclusion: str | None
    caveats: list[Caveat]
    complexity: ComplexityCheck
    normalized: dict[str, NormalizedComparison]
    power: Power | None
    noise_floor: NoiseFloor | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True, eq=False)  # holds frames: compared by identity
class Pair:
    """Two runs, the populations compared, and the settings of their comparison."""

    a: RunData
    b: RunData
    pa: pd.DataFrame
    pb: pd.DataFrame
    normalize: str  # auto | flops | params | none
    bins: int
    alpha: float
    seed: int
    what: str  # the error's name in sentences
    metric_diffs: list[str] = field(default_factory=list)  # how their errors differ
    noise_floor: NoiseFloor | None = None  # from `nasx fidelity` retrains of either run

    def values(self, side: str, col: str) -> np.ndarray:
        """Column ``col`` of population ``side`` (a | b) as floats."""
        return (self.pa if side == "a" else self.pb)[col].to_numpy(dtype=float)


def _input_values(run: RunData, key: str) -> list[object]:
    pop = run.comparable
    vals = set()
    for s in pop["spec"]:
        s = s or {}
        vals.add(s.get("head", {}).get("num_classes") if key == "num_classes" else s.get(key))
    return sorted(vals, key=repr)


def _join(vals: list[object]) -> str:
    return "/".join(str(v) for v in vals)


def input_caveats(a: RunData, b: RunData) -> list[Caveat]:
    """Differences in the inputs of two runs that no comparison of their errors removes."""
    out = []
    for key, what, unit in (("resolution", "input resolution", " px"),
                            ("in_channels", "input channels", "")):
        va, vb = _input_values(a, key), _input_values(b, key)
        if va != vb:
            out.append(Caveat(key, f"{what} differs ({_join(va)}{unit} vs {_join(vb)}{unit}):"
                              " errors and complexity both depend on it, and neither"
                              " comparison removes it"))
    da, db = reference_recipe(a).get("data_dir"), reference_recipe(b).get("data_dir")
    if da != db and (da or db):
        out.append(Caveat("data", f"data folders differ ({da} vs {db}): the errors are"
                          " comparable only if both hold the same data set"))
    return out


def _carried_text(d: Decision) -> str:
    """How the carrying comparison is named in the headline and the table."""
    if d.carried_by == "plain":
        return "plain KS"
    if len(d.keys) == 1:
        return f"KS normalised by {d.keys[0]}"
    return "KS normalised by " + " and by ".join(d.keys) + ", which must agree"


def conclusion(d: Decision, plain: Comparison) -> tuple[bool, str | None, float | None]:
    """(significant, the better run's name or None, p-value) of the carrying comparison."""
    if d.carried_by == "plain":
        return plain.significant, plain.better, plain.ks_pvalue
    if d.carried_by == "none":
        return False, None, None
    j = d.joint
    better = None
    if j.significant and j.cliffs_delta:
        better = plain.b if j.cliffs_delta > 0 else plain.a
    return j.significant, better, j.ks_pvalue_permutation


def headline(d: Decision, plain: Comparison, noise: NoiseFloor | None, few: bool) -> str:
    """One line: which run is better (or no difference), the p-value, what carried it, and the
    gap against the seed-noise floor where one was measured."""
    a, b = plain.a, plain.b
    if d.carried_by == "none":
        return (f"{a} vs {b}: no conclusion (their {' and '.join(d.keys)} ranges share no"
                " complexity bin; the plain comparison cannot tell the space from model size)")
    sig, better, p = conclusion(d, plain)
    kind = "permutation p" if d.carried_by == "normalized" else "p"
    said = f"{better} is better" if better else "no significant difference"
    if d.carried_by == "normalized" and d.joint.opposite:
        said += f" (by {' and by '.join(d.keys)} the better run differs)"
    line = f"{a} vs {b}: {said} ({kind} = {fmt_p(p if p is not None else 1.0)}, {_carried_text(d)}"
    if noise is not None:
        rel = "within" if noise.below else "above"
        line += (f"; median gap {noise.median_difference:.2f} {rel} the seed-noise floor"
                 f" {noise.sd:.2f}")
    if few:
        line += f"; fewer than {MIN_MODELS} models on a side"
    return line + ")"


def _lead(p: Pair, d: Decision, plain: Comparison) -> str:
    """The verdict's first sentences: what carries the conclusion, and why."""
    a, b = p.a.name, p.b.name
    if d.carried_by == "plain":
        if p.normalize == "none" and d.differ:
            return (f"{plain.verdict} The plain comparison carries the conclusion because"
                    " normalisation was turned off (--normalize none).")
        return f"{plain.verdict} The plain comparison carries the conclusion: {d.reason}."
    keys = " and ".join(d.keys)
    if d.carried_by == "none":
        return (f"No conclusion: {d.reason}, and the {keys} ranges of {a} and {b} share no"
                " complexity bin, so no normalised comparison is possible; the plain comparison"
                f" cannot tell the space from model size (plain: {plain.verdict})")
    forced = (f" as asked (--normalize {p.normalize})" if p.normalize in ("flops", "params")
              else "")
    how = (f"it is normalised by {keys}{forced}" if len(d.keys) == 1 else
           f"it is normalised by each of {keys} and states a difference only when all agree")
    parts = "; ".join(normalized_sentence(d.normalized[k], a, b, p.what) for k in d.keys)
    return (f"The complexity-normalised comparison carries the conclusion, because {d.reason},"
            f" so the plain comparison mixes the space with model size; {how}."
            f" {parts[0].upper()}{parts[1:]}. Plain comparison, for reference:"
            f" {plain.verdict}")


def _sizes(p: Pair, d: Decision) -> tuple[int, int]:
    """Models on each side of the carrying comparison (the fewest over its measures)."""
    if d.carried_by != "normalized":
        return len(p.pa), len(p.pb)
    return (min(d.normalized[k].n_a for k in d.keys), min(d.normalized[k].n_b for k in d.keys))


def _norm_caveats(p: Pair, d: Decision, plain: Comparison) -> list[Caveat]:
    out = []
    for k in d.keys:
        n = d.normalized[k]
        if n.dropped_a or n.dropped_b:
            out.append(Caveat("bins", f"normalised by {k}, {len(n.dropped_a)} of {n.K} bins hold"
                              f" no model of {p.a.name} and {len(n.dropped_b)} none of"
                              f" {p.b.name}; they are dropped for both"))
    if d.carried_by == "plain" and d.differ:
        out.append(Caveat("size", f"{d.reason}: the plain comparison mixes the space with model"
                          " size"))
    if d.carried_by == "plain":
        for n in d.normalized.values():
            if n.ks_pvalue_permutation is not None and n.significant != plain.significant:
                said = normalized_sentence(n, p.a.name, p.b.name, p.what)
                out.append(Caveat("normalised", f"the comparison {said} disagrees with the"
                                  " plain one"))
    return out


def _caveats(p: Pair, d: Decision, plain: Comparison) -> list[Caveat]:
    """Every caveat of the pair, in the verdict's order."""
    out = [Caveat("recipe", "the runs differ in what their errors measure"
                  f" ({'; '.join(p.metric_diffs)}): neither comparison removes this")
           ] if p.metric_diffs else []
    out += input_caveats(p.a, p.b)
    out += _norm_caveats(p, d, plain)
    out += [Caveat("excluded", note) for note in (p.a.exclusion_note(), p.b.exclusion_note())
            if note]
    n_a, n_b = _sizes(p, d)
    if d.carried_by != "none" and min(n_a, n_b) < MIN_MODELS:
        where = " in the shared complexity range" if d.carried_by == "normalized" else ""
        out.append(Caveat("few", f"only {n_a} vs {n_b} models{where}: too few for a conclusion"
                          " or an estimate of how many would be needed"))
    return out


def _power(p: Pair, d: Decision, plain: Comparison) -> Power | None:
    """Models per space that would resolve a non-significant carrying comparison."""
    sizes = _sizes(p, d)
    if d.carried_by == "none" or min(sizes) < MIN_MODELS:
        return None
    if d.carried_by == "plain" and not plain.significant:
        return models_needed(p.values("a", "error"), p.values("b", "error"), alpha=p.alpha,
                             seed=p.seed, n_from=max(sizes))
    bind = d.normalized[d.joint.binding] if d.joint.binding else None
    if d.carried_by == "normalized" and not d.joint.significant and bind and bind.samples:
        ea, wa, eb, wb = bind.samples
        return models_needed(ea, eb, wa, wb, alpha=p.alpha, seed=p.seed, n_from=max(sizes))
    return None


def _power_sentence(power: Power, carried: str, alpha: float, seed: int) -> str:
    which = "normalised" if carried == "normalized" else "plain"
    if power.n is None:
        return (f" Even {power.more_than} models per space would not resolve the observed"
                f" {which} difference reliably: it is negligible.")
    where = " in the shared complexity range" if carried == "normalized" else ""
    return (f" About {power.n} models per space{where} would be needed to resolve the observed"
            f" {which} difference ({100 * power.power:.0f}% power at alpha = {alpha:g}; seeded"
            f" bootstrap, seed {seed}).")


def pair_verdict(p: Pair, plain: Comparison) -> PairVerdict:
    """Headline, carrying comparison, caveats and the verdict of runs ``p.a`` and ``p.b``."""
    d = decide(p.pa, p.pb, p.normalize, p.bins, p.alpha, seed=p.seed)
    caveats = _caveats(p, d, plain)
    power = _power(p, d, plain)
    text = _lead(p, d, plain).rstrip(".") + "."
    if caveats:
        text += " Caveats: " + "; ".join(c.text for c in caveats) + "."
    if power is not None:
        text += _power_sentence(power, d.carried_by, p.alpha, p.seed)
    if p.noise_floor is not None:
        text += " " + noise_sentence(p.noise_floor)
    sig, better, _ = conclusion(d, plain)
    j = d.joint if d.carried_by == "normalized" else None
    return PairVerdict(
        headline=headline(d, plain, p.noise_floor, any(c.kind == "few" for c in caveats)),
        plain_verdict=plain.verdict, text=text, carried_by=d.carried_by,
        normalized_by=d.keys if d.carried_by == "normalized" else [],
        normalized_reason=d.reason,
        normalized_ks_statistic=j.ks_statistic if j else None,
        normalized_ks_pvalue_permutation=j.ks_pvalue_permutation if j else None,
        normalized_ks_pvalue_approx=j.ks_pvalue_permutation if j else None,
        significant_conclusion=sig, better_conclusion=better, caveats=caveats,
        complexity=d.complexity, normalized=d.normalized, power=power,
        noise_floor=p.noise_floor)
