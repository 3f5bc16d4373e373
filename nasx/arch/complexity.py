"""Exact analytic complexity of an ArchSpec, counted as pycls counts it (docs/internals.md, "Reference formulas").

flops are multiply-adds; convs have no bias except the SE convs and the FC; batch norm adds 2*c
params; activations, residual adds and SE scaling are free; max pool adds acts; SE is counted at
1x1 spatial size. Pure integer arithmetic so the sampler can call it thousands of times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nasx.arch.spec import ArchSpec


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


def complexity(spec: ArchSpec) -> Complexity:
    """Exact (flops, params, acts) of ``spec`` at its resolution and input channels."""
    stem = spec.stem
    h = _out(spec.resolution, stem.stride)
    hw = h * h
    w = stem.width
    # stem conv (no bias) + BN
    conv = stem.kernel * stem.kernel * spec.in_channels * w
    flops = conv * hw
    params = conv + 2 * w
    acts = w * hw
    if stem.pool:  # 3x3 stride-2 max pool
        h = _out(h, 2)
        hw = h * h
        acts += w * hw
    # Blocks 2..d of a stage are identical (stride 1, w_in = width): count a stage as its first
    # block plus (d - 1) times its second, so at most 2 BlockSpecs per stage are built.
    repeats = [n for st in spec.stages for n in (1, st.depth - 1)[: st.depth]]
    for b, n in zip(spec.blocks(per_stage=2), repeats, strict=True):
        hw_in = hw
        h = _out(h, b.stride)
        hw = h * h
        f0, p0, a0 = flops, params, acts
        k2 = b.kernel * b.kernel
        w_in, w_mid, w_out = b.w_in, b.w_mid, b.w_out
        if b.kind == "basic":
            conv = k2 * w_in * w_mid // b.groups + k2 * w_mid * w_out
            flops += conv * hw
            params += conv + 2 * w_mid + 2 * w_out
            acts += (w_mid + w_out) * hw
        else:
            if b.kind == "bottleneck" or b.expand:  # 1x1 reduce / expand at input size
                flops += w_in * w_mid * hw_in
                params += w_in * w_mid + 2 * w_mid
                acts += w_mid * hw_in
            conv = k2 * w_mid * w_mid // b.groups + w_mid * w_out  # k x k, then 1x1 out
            flops += conv * hw
            params += conv + 2 * w_mid + 2 * w_out
            acts += (w_mid + w_out) * hw
        if b.w_se:  # two 1x1 convs with bias at 1x1 spatial size
            se = 2 * w_mid * b.w_se + b.w_se + w_mid
            flops += se
            params += se
            acts += b.w_se + w_mid
        if b.proj:
            flops += w_in * w_out * hw
            params += w_in * w_out + 2 * w_out
            acts += w_out * hw
        if n > 1:
            flops += (flops - f0) * (n - 1)
            params += (params - p0) * (n - 1)
            acts += (acts - a0) * (n - 1)
    w = spec.stages[-1].width if spec.stages else stem.width
    head = spec.head
    if head.width:  # 1x1 conv + BN
        flops += w * head.width * hw
        params += w * head.width + 2 * head.width
        acts += head.width * hw
        w = head.width
    fc = w * head.num_classes + head.num_classes  # FC with bias
    return Complexity(flops=flops + fc, params=params + fc, acts=acts + head.num_classes)
