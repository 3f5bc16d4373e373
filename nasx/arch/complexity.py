"""Exact analytic complexity of an ArchSpec, counted as pycls counts it (docs/internals.md, "Reference formulas").

flops are multiply-adds; convs have no bias except the SE convs and the FC; batch norm adds 2*c
params; activations, residual adds and SE scaling are free; max pool adds acts; SE is counted at
1x1 spatial size. Pure integer arithmetic so the sampler can call it thousands of times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nasx.arch.spec import ArchSpec, BlockSpec


@dataclass(frozen=True)
class Complexity:
    """flops (multiply-adds), params and acts (output elements of convs/linears/pools)."""

    flops: int
    params: int
    acts: int

    def to_dict(self) -> dict[str, int]:
        """Plain dict ``{"flops", "params", "acts"}``."""
        return asdict(self)


def _out(h: int, stride: int) -> int:
    """Spatial size after a same-padded conv/pool with ``stride``."""
    return (h - 1) // stride + 1


class _Tally:
    """Running (flops, params, acts), one counter per layer kind of the models (nasx.models)."""

    __slots__ = ("acts", "flops", "params")

    def __init__(self) -> None:
        self.flops = self.params = self.acts = 0

    def conv(self, k: int, c_in: int, c_out: int, hw: int, *, groups: int = 1,
             bias: bool = False) -> None:
        """k x k conv, c_in -> c_out in ``groups`` groups, ``hw`` output positions."""
        weights = k * k * c_in * c_out // groups + (c_out if bias else 0)
        self.flops += weights * hw
        self.params += weights
        self.acts += c_out * hw

    def bn(self, c: int) -> None:
        """Batch norm over ``c`` channels: scale and shift, nothing else counted."""
        self.params += 2 * c

    def pool(self, c: int, hw: int) -> None:
        """Max pool to ``hw`` output positions: acts only."""
        self.acts += c * hw

    def linear(self, n_in: int, n_out: int) -> None:
        """Fully connected layer with bias."""
        self.conv(1, n_in, n_out, 1, bias=True)

    def se(self, c: int, w_se: int) -> None:
        """Squeeze-excitation: two 1x1 convs with bias at 1x1 spatial size (pool, scaling free)."""
        self.conv(1, c, w_se, 1, bias=True)
        self.conv(1, w_se, c, 1, bias=True)

    def add(self, other: _Tally, times: int = 1) -> None:
        """Add ``times`` copies of ``other``."""
        self.flops += other.flops * times
        self.params += other.params * times
        self.acts += other.acts * times


def _block(b: BlockSpec, hw_in: int, hw: int) -> _Tally:
    """One block: ``hw_in`` positions at its input, ``hw`` after its stride."""
    t = _Tally()
    k = b.kernel
    if b.kind == "basic":  # k x k (stride, groups) + BN, k x k + BN
        t.conv(k, b.w_in, b.w_mid, hw, groups=b.groups)
        t.bn(b.w_mid)
        t.conv(k, b.w_mid, b.w_out, hw)
        t.bn(b.w_out)
    else:
        if b.kind == "bottleneck" or b.expand:  # 1x1 reduce / expand + BN at input size
            t.conv(1, b.w_in, b.w_mid, hw_in)
            t.bn(b.w_mid)
        t.conv(k, b.w_mid, b.w_mid, hw, groups=b.groups)  # k x k (stride) + BN
        t.bn(b.w_mid)
        t.conv(1, b.w_mid, b.w_out, hw)  # 1x1 out + BN
        t.bn(b.w_out)
    if b.w_se:
        t.se(b.w_mid, b.w_se)
    if b.proj:  # 1x1 projection shortcut + BN
        t.conv(1, b.w_in, b.w_out, hw)
        t.bn(b.w_out)
    return t


def _stem(t: _Tally, spec: ArchSpec) -> int:
    """Count the stem (conv + BN, optional 3x3 stride-2 max pool); returns the size after it."""
    stem = spec.stem
    h = _out(spec.resolution, stem.stride)
    t.conv(stem.kernel, spec.in_channels, stem.width, h * h)
    t.bn(stem.width)
    if stem.pool:
        h = _out(h, 2)
        t.pool(stem.width, h * h)
    return h


def _head(t: _Tally, spec: ArchSpec, w: int, hw: int) -> None:
    """Count the head: optional 1x1 conv + BN, global pool (free), FC with bias."""
    head = spec.head
    if head.width:
        t.conv(1, w, head.width, hw)
        t.bn(head.width)
        w = head.width
    t.linear(w, head.num_classes)


def complexity(spec: ArchSpec) -> Complexity:
    """Exact (flops, params, acts) of ``spec`` at its resolution and input channels."""
    t = _Tally()
    h = _stem(t, spec)
    # Blocks 2..d of a stage are identical (stride 1, w_in = width): count a stage as its first
    # block plus (d - 1) times its second, so at most 2 BlockSpecs per stage are built.
    repeats = [n for st in spec.stages for n in (1, st.depth - 1)[: st.depth]]
    for b, n in zip(spec.blocks(per_stage=2), repeats, strict=True):
        hw_in = h * h
        h = _out(h, b.stride)
        t.add(_block(b, hw_in, h * h), n)
    _head(t, spec, spec.stages[-1].width if spec.stages else spec.stem.width, h * h)
    return Complexity(flops=t.flops, params=t.params, acts=t.acts)
