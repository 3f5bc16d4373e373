"""Hand-built ArchSpecs with pinned complexity, one per block kind (no zoo needed).

HAND maps a name to (builder, analytic flops, params); the params of the torchvision-shaped nets are
torchvision's published counts, an independent check of both the builder and the counter.
"""

from __future__ import annotations

from dataclasses import replace

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec


def regnetx_200mf() -> ArchSpec:
    """RegNetX-200MF (docs/internals.md, "Reference formulas"): flops 199040872, params 2684792."""
    depths, widths = [1, 1, 4, 7], [24, 56, 152, 368]
    stages = tuple(StageSpec("bottleneck", d, w, 2, bottleneck=w, groups=w // 8)
                   for d, w in zip(depths, widths, strict=True))
    return ArchSpec("regnet", StemSpec(32), stages, HeadSpec(1000), name="hand-RegNetX-200MF")


def regnety_32gf() -> ArchSpec:
    """RegNetY-32GF: group width 232, SE 0.25 (145.0M params, 32.3 GF in the paper)."""
    depths, widths = [2, 5, 12, 1], [232, 696, 1392, 3712]
    stages = tuple(StageSpec("bottleneck", d, w, 2, bottleneck=w, groups=w // 232, se_ratio=0.25)
                   for d, w in zip(depths, widths, strict=True))
    return ArchSpec("regnet", StemSpec(32), stages, HeadSpec(1000), name="hand-RegNetY-32GF")


def efficientnet_b0() -> ArchSpec:
    """EfficientNet-B0 (docs/internals.md, "Reference formulas"): flops 385825092, params 5288548."""
    rows = [(1, 16, 1, 3, 1), (2, 24, 6, 3, 2), (2, 40, 6, 5, 2), (3, 80, 6, 3, 2),
            (3, 112, 6, 5, 1), (4, 192, 6, 5, 2), (1, 320, 6, 3, 1)]
    stages = tuple(StageSpec("mbconv", d, w, s, expansion=e, kernel=k, se_ratio=0.25, act="silu")
                   for d, w, e, k, s in rows)
    return ArchSpec("efficientnet", StemSpec(32, act="silu"), stages,
                    HeadSpec(1000, width=1280, dropout=0.2, act="silu"), name="hand-B0")


def mobilenet_v2() -> ArchSpec:
    """MobileNetV2 1.0 (ReLU6, no SE): 3504872 params as torchvision has it."""
    rows = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)]
    stages = tuple(StageSpec("mbconv", n, c, s, expansion=t, act="relu6") for t, c, n, s in rows)
    return ArchSpec("mobilenetv2", StemSpec(32, act="relu6"), stages,
                    HeadSpec(1000, width=1280, dropout=0.2, act="relu6"), name="hand-MBv2")


def resnet18() -> ArchSpec:
    """ResNet-18 of basic blocks, 7x7 stem + pool: 11689512 params as torchvision has it."""
    stages = tuple(StageSpec("basic", 2, w, s) for w, s in
                   [(64, 1), (128, 2), (256, 2), (512, 2)])
    return ArchSpec("resnet", StemSpec(64, kernel=7, pool=True), stages, HeadSpec(1000),
                    name="hand-ResNet18")


def resnext50_32x4d() -> ArchSpec:
    """ResNeXt-50 32x4d: 25028904 params as torchvision has it."""
    stages = tuple(StageSpec("bottleneck", d, w, s, bottleneck=b, groups=32)
                   for d, w, b, s in [(3, 256, 128, 1), (4, 512, 256, 2), (6, 1024, 512, 2),
                                      (3, 2048, 1024, 2)])
    return ArchSpec("resnext", StemSpec(64, kernel=7, pool=True), stages, HeadSpec(1000),
                    name="hand-ResNeXt50")


def tiny_mixed() -> ArchSpec:
    """A CIFAR-stem net with every block kind, grouped/depthwise convs and SE (fast on CPU)."""
    stages = (
        StageSpec("basic", 1, 16, 1, groups=2, se_ratio=0.5),
        StageSpec("bottleneck", 2, 32, 2, bottleneck=16, groups=4, se_ratio=0.25),
        StageSpec("mbconv", 2, 24, 2, expansion=4, kernel=5, se_ratio=0.25, act="silu"),
        StageSpec("mbconv", 1, 24, 1, expansion=1, act="relu6"),
    )
    return ArchSpec("mixed", StemSpec(8, stride=1), stages, HeadSpec(10, width=32, dropout=0.1),
                    resolution=16, in_channels=1, name="tiny-mixed")


def small(spec: ArchSpec, resolution: int = 32, num_classes: int = 10) -> ArchSpec:
    """A CIFAR-resolution variant of ``spec`` (same blocks, smaller input and head)."""
    return replace(spec, resolution=resolution, head=replace(spec.head, num_classes=num_classes))


HAND = {
    "regnetx_200mf": (regnetx_200mf, 199040872, 2684792),
    "efficientnet_b0": (efficientnet_b0, 385825092, 5288548),
    "mobilenet_v2": (mobilenet_v2, 300775272, 3504872),
    "resnet18": (resnet18, 1814074344, 11689512),
    "resnext50_32x4d": (resnext50_32x4d, 4230480872, 25028904),
    "tiny_mixed": (tiny_mixed, 1562744, 31400),
}
