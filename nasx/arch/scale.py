"""Model scaling (Dollar, Singh, Girshick 2021, "Fast and Accurate Model Scaling"), torch-free.

Scaling flops by ``s`` along depth d, width w and resolution r with d * w^2 * r^2 = s: a strategy
gives each dimension a weight e; with E = e_d + e_w + e_r (or e_g / 2 when only group width
scales), d = s^(e_d / E), w = s^(e_w / 2E), g = s^(e_g / 2E), r = s^(e_r / 2E). The rules (the
same as pycls's scaler, ``pycls/models/scaler.py``, on which the tests pin golden values):

- depth max(1, round(d * d_i)); width max(1, round(w * w_i / 8)) * 8; group width
  max(1, round(g * g_i)), then 1-2 kept, 3-5 -> 4, larger -> round(g / 8) * 8; then each stage is
  made compatible with its group width and bottleneck (:func:`adjust_compat`); Python's round
  (half to even) everywhere;
- EfficientNet: stem and head widths scale like stage widths; group width does not apply;
- resolution round(res * r / 4) * 4;
- a RegNet becomes the AnyNet of its stages (as pycls converts it) before scaling.

Strategy names: pycls's ``"dw"`` (the letters of d, w, g, r scale with weight 1; group width only
with ``g``), pycls's ``"d1_w8_g8_r1"`` (explicit weights), and the paper's mixed-case names such as
``"dWr"``: the upper-case dimensions share ``alpha`` equally, the lower-case ones 1 - alpha, and
group width scales like width. With alpha = 0.8, ``dWr`` is pycls's ``d1_w8_g8_r1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

from nasx.arch.complexity import complexity
from nasx.arch.families.bottleneck import adjust_compat
from nasx.arch.spec import ArchSpec, StageSpec
from nasx.errors import NasxError, ScaleError

DIMS = "dwgr"
SCALABLE = ("anynet", "regnet", "efficientnet")
MAX_FACTOR = 1e6


@dataclass(frozen=True)
class Strategy:
    """Relative weights of depth, width, group width and resolution (d * w^2 * r^2 = s)."""

    name: str
    d: float
    w: float
    g: float
    r: float

    def factors(self, s: float) -> tuple[float, float, float, float]:
        """(d, w, g, r) multipliers for flops factor ``s``, computed as pycls computes them."""
        if not (math.isfinite(s) and s > 0):
            raise ScaleError(rule="the flops factor must be a positive number", value=s)
        total = self.d + self.w + self.r or self.g / 2 or 1.0
        return (s ** (self.d / total), s ** (self.w / total / 2.0),
                s ** (self.g / total / 2.0), s ** (self.r / total / 2.0))


def _mixed(name: str, alpha: float) -> dict[str, float]:
    """Weights of a mixed-case name (``dWr``): upper case share alpha, lower case 1 - alpha."""
    if "g" in name.lower():
        raise ScaleError(f"strategy {name!r}: in a mixed-case name group width follows width; "
                         "leave out g")
    if not 0 < alpha < 1:
        raise ScaleError(rule="--alpha must be in (0, 1)", value=alpha)
    a = Fraction(alpha).limit_denominator(10**6)
    upper = [c.lower() for c in name if c.isupper()]
    lower = [c for c in name if c.islower()]
    weights = {c: a / len(upper) for c in upper} | {c: (1 - a) / len(lower) for c in lower}
    # Integer weights with the same ratios (8:1:1 for dWr at 0.8): pycls's exact floats.
    scale = math.lcm(*(f.denominator for f in weights.values()))
    ints = {c: float(f * scale) for c, f in weights.items()}
    ints["g"] = ints.get("w", 0.0)
    return ints


def _explicit(name: str) -> dict[str, float]:
    """Weights of pycls's ``d1_w8_g8_r1`` form."""
    weights: dict[str, float] = {}
    for part in name.split("_"):
        dim, _, num = part[:1], None, part[1:]
        try:
            value = float(num)
        except ValueError:
            value = math.nan
        if dim not in DIMS or dim in weights or not math.isfinite(value) or value < 0:
            raise ScaleError(f"strategy {name!r}: {part!r} is not a dimension (d, w, g, r) "
                             "followed by a non-negative weight, each at most once")
        weights[dim] = value
    return weights


