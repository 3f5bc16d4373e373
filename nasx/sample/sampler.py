"""Rejection sampling of distinct architectures from a space (docs/spaces.md, "How sampling works").

Candidates are drawn in fixed-size batches from the architecture stream, screened (RegNet: an
exact vectorised prefilter), decoded with ``nasx.arch``, checked against every constraint and
de-duplicated by fingerprint. Training hparams and seeds come from a second stream spawned from the
same generator, so adding a ``train:`` distribution never changes which architectures are drawn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import numpy as np

from nasx.errors import SamplingError
from nasx.sample.accept import (
    Acceptance,
    MeasuredCheck,
    MeasuredValue,
    Measurer,
    Verdict,
)
from nasx.sample.bind import Bound, bind
from nasx.sample.draw import draw_columns, to_rows
from nasx.sample.prefilter import SCREENS
from nasx.space import ChoiceDist, Fixed, Param, SearchSpace
from nasx.space.dists import Scalar
from nasx.store import NewTrial

BATCH = 2048  # candidates per draw; part of the seed -> trials mapping, so never change lightly
MAX_PROBES = 2048  # candidates check_space decodes at most
# With the default budget (1000 candidates per sample: it needs an acceptance rate near 1/1000 or
# more) sampling stops once this many candidates in a row gave no new trial. At a rate of 1/500
# that happens with probability e**-20, so in practice only an infeasible or exhausted space (all
# of its distinct architectures taken) stops early: in seconds instead of minutes or hours.
STALL = 10_000
Progress = Callable[[int, int], None]  # (accepted, attempts)


def default_max_attempts(n: int) -> int:
    """The attempt budget for ``n`` samples when none is given."""
    return max(10_000, 1000 * n)


@dataclass
class SampleResult:
    """What a sampling pass produced: the trials and how many candidates it took."""

    trials: list[NewTrial]
    attempts: int
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> count
    # measured constraints: distinct candidates measured, how many of those were rejected, and
    # what was measured for each trial (by fingerprint). All 0 / empty for a space without them.
    measured: int = 0
    measured_rejected: int = 0
    measurements: dict[str, Mapping[str, MeasuredValue]] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        """Number of trials found."""
        return len(self.trials)

    @property
    def acceptance_rate(self) -> float:
        """accepted / attempts (0 when nothing was tried)."""
        return self.accepted / self.attempts if self.attempts else 0.0


def _corners(bound: Bound) -> list[dict[str, Scalar]]:
    """Candidates of a space's extreme values, in a fixed order (no random draws).

    The first takes every parameter at its first value (lo, the first option); each other one
    changes a single parameter to another extreme (hi, another option) so that a value of the
    wrong type is decoded at least once. Numeric options are represented by their min and max.
    """
    space = bound.space
    stages = space.stages or 0

    def extremes(param: Param) -> list[Scalar]:
        if isinstance(param, Fixed):
            return [param.value]
        if isinstance(param, ChoiceDist):
            nums = [o for o in param.options if isinstance(o, (int, float))
                    and not isinstance(o, bool)]
            rest = [o for o in param.options if o not in nums or isinstance(o, bool)]
            picked = [param.options[0]]
            for o in [*rest, *([min(nums), max(nums)] if nums else [])]:
                if all(o is not p and (type(o), o) != (type(p), p) for p in picked):
                    picked.append(o)
            return picked
        return [param.lo, param.hi]

    slots: list[tuple[list[str], list[Scalar]]] = []  # (value keys set together, their extremes)
    for key, param in space.params.items():
        keys = [f"{key}_{i}" for i in range(1, stages + 1)] if key in bound.broadcast else [key]
        slots.append((keys, extremes(param)))
    for key, params in space.per_stage.items():
        if space.relations.get(key) == "shared":
            slots.append(([f"{key}_{i}" for i in range(1, stages + 1)], extremes(params[0])))
        else:
            slots += [([f"{key}_{i + 1}"], extremes(p)) for i, p in enumerate(params)]
    slots += [([key], extremes(param)) for key, param in space.input.items()]
    base = {k: options[0] for keys, options in slots for k in keys}
    out = [base]
    for keys, options in slots:
        for option in options[1:]:
            out.append({**base, **dict.fromkeys(keys, option)})
    return out


def check_space(space: SearchSpace) -> Bound:
    """Everything sampling checks before it draws: the family's keys and limits, the ``train:``
    free keys aside, the type of every extreme value and the names of the constraints.

    ``nasx sample`` and ``nasx describe`` both run it, so they accept the same files. Decodes at
    most MAX_PROBES fixed candidates (no random draws, so it never shifts a seed's samples).
    """
    bound = bind(space)
    acceptance = Acceptance(bound)
    for values in _corners(bound)[:MAX_PROBES]:
        decoded = acceptance.decode(values)
        if not isinstance(decoded, Verdict):  # every decoded corner: a constrained string shows
            acceptance.check_names(values, decoded[0])
    return bound


MAX_ATTEMPTS = 10**9  # candidates one `sample` may look at (about an hour of screening)


def check_counts(where: str | None, n: int | None = None, seed: int | None = None,
                 max_attempts: int | None = None) -> None:
    """SamplingError naming ``where`` for a count outside its limits (the space file's, for n
    and seed): the one rule of the sampler's counts, for the API, the CLI and the sampler."""
    from nasx.space.schema import MAX_N, MAX_SEED

    for key, value, lo, hi in (("n", n, 1, MAX_N), ("seed", seed, 0, MAX_SEED),
                               ("max_attempts", max_attempts, 1, MAX_ATTEMPTS)):
        if value is not None and not lo <= value <= hi:
            raise SamplingError(rule=f"must be in [{lo}, {hi}]", value=value, where=where,
                                key=key)

def sample_space(
    space: SearchSpace,
    n: int,
    rng: np.random.Generator,
    *,
    max_attempts: int | None = None,
    exclude: Collection[str] = (),
    origin: str = "sampled",
    progress: Progress | None = None,
    measure: Measurer | None = None,
) -> SampleResult:
    """Draw ``n`` distinct acceptable trials; SamplingError when the budget runs out first.

    ``exclude`` holds fingerprints already taken (a run's existing trials). A space with measured
    constraints needs ``measure``, applied only to candidates every analytic constraint accepts.
    """
    measured = MeasuredCheck(space, measure)  # refuses a measured space without the hook
    check_counts(None, n)
    budget = default_max_attempts(n) if max_attempts is None else max_attempts
    if budget < 1:
        raise SamplingError(rule="the attempt budget must be >= 1", value=budget,
                            key="max_attempts")
    stall = STALL if max_attempts is None else None  # a budget the user gives is used in full
    result = _draw(space, rng, n=n, budget=budget, exclude=exclude, origin=origin,
                   progress=progress, stall=stall, measured=measured)
    if result.accepted < n:
        raise SamplingError(_shortfall(result, n, stalled=result.attempts < budget),
                            where=str(space.path))
    return result


def probe_space(space: SearchSpace, attempts: int, rng: np.random.Generator) -> SampleResult:
    """Look at exactly ``attempts`` candidates and keep every distinct acceptable one.

    Never raises for a low acceptance rate: this is how ``nasx describe`` estimates it. Measured
    constraints are not applied: the rate is the analytic constraints' alone.
    """
    if attempts < 1:
        raise SamplingError(rule="the number of probes must be >= 1", value=attempts, key="probe")
    return _draw(space, rng, n=attempts, budget=attempts)


def _draw(space: SearchSpace, rng: np.random.Generator, *, n: int, budget: int,
          exclude: Collection[str] = (), origin: str = "sampled", progress: Progress | None = None,
          stall: int | None = None, measured: MeasuredCheck | None = None) -> SampleResult:
    """The sampling loop: up to ``n`` trials from at most ``budget`` candidates (stopping early
    after ``stall`` candidates in a row without a new trial), measured ones judged by
    ``measured`` once every analytic check and the duplicate check passed."""
    bound = check_space(space)
    arch_rng, trial_rng = rng.spawn(2)
    acceptance = Acceptance(bound, measured)
    make_screen = SCREENS.get(space.family)
    screen = make_screen() if make_screen is not None else None
    seen = set(exclude)
    trials: list[NewTrial] = []
    rejected: Counter[str] = Counter()
    measurements: dict[str, Mapping[str, MeasuredValue]] = {}
    attempts = 0
    last_new = 0  # attempts when the last new trial was found
    while len(trials) < n and attempts < budget:
        if stall is not None and attempts - last_new >= stall:
            break
        size = min(BATCH, budget - attempts)
        cols = draw_columns(bound, arch_rng, size)
        verdicts = screen(cols, bound.family.defaults, size, space.constraints) if screen else None
        # the screen's rejections are counted in bulk; only survivors become dicts
        todo = (np.arange(size) if verdicts is None
                else verdicts.passed())
        rows = to_rows(cols, todo)
        batch_start = attempts
        attempts += size
        for i, values in zip(todo.tolist(), rows, strict=True):
            verdict = acceptance.check(values, stop_at_first=True, measure=False)
            if not verdict.accepted:
                rejected[verdict.rule] += 1
                continue
            hparams = {k: d.sample(trial_rng) for k, d in space.train_dists.items()}
            fp = verdict.fingerprint(hparams)
            if fp in seen:
                rejected["duplicate"] += 1
                continue
            if measured is not None and measured.active:  # the costly check comes last
                verdict = acceptance.measure(verdict)
                if not verdict.accepted:
                    rejected[verdict.rule] += 1
                    continue
                measurements[fp] = verdict.measured
            seen.add(fp)
            last_new = batch_start + i + 1
            trials.append(verdict.trial_for(values, fingerprint=fp, hparams=hparams, origin=origin,
                                            seed=int(trial_rng.integers(0, 2**31 - 1))))
            if len(trials) == n:
                attempts = batch_start + i + 1  # the rest of the batch was never looked at
                break
        if verdicts is not None:
            rejected.update(verdicts.rejected(attempts - batch_start))
        if progress:
            progress(len(trials), attempts)
    return _result(trials, attempts, rejected, measured, measurements)


def _result(trials: list[NewTrial], attempts: int, rejected: Counter[str],
            measured: MeasuredCheck | None,
            measurements: dict[str, Mapping[str, MeasuredValue]]) -> SampleResult:
    """What :func:`_draw` found, with the measured check's counts when it measured."""
    if measured is None or not measured.active:
        return SampleResult(trials=trials, attempts=attempts, rejected=dict(rejected))
    return SampleResult(trials=trials, attempts=attempts, rejected=dict(rejected),
                        measured=measured.measured,
                        measured_rejected=sum(measured.rejected.values()),
                        measurements=measurements)


def _shortfall(result: SampleResult, n: int, stalled: bool = False) -> str:
    """One line: how many were found, the acceptance rate, and what rejected the most."""
    top = sorted(result.rejected.items(), key=lambda kv: -kv[1])[:3]
    why = ", ".join(f"{k} {v}" for k, v in top) or "none"
    stop = f"; none new in the last {STALL} attempts" if stalled else ""
    return (
        f"found only {result.accepted} of {n} architectures in {result.attempts} attempts "
        f"(acceptance rate {100 * result.acceptance_rate:.3g}%; rejections: {why}{stop}); "
        "widen the constraints or raise --max-attempts"
    )
