"""How much to trust an EDF: the seed-noise floor and the short-vs-long fidelity of a run.

From the retrains of ``nasx fidelity`` (origin ``fidelity``, ``repeat_of`` naming the trial each
repeats):

- the seed-noise floor: each model's standard deviation of validation error over its S trainings
  (the original and its seed repeats, all with the population's recipe; ddof = 1), and the pooled
  SD ``sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1))`` with a chi-square interval: the pooled
  variance times its degrees of freedom is sigma^2 chi^2(df) when the seed noise is Gaussian with
  one sigma for all models;
- short-vs-long fidelity: Kendall's tau (tau-b) and Spearman's rho (``scipy.stats``) between the
  short (the population's schedule, the original's error) and the long validation errors of the
  same models, with seeded percentile-bootstrap intervals (pairs resampled with replacement).

Torch-free: the numbers of summary.json, the report and ``nasx fidelity``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from nasx.analysis.jsonable import SKIP
from nasx.analysis.load import population_mask  # the one population rule
from nasx.status import TrialStatus
from nasx.types import Scalar

ORIGIN = "fidelity"
BOOTSTRAP_B = 2000
LEVEL = 0.95
SD_METHOD = ("pooled SD over models (ddof 1), chi-square interval on the pooled variance"
             " (Gaussian seed noise with one SD for all models)")
RANK_METHOD = ("scipy.stats kendalltau (tau-b) and spearmanr; percentile bootstrap over models"
               " (pairs with replacement), resamples with an undefined statistic left out")


@dataclass(frozen=True)
class Interval:
    """A confidence interval (None ends: not enough data)."""

    low: float | None
    high: float | None


@dataclass(frozen=True)
class ModelNoise:
    """One model's trainings with the population's recipe: the original and its seed repeats."""

    id: int
    n: int
    mean: float
    sd: float
    errors: list[float]


@dataclass(frozen=True)
class SeedNoise:
    """The seed-noise floor: the pooled seed SD of validation error (percentage points)."""

    models: int
    runs: int
    df: int
    pooled_sd: float
    ci: Interval
    level: float
    mean_sd: float
    max_sd: float
    method: str
    per_model: list[ModelNoise]


@dataclass(frozen=True)
class RankPair:
    """One model's short and long validation errors."""

    id: int
    short: float
    long: float


@dataclass(frozen=True)
class ShortLong:
    """Rank agreement of the short and the long validation errors of the same models."""

    epochs_short: int | None
    epochs_long: int
    n: int
    kendall_tau: float | None
    kendall_pvalue: float | None
    tau_ci: Interval
    spearman_rho: float | None
    spearman_pvalue: float | None
    rho_ci: Interval
    level: float
    B: int
    seed: int
    method: str
    pairs: list[RankPair]


@dataclass(frozen=True)
class Fidelity:
    """Everything ``nasx fidelity`` measured in one run (summary.json ``fidelity``)."""

    trials: int  # finished fidelity trials used
    unfinished: int  # fidelity trials not (yet) done
    excluded: int  # finished retrains left out: their original is not finished, or their recipe
    seed_noise: SeedNoise | None
    short_long: list[ShortLong]
    # the run's name, for sentences (not written: summary.json has it beside)
    name: str = field(default="", metadata=SKIP)

    @property
    def noise_floor(self) -> float | None:
        """The pooled seed SD, None when no model has two trainings."""
        return None if self.seed_noise is None else self.seed_noise.pooled_sd

    def lines(self) -> list[str]:
        """One line per figure (what ``nasx fidelity`` prints and the report repeats)."""
        out = []
        s = self.seed_noise
        if s is not None:
            out.append(f"seed-noise floor: pooled seed SD {s.pooled_sd:.2f}% "
                       f"({100 * s.level:.0f}% CI {_span(s.ci)}), {s.models} models,"
                       f" {s.runs} trainings (df {s.df}); per-model SD mean {s.mean_sd:.2f}%,"
                       f" max {s.max_sd:.2f}%")
        for r in self.short_long:
            short = f"{r.epochs_short}" if r.epochs_short is not None else "population"
            out.append(f"short vs long ({short} -> {r.epochs_long} epochs, {r.n} models):"
                       f" Kendall tau {_num(r.kendall_tau)} ({100 * r.level:.0f}% CI"
                       f" {_span(r.tau_ci, 2, '')}), Spearman rho {_num(r.spearman_rho)}"
                       f" ({100 * r.level:.0f}% CI {_span(r.rho_ci, 2, '')})")
        if not out:
            out.append("no finished retrains yet")
        return out