def parse_strategy(name: str, alpha: float = 0.8) -> Strategy:
    """The :class:`Strategy` a name gives (``dw``, ``d1_w8_g8_r1``, ``dWr``); ScaleError if bad."""
    letters = name.lower()
    if "_" in name or any(c.isdigit() for c in name):
        weights = _explicit(name)
    elif not name or any(c not in DIMS for c in letters) or len(set(letters)) != len(letters):
        raise ScaleError(f"unknown strategy {name!r}: use letters of d, w, g, r once each "
                         "(dw, dwr), a mixed-case name (dWr: upper case weighs --alpha), or "
                         "weights (d1_w8_g8_r1)")
    elif name.islower():
        weights = {c: 1.0 for c in name}
    elif name.isupper():
        raise ScaleError(f"strategy {name!r}: a mixed-case name needs lower-case dimensions too")
    else:
        weights = _mixed(name, alpha)
    full = {c: float(weights.get(c, 0.0)) for c in DIMS}
    if not any(full.values()):
        raise ScaleError(f"strategy {name!r} scales no dimension")
    return Strategy(name, full["d"], full["w"], full["g"], full["r"])


def round_width(w: float, f: float) -> int:
    """A width scaled by ``f``, rounded to a multiple of 8 (at least 8)."""
    return max(1, round(w * f / 8)) * 8


def round_group(g: int, f: float) -> int:
    """A group width scaled by ``f``: 1-2 kept, 3-5 -> 4, larger -> a multiple of 8."""
    g = max(1, round(g * f))
    return g if g <= 2 else 4 if g <= 5 else round(g / 8) * 8


