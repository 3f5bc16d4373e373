"""Slots of a space as Optuna distributions, both ways (suggestion -> value, stored value -> param).

Mapping (Optuna has no log-uniform-then-quantised integer, and no power-of-two kind):

- ``{int: [lo, hi], q}``          -> ``IntDistribution(lo, hi, step=q)``
- ``{int: [lo, hi], log}`` (q=1)  -> ``IntDistribution(lo, hi, log=True)``
- ``{int: [lo, hi], q>1, log}``   -> ``IntDistribution(lo, hi, log=True)``, snapped to a multiple of q
- ``{float: ..., q}`` / ``log``   -> ``FloatDistribution`` with ``step`` / ``log``; both: log, snapped
- ``{pow2: [lo, hi]}``            -> ``IntDistribution(log2 lo, log2 hi)`` named ``log2_<slot>``
- ``{choice: [...]}``             -> ``CategoricalDistribution``

Stored values of the population always map back exactly (they are on the grid), so the warm start
adds them unchanged; a snapped suggestion records its snapped value in the trial's user attrs.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from nasx.refine.slots import Slot
from nasx.space import ChoiceDist, FloatDist, IntDist, Pow2Dist


def param_name(slot: Slot) -> str:
    """The Optuna parameter name of a slot."""
    return f"log2_{slot.name}" if isinstance(slot.dist, Pow2Dist) else slot.name


def distribution(slot: Slot) -> BaseDistribution:
    """The Optuna distribution of a slot."""
    d = slot.dist
    if isinstance(d, IntDist):
        if d.log:
            return IntDistribution(d.lo, d.hi, log=True)
        return IntDistribution(d.lo, d.hi, step=d.q)
    if isinstance(d, FloatDist):
        if d.log:
            return FloatDistribution(d.lo, d.hi, log=True)
        return FloatDistribution(d.lo, d.hi, step=d.q)
    if isinstance(d, Pow2Dist):
        return IntDistribution(round(math.log2(d.lo)), round(math.log2(d.hi)))
    assert isinstance(d, ChoiceDist)
    return CategoricalDistribution(list(d.options))


def distributions(slots: list[Slot]) -> dict[str, BaseDistribution]:
    """Name -> Optuna distribution for every slot."""
    return {param_name(s): distribution(s) for s in slots}


def to_value(slot: Slot, param: Any) -> Any:
    """The space value of an Optuna parameter (snapped onto the space's grid)."""
    d = slot.dist
    if isinstance(d, IntDist):
        v = int(round(param / d.q)) * d.q
        return int(min(max(v, d.lo), d.hi))
    if isinstance(d, FloatDist):
        v = float(param)
        if d.q is not None:
            v = float(f"{round(v / d.q) * d.q:.12g}")
        return min(max(v, d.lo), d.hi)
    if isinstance(d, Pow2Dist):
        e = int(param)
        return 2**e if e >= 0 else 2.0**e
    return param


def to_param(slot: Slot, value: Any) -> Any | None:
    """The Optuna parameter of a stored value; None when the distribution cannot hold it."""
    dist = distribution(slot)
    if value is None:
        return None
    try:
        if isinstance(slot.dist, Pow2Dist):
            e = math.log2(float(value))
            param: Any = int(e) if e.is_integer() else None
        elif isinstance(dist, IntDistribution):
            param = int(value) if float(value) == int(value) else None
        elif isinstance(dist, FloatDistribution):
            param = float(value)
        else:
            param = value
    except (TypeError, ValueError, OverflowError):
        return None
    return param if param is not None and _contains(dist, param) else None


def _contains(dist: BaseDistribution, param: Any) -> bool:
    """Whether ``param`` is a point of ``dist`` (its range and step, or one of its choices)."""
    if isinstance(dist, IntDistribution):
        return dist.low <= param <= dist.high and (param - dist.low) % dist.step == 0
    if isinstance(dist, FloatDistribution):
        if not dist.low - 1e-12 <= param <= dist.high + 1e-12:
            return False
        if dist.step is None:
            return True
        k = (param - dist.low) / dist.step
        return abs(k - round(k)) < 1e-8
    assert isinstance(dist, CategoricalDistribution)
    # True == 1 in Python: a bool choice only matches a bool value
    return any(c == param and isinstance(c, bool) == isinstance(param, bool) for c in dist.choices)


SAMPLERS = ("tpe", "nsga2", "cmaes", "random")


def check_sampler(name: str, n_objectives: int) -> None:
    """RefineError when sampler ``name`` cannot run this study (unknown, missing package, ...)."""
    from nasx.errors import RefineError

    if name not in SAMPLERS:
        raise RefineError(f"unknown sampler {name!r} ({', '.join(SAMPLERS)})",
                          where="command line", key="sampler")
    if name == "cmaes":
        if n_objectives > 1:
            raise RefineError("cmaes optimises one objective; use nsga2 or tpe for several",
                              where="command line", key="sampler")
        try:
            import cmaes  # noqa: F401 - optuna's CmaEsSampler needs it at the first suggestion
        except ImportError:
            raise RefineError("cmaes needs the 'cmaes' package (pip install cmaes)",
                              where="command line", key="sampler") from None


def sampler(name: str, seed: int, n_objectives: int) -> optuna.samplers.BaseSampler:
    """A seeded Optuna sampler by CLI name (see :func:`check_sampler`)."""
    check_sampler(name, n_objectives)
    if name == "tpe":
        with warnings.catch_warnings():  # multivariate TPE is "experimental" since 2.2
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    # categorical slots fall back to Optuna's independent sampler (CMA-ES is continuous)
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
