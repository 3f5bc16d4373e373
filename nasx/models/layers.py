"""Small building blocks shared by every block type: conv + BN, activations, squeeze-excitation.

Convolutions never carry a bias (a BN follows) except SE's two 1x1 convs. Padding is (k - 1) // 2,
so h_out = (h - 1) // s + 1, exactly as the analytic counter assumes.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from nasx.arch.spec import Act

ACTS = ("relu", "silu", "relu6")


def make_act(name: Act) -> nn.Module:
    """The activation module named by a spec (relu, silu, relu6)."""
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "silu":
        return nn.SiLU(inplace=True)
    if name == "relu6":
        return nn.ReLU6(inplace=True)
    raise ValueError(f"unknown activation {name!r}")  # check_spec rejects these first


def conv(w_in: int, w_out: int, k: int = 1, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """k x k convolution with 'same' padding and no bias."""
    return nn.Conv2d(w_in, w_out, k, stride=stride, padding=(k - 1) // 2, groups=groups, bias=False)


class ConvBN(nn.Sequential):
    """conv -> BN (-> activation when ``act`` is given)."""

    def __init__(self, w_in: int, w_out: int, k: int = 1, stride: int = 1, groups: int = 1,
                 act: Act | None = None) -> None:
        layers: list[nn.Module] = [conv(w_in, w_out, k, stride, groups), nn.BatchNorm2d(w_out)]
        if act is not None:
            layers.append(make_act(act))
        super().__init__(*layers)

    @property
    def bn(self) -> nn.BatchNorm2d:
        """The batch norm of this unit (zero-initialised when it ends a residual branch)."""
        return cast(nn.BatchNorm2d, self[1])


class SE(nn.Module):
    """Squeeze-excitation: pool -> 1x1 (bias) -> act -> 1x1 (bias) -> sigmoid, scaling the input."""

    def __init__(self, w: int, w_se: int, act: Act) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(w, w_se, 1, bias=True)
        self.act = make_act(act)
        self.expand = nn.Conv2d(w_se, w, 1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scale each channel of ``x`` by its learned gate."""
        s = self.gate(self.expand(self.act(self.reduce(self.pool(x)))))
        return x * s