def _bottleneck(st: StageSpec, fd: float, fw: float, fg: float) -> StageSpec:
    """An X/Y stage scaled: depth, width, group width, then block compatibility."""
    bot_mul = st.bottleneck / st.width
    group_w = st.bottleneck // st.groups
    try:
        w, w_b, g = adjust_compat(round_width(st.width, fw), bot_mul, round_group(group_w, fg))
    except NasxError as err:
        raise ScaleError(f"stage of width {st.width}: {err.detail}") from None
    return replace(st, depth=max(1, round(st.depth * fd)), width=w, bottleneck=w_b,
                   groups=w_b // g)


def _mbconv(st: StageSpec, fd: float, fw: float) -> StageSpec:
    """An MBConv stage scaled: depth and width (compatible with its expansion ratio)."""
    try:
        w = adjust_compat(round_width(st.width, fw), st.expansion, 1)[0]
    except NasxError as err:
        raise ScaleError(f"stage of width {st.width}: {err.detail}") from None
    return replace(st, depth=max(1, round(st.depth * fd)), width=w)


def check_scalable(spec: ArchSpec) -> None:
    """ScaleError unless the paper's (and pycls's) rules define how to scale ``spec``."""
    blocks = {st.block for st in spec.stages}
    ok = (spec.family in ("anynet", "regnet") and blocks == {"bottleneck"}) or (
        spec.family == "efficientnet" and blocks == {"mbconv"})
    if not ok:
        raise ScaleError(f"cannot scale a model of family {spec.family!r} (blocks "
                         f"{', '.join(sorted(blocks)) or 'none'}): scaling rules exist for "
                         "anynet/regnet (bottleneck stages) and efficientnet (mbconv stages)",
                         where=spec.name or None)


def scale_spec(spec: ArchSpec, factor: float, strategy: Strategy) -> ArchSpec:
    """``spec`` scaled by flops factor ``factor`` along ``strategy`` (pycls's rules)."""
    check_scalable(spec)
    fd, fw, fg, fr = strategy.factors(factor)
    resolution = round(spec.resolution * fr / 4) * 4
    if resolution < 4:
        raise ScaleError(f"resolution {spec.resolution} scaled by {fr:.4g} rounds to "
                         f"{resolution}")
    name = f"{spec.name or spec.family} {strategy.name} x{factor:.4g}"
    if spec.family == "efficientnet":
        stages = tuple(_mbconv(st, fd, fw) for st in spec.stages)
        stem = replace(spec.stem, width=round_width(spec.stem.width, fw))
        head = replace(spec.head, width=round_width(spec.head.width, fw))
        return replace(spec, stem=stem, stages=stages, head=head, resolution=resolution,
                       name=name)
    stages = tuple(_bottleneck(st, fd, fw, fg) for st in spec.stages)
    return replace(spec, family="anynet", stages=stages, resolution=resolution, name=name)


def factor_for_flops(spec: ArchSpec, target: float, strategy: Strategy,
                     iterations: int = 12) -> float:
    """The factor whose scaled model's flops are nearest ``target`` (fixed-point search)."""
    base = complexity(spec).flops
    if not (math.isfinite(target) and target > 0):
        raise ScaleError(rule="the flops budget must be positive", value=target)
    s, best, best_gap = target / base, target / base, math.inf
    for _ in range(iterations):
        s = min(max(s, 1 / MAX_FACTOR), MAX_FACTOR)
        flops = complexity(scale_spec(spec, s, strategy)).flops
        gap = abs(math.log(flops / target))
        if gap < best_gap:
            best, best_gap = s, gap
        if gap == 0:
            break
        s *= target / flops
    return best


def family_factors(factor: float, n: int) -> list[float]:
    """``n`` factors spaced geometrically from 1 (the base model) to ``factor``."""
    if n < 1:
        raise ScaleError(rule="--family must be >= 1", value=n)
    if n == 1:
        return [factor]
    return [float(f"{factor ** (k / (n - 1)):.12g}") for k in range(n)]  # 4.0, not 3.99..


def parse_flops(text: str) -> tuple[str, float]:
    """``'4x'`` -> ('factor', 4.0); ``'800M'`` -> ('flops', 8e8) (K, M, G, T suffixes)."""
    units = {"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
    t = text.strip()
    kind, mult = ("factor", 1.0) if t[-1:].lower() == "x" else (
        ("flops", units[t[-1:].lower()]) if t[-1:].lower() in units else ("", 0.0))
    try:
        value = float(t[:-1]) * mult if kind else math.nan
    except ValueError:
        value = math.nan
    if not kind or not math.isfinite(value) or value <= 0:
        raise ScaleError(rule="--flops must be a positive factor such as 4x or a budget such as "
                         "800M (K, M, G, T)", value=text)
    if kind == "factor" and value > MAX_FACTOR:
        raise ScaleError(rule=f"--flops factor must be at most {MAX_FACTOR:g}", value=text)
    return kind, value


@dataclass(frozen=True)
class Scaled:
    """The complexity of a model scaled by ``factor`` along ``strategy``."""

    factor: float
    strategy: str
    resolution: int
    flops: int
    params: int
    acts: int


def scaled_versions(spec: ArchSpec, factors: tuple[float, ...] = (2.0, 4.0),
                    strategy: str = "dWr") -> list[Scaled] | None:
    """The complexity of ``spec`` scaled by each factor (None when it cannot be scaled)."""
    try:
        how = parse_strategy(strategy)
        out = []
        for f in factors:
            scaled = scale_spec(spec, f, how)
            c = complexity(scaled)
            out.append(Scaled(factor=f, strategy=strategy, resolution=scaled.resolution,
                              flops=c.flops, params=c.params, acts=c.acts))
    except NasxError:
        return None
    return out
