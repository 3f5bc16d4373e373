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
    """Running (flops, params, acts), one counter per layer kind of the models (nasx.models).

    ``times``: how many identical copies the layers being counted have (the repeated blocks of a
    stage are counted once, ``times`` over).
    """

    __slots__ = ("acts", "flops", "params", "times")

    def __init__(self) -> None:
        self.flops = self.params = self.acts = 0
        self.times = 1

    def conv(self, k: int, c_in: int, c_out: int, hw: int, *, groups: int = 1,
             bias: bool = False) -> None:
        """k x k conv, c_in -> c_out in ``groups`` groups, ``hw`` output positions."""
        weights = (k * k * c_in * c_out // groups + (c_out if bias else 0)) * self.times
        self.flops += weights * hw
        self.params += weights
        self.acts += c_out * hw * self.times

    def bn(self, c: int) -> None:
        """Batch norm over ``c`` channels: scale and shift, nothing else counted."""
        self.params += 2 * c * self.times

    def conv_bn(self, k: int, c_in: int, c_out: int, hw: int, groups: int = 1) -> None:
        """The models' ConvBN: :meth:`conv` without bias, then :meth:`bn` (one call: hot path)."""
        n = self.times
        weights = k * k * c_in * c_out // groups * n
        self.flops += weights * hw
        self.params += weights + 2 * c_out * n
        self.acts += c_out * hw * n

    def pool(self, c: int, hw: int) -> None:
        """Max pool to ``hw`` output positions: acts only."""
        self.acts += c * hw * self.times

    def linear(self, n_in: int, n_out: int) -> None:
        """Fully connected layer with bias."""
        self.conv(1, n_in, n_out, 1, bias=True)

    def se(self, c: int, w_se: int) -> None:
        """Squeeze-excitation: two 1x1 convs with bias at 1x1 spatial size (pool, scaling free)."""
        self.conv(1, c, w_se, 1, bias=True)
        self.conv(1, w_se, c, 1, bias=True)



def _block(t: _Tally, b: BlockSpec, hw_in: int, hw: int) -> None:
    """Count one block (models.blocks): ``hw_in`` positions at its input, ``hw`` after its stride."""
    k = b.kernel
    if b.kind == "basic":  # k x k (stride, groups), k x k
        t.conv_bn(k, b.w_in, b.w_mid, hw, b.groups)
        t.conv_bn(k, b.w_mid, b.w_out, hw)
    else:  # bottleneck and mbconv: 1x1 reduce / expand at input size, k x k (stride), 1x1 out
        if b.kind == "bottleneck" or b.expand:
            t.conv_bn(1, b.w_in, b.w_mid, hw_in)
        t.conv_bn(k, b.w_mid, b.w_mid, hw, b.groups)
        t.conv_bn(1, b.w_mid, b.w_out, hw)
    if b.w_se:
        t.se(b.w_mid, b.w_se)
    if b.proj:  # 1x1 projection shortcut
        t.conv_bn(1, b.w_in, b.w_out, hw)


def _stem(t: _Tally, spec: ArchSpec) -> int:
    """Count the stem (conv + BN, optional 3x3 stride-2 max pool); returns the size after it."""
    stem = spec.stem
    h = _out(spec.resolution, stem.stride)
    t.conv_bn(stem.kernel, spec.in_channels, stem.width, h * h)
    if stem.pool:
        h = _out(h, 2)
        t.pool(stem.width, h * h)
    return h


def _head(t: _Tally, spec: ArchSpec, w: int, hw: int) -> None:
    """Count the head: optional 1x1 conv + BN, global pool (free), FC with bias."""
    head = spec.head
    if head.width:
        t.conv_bn(1, w, head.width, hw)
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
        t.times = n
        _block(t, b, hw_in, h * h)
    t.times = 1
    _head(t, spec, spec.stages[-1].width if spec.stages else spec.stem.width, h * h)
    return Complexity(flops=t.flops, params=t.params, acts=t.acts)