def _num(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _span(ci: Interval, digits: int = 2, unit: str = "%") -> str:
    if ci.low is None or ci.high is None:
        return "n/a"
    return f"{ci.low:.{digits}f} to {ci.high:.{digits}f}{unit}"


def seed_noise(groups: Mapping[int, Sequence[float]], level: float = LEVEL) -> SeedNoise | None:
    """The pooled seed SD of models with at least two trainings (``groups``: id -> errors)."""
    per = []
    for tid, errs in sorted(groups.items()):
        e = np.asarray(errs, dtype=float)
        if e.size >= 2:
            per.append(ModelNoise(id=int(tid), n=int(e.size), mean=float(e.mean()),
                                  sd=float(e.std(ddof=1)), errors=[float(x) for x in e]))
    if not per:
        return None
    df = sum(m.n - 1 for m in per)
    var = sum((m.n - 1) * m.sd ** 2 for m in per) / df
    a = 1.0 - level
    # df * s^2 / sigma^2 ~ chi2(df): sigma^2 lies in [df s^2 / q_hi, df s^2 / q_lo]
    ci = Interval(low=math.sqrt(df * var / float(stats.chi2.ppf(1 - a / 2, df))),
                  high=math.sqrt(df * var / float(stats.chi2.ppf(a / 2, df))))
    sds = [m.sd for m in per]
    return SeedNoise(models=len(per), runs=sum(m.n for m in per), df=df,
                     pooled_sd=math.sqrt(var), ci=ci, level=level,
                     mean_sd=float(np.mean(sds)), max_sd=float(np.max(sds)), method=SD_METHOD,
                     per_model=per)


def rank_stats(x: np.ndarray, y: np.ndarray, draws: np.ndarray,
               chunk: int = 256) -> np.ndarray:
    """Kendall's tau-b and Spearman's rho of ``(x[d], y[d])`` for every row ``d`` of ``draws``
    (shape B x 2; NaN where undefined), as scipy computes them, vectorised over resamples."""
    out = np.empty((len(draws), 2))
    n = draws.shape[1]
    pairs = n * (n - 1) / 2
    for lo in range(0, len(draws), chunk):
        d = draws[lo:lo + chunk]
        xs, ys = x[d], y[d]
        sx = np.sign(xs[:, :, None] - xs[:, None, :])
        sy = np.sign(ys[:, :, None] - ys[:, None, :])
        s = (sx * sy).sum(axis=(1, 2)) / 2  # concordant minus discordant pairs
        tied_x = ((sx == 0).sum(axis=(1, 2)) - n) / 2
        tied_y = ((sy == 0).sum(axis=(1, 2)) - n) / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo:lo + chunk, 0] = s / np.sqrt((pairs - tied_x) * (pairs - tied_y))
            rx = stats.rankdata(xs, axis=1)
            ry = stats.rankdata(ys, axis=1)
            rx -= rx.mean(axis=1, keepdims=True)
            ry -= ry.mean(axis=1, keepdims=True)
            out[lo:lo + chunk, 1] = ((rx * ry).sum(axis=1)
                                     / np.sqrt((rx ** 2).sum(axis=1) * (ry ** 2).sum(axis=1)))
    return out


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _ci(values: np.ndarray, level: float) -> Interval:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return Interval(None, None)
    a = 100 * (1 - level) / 2
    return Interval(low=float(np.percentile(v, a)), high=float(np.percentile(v, 100 - a)))


def short_long(ids: Sequence[int], short: Sequence[float], long: Sequence[float],
               epochs_long: int, epochs_short: int | None = None, *, B: int = BOOTSTRAP_B,
               seed: int = 0, level: float = LEVEL) -> ShortLong:
    """Kendall's tau and Spearman's rho of short vs long errors, with bootstrap intervals."""
    x, y = np.asarray(short, dtype=float), np.asarray(long, dtype=float)
    n = int(x.size)
    pairs = [RankPair(id=int(i), short=float(a), long=float(b))
             for i, a, b in zip(ids, x, y, strict=True)]
    tau = rho = tau_p = rho_p = None
    tau_ci = rho_ci = Interval(None, None)
    if n >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kt, sr = stats.kendalltau(x, y), stats.spearmanr(x, y)
        tau, rho = _finite(float(kt.statistic)), _finite(float(sr.statistic))
        tau_p, rho_p = _finite(float(kt.pvalue)), _finite(float(sr.pvalue))
    if n >= 3:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, n, size=(B, n))
        boot = rank_stats(x, y, draws)
        tau_ci, rho_ci = _ci(boot[:, 0], level), _ci(boot[:, 1], level)
    return ShortLong(epochs_short=epochs_short, epochs_long=int(epochs_long), n=n,
                     kendall_tau=tau, kendall_pvalue=tau_p, tau_ci=tau_ci, spearman_rho=rho,
                     spearman_pvalue=rho_p, rho_ci=rho_ci, level=level, B=B if n >= 3 else 0,
                     seed=seed, method=RANK_METHOD, pairs=pairs)


