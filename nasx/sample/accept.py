"""The one acceptance check of a candidate architecture: decode, count, derive, constrain, and
(for a space with measured constraints) measure.

Whoever proposes values asks :class:`Acceptance` and reads one :class:`Verdict`: the sampler for
each candidate its vectorised screen (``nasx.sample.prefilter``) let through, and refine's
feasibility check (``nasx.refine.feasible``). A screen only rejects early what this check would reject too; this
check is the authority, so every path decodes and counts a candidate exactly once.

Measured constraints go through a hook, so sampling stays torch-free: the caller builds a
:data:`Measurer` (``nasx.measure.probe.constraint_measurer``, torch) and gives it to the
acceptance check as a :class:`MeasuredCheck`, which measures candidates that passed every
analytic constraint (each architecture once, by its fingerprint), counts what it measured and
judges the figures against the space's ``latency_ms`` / ``memory_mb`` bounds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from nasx.arch.complexity import Complexity, complexity
from nasx.arch.spec import ArchSpec
from nasx.errors import InvalidSample, SamplingError, SpaceError
from nasx.sample.bind import Bound
from nasx.space import SearchSpace, within
from nasx.space.constraints import Bound as Limit
from nasx.store import NewTrial, Origin

COMPLEXITY_KEYS = ("flops", "params", "acts")
# A candidate beyond these is rejected as "out_of_range": counts must fit the store's int64 columns
# and a network of more blocks than this is no design-space sample.
MAX_COMPLEXITY = 10**18
MAX_BLOCKS = 10_000
INVALID = "invalid"  # the rule of values that decode to no network
OUT_OF_RANGE = "out_of_range"  # the rule of a network beyond the limits above
NO_NETWORK = 1.0  # the violation score of both (a constraint's score is a relative distance)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the acceptance check found for one candidate value set."""

    accepted: bool
    rule: str = ""  # "" when accepted, else INVALID, OUT_OF_RANGE or the violated constraint key
    reason: str = ""  # one line for people: the rule and the value ("" when accepted)
    violation: float = 0.0  # 0 when accepted; NO_NETWORK; else summed distances outside bounds
    quantities: Mapping[str, float] = field(default_factory=dict)  # what constraints read
    spec: ArchSpec | None = None
    counts: Complexity | None = None
    trial: NewTrial | None = None  # set by a caller that makes the trial (refine's check)
    # latency_ms / memory_mb -> what was measured (MeasuredCheck); empty when unmeasured
    measured: Mapping[str, MeasuredValue] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        """No rule violated (refine's word for ``accepted``)."""
        return self.accepted

    def fingerprint(self, hparams: Mapping[str, Any]) -> str:
        """The identity of the trial these values and ``hparams`` would make."""
        return trial_fingerprint(self._accepted()[0].fingerprint(), hparams)

    def trial_for(self, values: Mapping[str, Any], *, seed: int, hparams: Mapping[str, Any],
                  origin: str, fingerprint: str | None = None) -> NewTrial:
        """The NewTrial of an accepted candidate (``fingerprint`` when the caller has it)."""
        spec, counts = self._accepted()
        hp = dict(hparams)
        return NewTrial(
            fingerprint=fingerprint or trial_fingerprint(spec.fingerprint(), hp),
            values=dict(values), spec=spec, seed=seed, hparams=hp, origin=Origin(origin),
            flops=counts.flops, params=counts.params, acts=counts.acts,
        )

    def _accepted(self) -> tuple[ArchSpec, Complexity]:
        if not self.accepted or self.spec is None or self.counts is None:
            raise ValueError(f"a rejected candidate makes no trial ({self.rule})")
        return self.spec, self.counts


