"""The network built from an ArchSpec: stem -> stages of blocks -> head, and its initialisation."""

from __future__ import annotations

import math

import torch
from torch import nn

from nasx.arch.spec import ArchSpec, HeadSpec, StemSpec
from nasx.errors import ArchError
from nasx.models.blocks import BLOCKS, Block
from nasx.models.layers import ACTS, ConvBN


class Stem(nn.Sequential):
    """conv k x k stride s -> BN -> act [-> max pool 3x3 stride 2]."""

    def __init__(self, s: StemSpec, in_channels: int) -> None:
        layers: list[nn.Module] = [ConvBN(in_channels, s.width, s.kernel, s.stride, act=s.act)]
        if s.pool:
            layers.append(nn.MaxPool2d(3, stride=2, padding=1))
        super().__init__(*layers)


class Head(nn.Module):
    """[1x1 conv + BN + act to head width] -> global average pool -> [dropout] -> FC (bias)."""

    def __init__(self, h: HeadSpec, w_in: int) -> None:
        super().__init__()
        self.conv = ConvBN(w_in, h.width, 1, act=h.act) if h.width else nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(h.dropout) if h.dropout > 0 else nn.Identity()
        self.fc = nn.Linear(h.width or w_in, h.num_classes, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape [N, num_classes]."""
        x = self.pool(self.conv(x)).flatten(1)
        return self.fc(self.dropout(x))


class Net(nn.Module):
    """A whole CNN; ``stages[i][j]`` is block j of stage i, in ArchSpec order."""

    def __init__(self, spec: ArchSpec) -> None:
        super().__init__()
        self.stem = Stem(spec.stem, spec.in_channels)
        blocks = iter(spec.blocks())
        self.stages = nn.Sequential(
            *(nn.Sequential(*(BLOCKS[st.block](next(blocks)) for _ in range(st.depth)))
              for st in spec.stages)
        )
        last = spec.stages[-1].width if spec.stages else spec.stem.width
        self.head = Head(spec.head, last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, R, R] images -> [N, num_classes] logits."""
        return self.head(self.stages(self.stem(x)))


def check_spec(spec: ArchSpec) -> None:
    """Raise ArchError (naming the stage, key, rule and value) for a spec no network can have."""
    name = spec.name or spec.family
    for key, v in (("resolution", spec.resolution), ("in_channels", spec.in_channels),
                   ("stem.width", spec.stem.width), ("stem.kernel", spec.stem.kernel),
                   ("stem.stride", spec.stem.stride), ("head.num_classes", spec.head.num_classes)):
        if v < 1:
            raise ArchError(rule="must be >= 1", value=v, where=name, key=key)
    acts = [("stem.act", spec.stem.act), ("head.act", spec.head.act)]
    acts += [(f"stages[{i}].act", st.act) for i, st in enumerate(spec.stages)]
    for key, act in acts:
        if act not in ACTS:
            raise ArchError(rule=f"must be one of {', '.join(ACTS)}", value=act, where=name,
                            key=key)
    for i, b in enumerate(spec.blocks()):
        where = f"block {i} ({b.kind})"
        for key, v in (("w_in", b.w_in), ("w_out", b.w_out), ("w_mid", b.w_mid),
                       ("groups", b.groups), ("kernel", b.kernel), ("stride", b.stride)):
            if v < 1:
                raise ArchError(rule=f"{where}: must be >= 1", value=v, where=name, key=key)
        w_first = b.w_in if b.kind == "basic" else b.w_mid  # input width of the grouped conv
        if w_first % b.groups or b.w_mid % b.groups:
            raise ArchError(rule=f"{where}: groups must divide widths {w_first} and {b.w_mid}",
                            value=b.groups, where=name, key="groups")


def init_weights(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """pycls-style init: He-normal (fan_out) convs, BN (1, 0), last BN of residual branches 0,
    FC normal(0, 0.01), zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out), generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01, generator=generator)
            nn.init.zeros_(m.bias)
    # Residual branches start as identity maps: this is what lets deep nets train from step one.
    for m in model.modules():
        if isinstance(m, Block) and m.residual:
            nn.init.zeros_(m.final_bn().weight)


def build_model(spec: ArchSpec, *, init: bool = True, seed: int | None = None) -> nn.Module:
    """The nn.Module for ``spec``; build under ``torch.device("meta")`` for free counting.

    ``init`` applies the reference initialisation (skipped on the meta device); ``seed`` draws it
    from a private generator instead of torch's global one.
    """
    check_spec(spec)
    model = Net(spec)
    first = next(model.parameters(), None)
    if init and first is not None and not first.is_meta:
        gen = None
        if seed is not None:
            gen = torch.Generator(device=first.device).manual_seed(seed)
        with torch.no_grad():
            init_weights(model, gen)
    return model
