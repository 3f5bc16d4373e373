"""complexity(): hand-counted small networks and a block-by-block reference count."""

from __future__ import annotations

import pytest

from nasx.arch import zoo
from nasx.arch.complexity import Complexity, complexity
from nasx.arch.families import decode
from nasx.arch.spec import ArchSpec, BlockSpec, HeadSpec, StageSpec, StemSpec


def _conv(k: int, c_in: int, c_out: int, hw: int, groups: int = 1) -> tuple[int, int, int]:
    """(flops, params, acts) of a bias-free conv followed by BN."""
    w = k * k * c_in * c_out // groups
    return w * hw, w + 2 * c_out, c_out * hw


def _block(b: BlockSpec, h: int) -> tuple[tuple[int, int, int], int]:
    """Block-by-block reference count, written layer by layer (independent of the fast path)."""
    h_out = (h - 1) // b.stride + 1
    hw_in, hw = h * h, h_out * h_out
    parts = []
    if b.kind == "basic":
        parts += [_conv(b.kernel, b.w_in, b.w_mid, hw, b.groups), _conv(b.kernel, b.w_mid, b.w_out, hw)]
    else:
        if b.kind == "bottleneck" or b.expand:
            parts.append(_conv(1, b.w_in, b.w_mid, hw_in))
        parts.append(_conv(b.kernel, b.w_mid, b.w_mid, hw, b.groups))
        if b.w_se:
            for c_in, c_out in ((b.w_mid, b.w_se), (b.w_se, b.w_mid)):
                parts.append((c_in * c_out + c_out, c_in * c_out + c_out, c_out))
        parts.append(_conv(1, b.w_mid, b.w_out, hw))
    if b.proj:
        parts.append(_conv(1, b.w_in, b.w_out, hw))
    return tuple(sum(p[i] for p in parts) for i in range(3)), h_out


def reference_count(spec: ArchSpec) -> tuple[int, int, int]:
    """Every block of spec.blocks() counted separately."""
    h = (spec.resolution - 1) // spec.stem.stride + 1
    total = list(_conv(spec.stem.kernel, spec.in_channels, spec.stem.width, h * h))
    if spec.stem.pool:
        h = (h - 1) // 2 + 1
        total[2] += spec.stem.width * h * h
    w = spec.stem.width
    for b in spec.blocks():
        (f, p, a), h = _block(b, h)
        total = [total[0] + f, total[1] + p, total[2] + a]
        w = b.w_out
    if spec.head.width:
        f, p, a = _conv(1, w, spec.head.width, h * h)
        total = [total[0] + f, total[1] + p, total[2] + a]
        w = spec.head.width
    n = spec.head.num_classes
    return total[0] + w * n + n, total[1] + w * n + n, total[2] + n


def test_hand_counted_basic_block() -> None:
    spec = ArchSpec(
        family="test", stem=StemSpec(width=8, kernel=3, stride=2),
        stages=(StageSpec(block="basic", depth=1, width=16, stride=2),),
        head=HeadSpec(num_classes=10), resolution=8,
    )
    # stem 4x4: 3456 / 232 / 128; conv 3x3 8->16 at 2x2: 4608 / 1184 / 64;
    # conv 3x3 16->16: 9216 / 2336 / 64; projection 512 / 160 / 64; FC 170 / 170 / 10
    assert complexity(spec) == Complexity(flops=17962, params=4082, acts=330)


def test_hand_counted_mbconv_with_se_and_head() -> None:
    spec = ArchSpec(
        family="test", stem=StemSpec(width=8, kernel=3, stride=2, act="silu"),
        stages=(StageSpec(block="mbconv", depth=1, width=8, stride=1, expansion=2.0,
                          se_ratio=0.25, act="silu"),),
        head=HeadSpec(num_classes=10, width=32, act="silu"), resolution=8,
    )
    # stem 3456 / 232 / 128; expand 1x1 8->16: 2048 / 160 / 256; depthwise 3x3: 2304 / 176 / 256;
    # SE 16->2->16 with bias at 1x1 (w_se = 0.25 * 8): 82 / 82 / 18; project 16->8: 2048 / 144 /
    # 128; identity skip; head 1x1 8->32: 4096 / 320 / 512; FC 330 / 330 / 10
    assert complexity(spec) == Complexity(flops=14364, params=1444, acts=1308)
    assert complexity(spec).to_dict() == {"flops": 14364, "params": 1444, "acts": 1308}


@pytest.mark.parametrize("name", zoo.names())
def test_fast_count_equals_block_by_block_count(name: str) -> None:
    spec = zoo.get(name)
    cx = complexity(spec)
    assert (cx.flops, cx.params, cx.acts) == reference_count(spec)


@pytest.mark.parametrize(
    ("family", "values"),
    [
        ("regnet", {"depth": 20, "w0": 16, "wa": 20.0, "wm": 2.2, "group_w": 4, "bot_mul": 4,
                    "se_ratio": 0.25, "stem": "cifar", "resolution": 32, "num_classes": 10}),
        ("anynet", {"depth_1": 3, "depth_2": 1, "depth_3": 5, "width_1": 40, "width_2": 96,
                    "width_3": 200, "group_w": 16, "bot_mul_2": 0.5, "resolution": 65}),
        ("mobilenetv2", {"width_mult": 0.35, "resolution": 97, "in_channels": 1}),
    ],
)
def test_odd_sizes_match_reference_count(family: str, values: dict) -> None:
    spec = decode(family, values)
    cx = complexity(spec)
    assert (cx.flops, cx.params, cx.acts) == reference_count(spec)


def test_blocks_per_stage_cap_yields_the_leading_blocks() -> None:
    spec = zoo.get("RegNetY-1.6GF")
    full = list(spec.blocks())
    starts = [sum(spec.depths[:i]) for i in range(len(spec.depths))]
    expected = [full[s + j] for s, d in zip(starts, spec.depths, strict=True)
                for j in range(min(d, 2))]
    assert list(spec.blocks(per_stage=2)) == expected
    assert len(expected) == 8 and len(full) == 27


def test_per_layer_counters_by_hand() -> None:
    # the counters mirror the models' layers: each adds its pycls count (docs/internals.md)
    from nasx.arch.complexity import _Tally

    t = _Tally()
    t.conv(3, 4, 8, 25, groups=2)  # 3*3*4*8/2 = 144 weights at 25 positions
    assert (t.flops, t.params, t.acts) == (3600, 144, 200)
    t.bn(8)
    assert (t.flops, t.params, t.acts) == (3600, 160, 200)
    t.pool(8, 9)
    assert t.acts == 272
    t.linear(8, 10)  # 80 weights + 10 biases, 10 outputs
    assert (t.flops, t.params, t.acts) == (3690, 250, 282)
    se = _Tally()
    se.se(16, 4)  # 16 -> 4 -> 16, with biases, at 1x1
    assert (se.flops, se.params, se.acts) == (148, 148, 20)
    t.times = 3  # three identical layers counted once
    t.se(16, 4)
    t.bn(8)
    assert (t.flops, t.params, t.acts) == (3690 + 444, 250 + 444 + 48, 282 + 60)


def test_conv_bn_is_conv_then_bn() -> None:
    from nasx.arch.complexity import _Tally

    one, two = _Tally(), _Tally()
    one.times = two.times = 5
    one.conv_bn(3, 12, 24, 49, 4)
    two.conv(3, 12, 24, 49, groups=4)
    two.bn(24)
    assert (one.flops, one.params, one.acts) == (two.flops, two.params, two.acts) \
        == (5 * 648 * 49, 5 * (648 + 48), 5 * 24 * 49)
