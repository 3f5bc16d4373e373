"""Rejection sampling of distinct architectures from a space (docs/spaces.md, "How sampling works").

Candidates are drawn in fixed-size batches from the architecture stream, screened (RegNet: an
exact vectorised prefilter), decoded with ``nasx.arch``, checked against every constraint and
de-duplicated by fingerprint. Training hparams and seeds come from a second stream spawned from the
same generator, so adding a ``train:`` distribution never changes which architectures are drawn.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasx.arch.complexity import complexity
from nasx.arch.families import decode
from nasx.arch.spec import ArchSpec
from nasx.errors import InvalidSample, SamplingError, SpaceError
from nasx.sample.bind import Bound, bind
from nasx.sample.draw import draw_columns, to_rows
from nasx.sample.prefilter import SCREENS
from nasx.space import ChoiceDist, Fixed, Param, SearchSpace, within
from nasx.store import NewTrial

BATCH = 2048  # candidates per draw; part of the seed -> trials mapping, so never change lightly
COMPLEXITY_KEYS = ("flops", "params", "acts")
# A candidate beyond these is rejected as "out_of_range": counts must fit the store's int64 columns
# and a network of more blocks than this is no design-space sample.
MAX_COMPLEXITY = 10**18
MAX_BLOCKS = 10_000
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

    @property
    def accepted(self) -> int:
        """Number of trials found."""
        return len(self.trials)

    @property
    def acceptance_rate(self) -> float:
        """accepted / attempts (0 when nothing was tried)."""
        return self.accepted / self.attempts if self.attempts else 0.0


def trial_fingerprint(spec_fingerprint: str, hparams: Mapping[str, Any]) -> str:
    """A trial's identity: its architecture, plus its sampled hparams when it has any."""
    if not hparams:
        return spec_fingerprint
    blob = json.dumps({"arch": spec_fingerprint, "hparams": dict(hparams)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class _Judge:
    """Decodes one candidate and checks it against the space; names the reason of a rejection."""

    def __init__(self, bound: Bound) -> None:
        self.bound = bound
        self.space = bound.space
        self.checked_keys = False

    def _quantity_keys(self, values: Mapping[str, Any], derived: Mapping[str, float]) -> None:
        """On the first decoded candidate: every constraint key must name a known quantity."""
        known = set(COMPLEXITY_KEYS) | set(derived) | set(values)
        for key in self.space.constraints:
            if key not in known:
                raise SpaceError(
                    "unknown quantity to constrain (constrainable: "
                    f"{', '.join(sorted(set(COMPLEXITY_KEYS) | set(derived)))} or a value key)",
                    where=str(self.space.path), key=f"constraints.{key}",
                )
        self.checked_keys = True

    def decode(self, values: dict[str, Any]) -> tuple[ArchSpec, dict[str, int]] | str:
        """(spec, complexity) of a candidate, or "invalid" / "out_of_range"; SpaceError for a
        value of the wrong type (the space file's fault)."""
        space = self.space
        try:
            spec = decode(space.family, values)
            comp = complexity(spec).to_dict()
        except InvalidSample:
            return "invalid"
        except SpaceError as exc:
            message = str(exc).split(": ", 1)[1] if exc.key else str(exc)
            raise SpaceError(message, where=str(space.path), key=exc.key) from None
        except (OverflowError, ZeroDivisionError, ValueError):
            return "out_of_range"  # arithmetic of a family beyond floats (e.g. alpha ** phi)
        if (max(comp.values()) > MAX_COMPLEXITY
                or sum(st.depth for st in spec.stages) > MAX_BLOCKS):
            return "out_of_range"
        return spec, comp

    def judge(self, values: dict[str, Any]) -> tuple[ArchSpec, dict[str, int]] | str:
        """(spec, complexity) of an acceptable candidate, or the reason it is rejected."""
        space = self.space
        for key, bounds in space.constraints.items():  # value constraints first: cheapest
            value = values.get(key)
            if isinstance(value, (int, float)) and not within(value, bounds):
                return key
        decoded = self.decode(values)
        if isinstance(decoded, str):
            return decoded
        spec, comp = decoded
        derived: Mapping[str, float] = {}
        if not self.checked_keys or any(
            k not in comp and k not in values for k in space.constraints
        ):
            derived = self.bound.family.derived(values, spec)
        if not self.checked_keys:
            self._quantity_keys(values, derived)
        quantities = {**values, **derived, **comp}
        for key, bounds in space.constraints.items():
            if not within(quantities[key], bounds):
                return key
        return spec, comp


def _corners(bound: Bound) -> list[dict[str, Any]]:
    """Candidates of a space's extreme values, in a fixed order (no random draws).

    The first takes every parameter at its first value (lo, the first option); each other one
    changes a single parameter to another extreme (hi, another option) so that a value of the
    wrong type is decoded at least once. Numeric options are represented by their min and max.
    """
    space = bound.space
    stages = space.stages or 0

    def extremes(param: Param) -> list[Any]:
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

    slots: list[tuple[list[str], list[Any]]] = []  # (value keys set together, their extremes)
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
    judge = _Judge(bound)
    for values in _corners(bound)[:MAX_PROBES]:
        decoded = judge.decode(values)
        if not judge.checked_keys and not isinstance(decoded, str):
            judge._quantity_keys(values, bound.family.derived(values, decoded[0]))
    return bound


def build_trial(space: SearchSpace, values: dict[str, Any], *, seed: int,
                hparams: Mapping[str, Any] | None = None, origin: str = "refine") -> NewTrial:
    """A trial from given values (e.g. an Optuna suggestion); InvalidSample names the reason."""
    verdict = _Judge(bind(space)).judge(dict(values))
    if isinstance(verdict, str):
        rule = "give no valid network" if verdict == "invalid" else "violate the constraint"
        raise InvalidSample(f"the values {rule}", where=str(space.path), key=verdict)
    spec, comp = verdict
    hp = dict(hparams or {})
    return NewTrial(
        fingerprint=trial_fingerprint(spec.fingerprint(), hp), values=dict(values),
        spec=spec.to_dict(), seed=seed, hparams=hp, origin=origin, **comp,
    )


def sample_space(
    space: SearchSpace,
    n: int,
    rng: np.random.Generator,
    *,
    max_attempts: int | None = None,
    exclude: Collection[str] = (),
    origin: str = "sampled",
    progress: Progress | None = None,
) -> SampleResult:
    """Draw ``n`` distinct acceptable trials; SamplingError when the budget runs out first.

    ``exclude`` holds fingerprints already taken (a run's existing trials).
    """
    if n < 1:
        raise SamplingError(f"the number of samples must be >= 1, got {n}", key="n")
    budget = default_max_attempts(n) if max_attempts is None else max_attempts
    if budget < 1:
        raise SamplingError(f"the attempt budget must be >= 1, got {budget}", key="max_attempts")
    stall = STALL if max_attempts is None else None  # a budget the user gives is used in full
    result = _draw(space, n, rng, budget, exclude, origin, progress, stall)
    if result.accepted < n:
        raise SamplingError(_shortfall(result, n, stalled=result.attempts < budget),
                            where=str(space.path))
    return result


def probe_space(space: SearchSpace, attempts: int, rng: np.random.Generator) -> SampleResult:
    """Look at exactly ``attempts`` candidates and keep every distinct acceptable one.

    Never raises for a low acceptance rate: this is how ``nasx describe`` estimates it.
    """
    if attempts < 1:
        raise SamplingError(f"the number of probes must be >= 1, got {attempts}", key="probe")
    return _draw(space, attempts, rng, attempts, (), "sampled", None)


def _draw(space: SearchSpace, n: int, rng: np.random.Generator, budget: int,
          exclude: Collection[str], origin: str, progress: Progress | None,
          stall: int | None = None) -> SampleResult:
    """The sampling loop: up to ``n`` trials from at most ``budget`` candidates (stopping early
    after ``stall`` candidates in a row without a new trial)."""
    bound = check_space(space)
    arch_rng, trial_rng = rng.spawn(2)
    judge = _Judge(bound)
    screen = SCREENS.get(space.family)
    seen = set(exclude)
    trials: list[NewTrial] = []
    rejected: Counter[str] = Counter()
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
                else np.flatnonzero(verdicts.reasons == None))  # noqa: E711
        rows = to_rows(cols, todo)
        batch_start = attempts
        attempts += size
        for i, values in zip(todo.tolist(), rows, strict=True):
            verdict = judge.judge(values)
            if isinstance(verdict, str):
                rejected[verdict] += 1
                continue
            spec, comp = verdict
            hparams = {k: d.sample(trial_rng) for k, d in space.train_dists.items()}
            fp = trial_fingerprint(spec.fingerprint(), hparams)
            if fp in seen:
                rejected["duplicate"] += 1
                continue
            seen.add(fp)
            last_new = batch_start + i + 1
            trials.append(NewTrial(
                fingerprint=fp, values=values, spec=spec.to_dict(), hparams=hparams,
                seed=int(trial_rng.integers(0, 2**31 - 1)), origin=origin, **comp,
            ))
            if len(trials) == n:
                attempts = batch_start + i + 1  # the rest of the batch was never looked at
                break
        if verdicts is not None:
            seen_reasons = verdicts.reasons[:attempts - batch_start]
            rejected.update(r for r in seen_reasons.tolist() if r is not None)
        if progress:
            progress(len(trials), attempts)
    return SampleResult(trials=trials, attempts=attempts, rejected=dict(rejected))


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