def _epochs(recipe: object) -> int | None:
    v = recipe.get("epochs") if isinstance(recipe, Mapping) else None
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _ok(frame: pd.DataFrame) -> pd.Series:
    err = pd.to_numeric(frame["error"], errors="coerce")
    return (frame["status"] == TrialStatus.DONE) & err.map(lambda e: bool(np.isfinite(e)))


def fidelity_of(frame: pd.DataFrame, run_recipe: Mapping[str, Scalar] | None, *,
                seed: int = 0, name: str = "") -> Fidelity | None:
    """The fidelity figures of a run's trials frame (``trials_frame``); None without retrains.

    A seed repeat counts when trained with the population's recipe, a long retrain when trained
    for its ``repeat_epochs``; both only beside a finished original (the short training).
    """
    if "origin" not in frame or not (frame["origin"] == ORIGIN).any():
        return None
    fid = frame[frame["origin"] == ORIGIN]
    done = fid[_ok(fid)]
    ok = frame[_ok(frame) & (frame["origin"] != ORIGIN)]
    original = dict(zip(ok["id"].astype(int), pd.to_numeric(ok["error"]), strict=True))
    in_pop = population_mask(done, run_recipe) if len(done) else pd.Series(dtype=bool)
    groups: dict[int, list[float]] = {}
    long: dict[int, list[tuple[int, float, float]]] = {}
    excluded = 0
    for idx, row in done.iterrows():
        of = None if pd.isna(row["repeat_of"]) else int(row["repeat_of"])
        e_long = None if pd.isna(row["repeat_epochs"]) else int(row["repeat_epochs"])
        if of is None or of not in original:
            excluded += 1
        elif e_long is None and in_pop[idx]:
            groups.setdefault(of, [float(original[of])]).append(float(row["error"]))
        elif e_long is not None and _epochs(row["recipe"]) == e_long:
            long.setdefault(e_long, []).append((of, float(original[of]), float(row["error"])))
        else:
            excluded += 1
    rows = {e: sorted(v) for e, v in sorted(long.items())}
    return Fidelity(
        trials=len(done), unfinished=len(fid) - len(done), excluded=excluded,
        seed_noise=seed_noise(groups),
        short_long=[short_long([r[0] for r in v], [r[1] for r in v], [r[2] for r in v], e,
                               _epochs(run_recipe), seed=seed) for e, v in rows.items()],
        name=name)


@dataclass(frozen=True)
class NoiseFloor:
    """The seed-noise floor a comparison of two runs is held against (the larger of theirs)."""

    sd: float
    run: str
    median_difference: float
    below: bool


def noise_floor(a: Fidelity | None, b: Fidelity | None, median_a: float,
                median_b: float) -> NoiseFloor | None:
    """The larger pooled seed SD of two runs against their difference in median errors."""
    floors = [(f.noise_floor, f.name) for f in (a, b) if f is not None and f.noise_floor is not None]
    if not floors:
        return None
    sd, run = max(floors, key=lambda x: x[0] or 0.0)
    diff = abs(median_a - median_b)
    return NoiseFloor(sd=float(sd or 0.0), run=run, median_difference=float(diff),
                      below=bool(diff < (sd or 0.0)))


def noise_sentence(n: NoiseFloor) -> str:
    """The verdict's sentence on the difference in medians against the seed-noise floor."""
    where = f" ({n.run}'s pooled seed SD of one training)" if n.run else ""
    if n.below:
        return (f"The difference in medians, {n.median_difference:.2f}%, is below the seed-noise"
                f" floor, {n.sd:.2f}%{where}: retraining one model with another seed moves its"
                " error by as much.")
    return (f"The difference in medians, {n.median_difference:.2f}%, exceeds the seed-noise"
            f" floor, {n.sd:.2f}%{where}.")
