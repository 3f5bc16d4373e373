"""Residual bottleneck, basic and MBConv blocks, each built from one resolved BlockSpec."""

from __future__ import annotations

import torch
from torch import nn

from nasx.arch.spec import BlockSpec
from nasx.models.layers import SE, ConvBN, make_act


class Block(nn.Module):
    """Base of every block: a residual branch ``f`` with an optional shortcut."""

    residual: bool

    def final_bn(self) -> nn.BatchNorm2d:
        """The last BN of the branch (zero-initialised gamma when the block is residual)."""
        raise NotImplementedError


class Bottleneck(Block):
    """1x1 -> grouped k x k (stride) -> [SE] -> 1x1, plus identity or projection; act after add."""

    def __init__(self, b: BlockSpec) -> None:
        super().__init__()
        self.residual = True
        self.a = ConvBN(b.w_in, b.w_mid, 1, act=b.act)
        self.b = ConvBN(b.w_mid, b.w_mid, b.kernel, b.stride, b.groups, act=b.act)
        self.se = SE(b.w_mid, b.w_se, b.act) if b.w_se else nn.Identity()
        self.c = ConvBN(b.w_mid, b.w_out, 1)
        self.proj = ConvBN(b.w_in, b.w_out, 1, b.stride) if b.proj else nn.Identity()
        self.act = make_act(b.act)

    def final_bn(self) -> nn.BatchNorm2d:
        """BN after the last 1x1 conv."""
        return self.c.bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual bottleneck transform."""
        return self.act(self.proj(x) + self.c(self.se(self.b(self.a(x)))))


class Basic(Block):
    """k x k grouped (stride) -> [SE] -> k x k (dense), plus identity or projection; act after add.

    Only the first conv takes ``groups``, as the analytic counter has it.
    """

    def __init__(self, b: BlockSpec) -> None:
        super().__init__()
        self.residual = True
        self.a = ConvBN(b.w_in, b.w_mid, b.kernel, b.stride, b.groups, act=b.act)
        self.se = SE(b.w_mid, b.w_se, b.act) if b.w_se else nn.Identity()
        self.b = ConvBN(b.w_mid, b.w_out, b.kernel)
        self.proj = ConvBN(b.w_in, b.w_out, 1, b.stride) if b.proj else nn.Identity()
        self.act = make_act(b.act)

    def final_bn(self) -> nn.BatchNorm2d:
        """BN after the second k x k conv."""
        return self.b.bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual basic transform."""
        return self.act(self.proj(x) + self.b(self.se(self.a(x))))


class MBConv(Block):
    """[1x1 expand] -> depthwise k x k (stride) -> [SE] -> linear 1x1; skip when residual."""

    def __init__(self, b: BlockSpec) -> None:
        super().__init__()
        self.residual = b.residual
        self.expand = ConvBN(b.w_in, b.w_mid, 1, act=b.act) if b.expand else nn.Identity()
        self.dw = ConvBN(b.w_mid, b.w_mid, b.kernel, b.stride, b.groups, act=b.act)
        self.se = SE(b.w_mid, b.w_se, b.act) if b.w_se else nn.Identity()
        self.proj = ConvBN(b.w_mid, b.w_out, 1)  # linear bottleneck: no activation

    def final_bn(self) -> nn.BatchNorm2d:
        """BN after the linear projection."""
        return self.proj.bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Inverted residual transform."""
        y = self.proj(self.se(self.dw(self.expand(x))))
        return x + y if self.residual else y


BLOCKS: dict[str, type[Block]] = {"bottleneck": Bottleneck, "basic": Basic, "mbconv": MBConv}