def trial_fingerprint(spec_fingerprint: str, hparams: Mapping[str, Any]) -> str:
    """A trial's identity: its architecture, plus its sampled hparams when it has any."""
    if not hparams:
        return spec_fingerprint
    blob = json.dumps({"arch": spec_fingerprint, "hparams": dict(hparams)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def distance(value: float, bounds: tuple[Limit, Limit]) -> float:
    """Relative distance of ``value`` outside ``[lo, hi]`` (0 inside)."""
    lo, hi = bounds
    if lo is not None and value < lo:
        return (lo - value) / max(abs(lo), 1e-12)
    if hi is not None and value > hi:
        return (value - hi) / max(abs(hi), 1e-12)
    return 0.0


def outside(key: str, value: float, bounds: tuple[Limit, Limit]) -> str:
    """``key=value outside [lo, hi]``: the reason of a violated constraint."""
    return f"{key}={value:g} outside [{bounds[0]}, {bounds[1]}]"


def _no_network(rule: str, reason: str, counts: Complexity | None = None) -> Verdict:
    quantities: dict[str, float] = counts.to_dict() if counts is not None else {}
    return Verdict(False, rule, reason, NO_NETWORK, quantities, counts=counts)


class MeasuredValue(Protocol):
    """One measured figure (``nasx.measure.Measurement`` is one): its median and how it was
    measured, which the run records beside the trial."""

    @property
    def key(self) -> str: ...  # noqa: D102
    @property
    def median(self) -> float: ...  # noqa: D102
    @property
    def spread(self) -> float: ...  # noqa: D102
    @property
    def device(self) -> str: ...  # noqa: D102
    @property
    def batch(self) -> int: ...  # noqa: D102
    @property
    def threads(self) -> int: ...  # noqa: D102
    @property
    def method(self) -> str: ...  # noqa: D102


# spec -> {constraint key (latency_ms, memory_mb) -> its measurement}
Measurer = Callable[[ArchSpec], Mapping[str, MeasuredValue]]


class MeasuredCheck:
    """The measured constraints of one space, applied through ``measure``; counts its calls."""

    def __init__(self, space: SearchSpace, measure: Measurer | None) -> None:
        self.bounds = dict(space.measured)
        if self.bounds and measure is None:
            keys = ", ".join(self.bounds)
            raise SamplingError(
                f"has measured constraints ({keys}) but no measuring function was given "
                "(nasx.measure.probe.constraint_measurer builds one)",
                where=str(space.path), key=f"constraints.{next(iter(self.bounds))}",
            )
        self.measure = measure
        self.measured = 0  # candidates measured (each distinct architecture once)
        self.rejected: Counter[str] = Counter()  # constraint key -> measured candidates it rejected
        self._seen: dict[str, Mapping[str, MeasuredValue]] = {}

    @property
    def active(self) -> bool:
        """Whether the space has measured constraints."""
        return bool(self.bounds)

    def check(self, verdict: Verdict) -> Verdict:
        """``verdict`` (analytically accepted) judged on the measured figures too."""
        if not self.bounds or not verdict.accepted or verdict.spec is None:
            return verdict
        fp = verdict.spec.fingerprint()
        got = self._seen.get(fp)
        fresh = got is None
        if got is None:
            assert self.measure is not None  # the constructor refuses a missing hook
            got = self.measure(verdict.spec)
            self.measured += 1
            self._seen[fp] = got  # a redraw of a rejected architecture is not measured again
        quantities = {**verdict.quantities, **{k: got[k].median for k in self.bounds}}
        failed = [k for k, b in self.bounds.items() if not within(quantities[k], b)]
        if not failed:
            return dataclasses.replace(verdict, quantities=quantities, measured=dict(got))
        if fresh:
            self.rejected[failed[0]] += 1
        return dataclasses.replace(
            verdict, accepted=False, rule=failed[0],
            reason="; ".join(outside(k, quantities[k], self.bounds[k]) for k in failed),
            violation=sum(max(distance(quantities[k], self.bounds[k]), 1e-12) for k in failed),
            quantities=quantities, measured=dict(got),
        )

    def summary(self) -> dict[str, object]:
        """What was measured, for the run's meta and the CLI's line."""
        return {"keys": list(self.bounds), "candidates": self.measured,
                "rejected": sum(self.rejected.values())}


class Acceptance:
    """The acceptance check of one bound space (with its measured part, when given); keeps what
    it learnt from the first candidate."""

    def __init__(self, bound: Bound, measured: MeasuredCheck | None = None) -> None:
        self.bound = bound
        self.measured = measured
        self.where = bound.file
        self.constraints = bound.space.constraints
        self._names_checked = False  # constraint keys checked against a decoded candidate
        self._derive = True  # whether a constraint reads a quantity the family derives

    def decode(self, values: Mapping[str, Any]) -> tuple[ArchSpec, Complexity] | Verdict:
        """(spec, counts) of ``values``, or the rejecting Verdict (INVALID, OUT_OF_RANGE).

        A value of the wrong type is the space file's fault: SpaceError naming the file.
        """
        try:
            spec = self.bound.family.decode(values)
            counts = complexity(spec)
        except InvalidSample as exc:
            return _no_network(INVALID, f"no valid network: {exc}")
        except SpaceError as exc:
            raise exc.at(where=self.where) from None
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            # arithmetic of a family beyond floats (e.g. alpha ** phi)
            return _no_network(OUT_OF_RANGE, f"out of range: {exc}")
        if (max(counts.flops, counts.params, counts.acts) > MAX_COMPLEXITY
                or sum(st.depth for st in spec.stages) > MAX_BLOCKS):
            return _no_network(OUT_OF_RANGE, f"out of range: more than {MAX_COMPLEXITY:.0e} "
                               f"flops, params or acts, or {MAX_BLOCKS} blocks", counts)
        return spec, counts

    def quantities(self, values: Mapping[str, Any], spec: ArchSpec, counts: Complexity, *,
                   derive: bool = True) -> dict[str, float]:
        """The numbers a constraint may read: numeric values, then the family's derived
        quantities, then the counts (a later one wins a shared name)."""
        out: dict[str, float] = {k: v for k, v in values.items() if _is_number(v)}
        if derive:
            out.update(self.bound.family.derived(values, spec))
        out.update(flops=counts.flops, params=counts.params, acts=counts.acts)
        if not self._names_checked:
            self.check_names(values, spec)
        return out

    def check_names(self, values: Mapping[str, Any], spec: ArchSpec) -> None:
        """SpaceError for a constraint on no known quantity or on a value that is no number."""
        derived = self.bound.family.derived(values, spec)
        for key in self.constraints:
            if key in COMPLEXITY_KEYS or key in derived or _is_number(values.get(key)):
                continue
            if key in values:
                raise SpaceError(rule="a constraint needs a number", value=values[key],
                                 where=self.where, key=f"constraints.{key}")
            known = ", ".join(sorted(set(COMPLEXITY_KEYS) | set(derived)))
            raise SpaceError(f"unknown quantity to constrain (constrainable: {known} or a value "
                             "key)", where=self.where, key=f"constraints.{key}")
        self._names_checked = True
        self._derive = any(k not in COMPLEXITY_KEYS and k not in values for k in self.constraints)

    def check(self, values: Mapping[str, Any], *, stop_at_first: bool = False,
              measure: bool = True) -> Verdict:
        """The verdict on ``values``: every violated constraint scored, or (``stop_at_first``,
        the sampler's inner loop) the first one, value constraints before anything is decoded;
        then the measured constraints (unless ``measure`` is off: the sampler measures only
        after its duplicate check, with :meth:`measure`)."""
        verdict = self._analytic(values, stop_at_first)
        return self.measure(verdict) if measure else verdict

    def measure(self, verdict: Verdict) -> Verdict:
        """An analytic verdict judged on the measured constraints too (unchanged without any)."""
        if self.measured is None or not self.measured.active:
            return verdict
        return self.measured.check(verdict)

    def _analytic(self, values: Mapping[str, Any], stop_at_first: bool) -> Verdict:
        """Decode, count, derive and judge the analytic constraints."""
        if stop_at_first:
            for key, bounds in self.constraints.items():  # cheapest first: no decode
                value = values.get(key)
                if _is_number(value) and not within(value, bounds):
                    return Verdict(False, key, outside(key, value, bounds),
                                   distance(value, bounds), {key: value})
        decoded = self.decode(values)
        if isinstance(decoded, Verdict):
            return decoded
        spec, counts = decoded
        quantities = self.quantities(values, spec, counts,
                                     derive=self._derive or not stop_at_first)
        failed: list[str] = []  # the violated constraint keys, in file order
        texts: list[str] = []
        violation = 0.0
        for key, bounds in self.constraints.items():
            if key not in quantities:
                self.check_names(values, spec)  # raises: a value of another type than before
            value = quantities[key]
            if not within(value, bounds):
                failed.append(key)
                texts.append(outside(key, value, bounds))
                violation += max(distance(value, bounds), 1e-12)  # > 0 however close
                if stop_at_first:
                    break
        if failed:
            return Verdict(False, failed[0], "; ".join(texts), violation, quantities, spec, counts)
        return Verdict(True, quantities=quantities, spec=spec, counts=counts)

