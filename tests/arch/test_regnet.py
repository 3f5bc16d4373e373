"""RegNet decoding: quantisation, validity, compatibility adjust, exact complexity."""

from __future__ import annotations

import pytest

from nasx.arch.complexity import complexity
from nasx.arch.families import FAMILIES, decode
from nasx.arch.families.regnet import adjust_compat, quantized_stages
from nasx.errors import InvalidSample, SpaceError

X200 = {"depth": 13, "w0": 24, "wa": 36.44, "wm": 2.49, "group_w": 8}


def test_regnetx_200mf_exact() -> None:
    spec = decode("regnet", X200)
    assert spec.depths == [1, 1, 4, 7]
    assert spec.widths == [24, 56, 152, 368]
    assert [s.groups for s in spec.stages] == [3, 7, 19, 46]
    assert [s.stride for s in spec.stages] == [2, 2, 2, 2]
    cx = complexity(spec)
    assert (cx.flops, cx.params, cx.acts) == (199040872, 2684792, 2164056)
    assert FAMILIES["regnet"].derived(X200, spec) == {"num_stages": 4.0}


def test_regnety_400mf_exact() -> None:
    values = {"depth": 16, "w0": 48, "wa": 27.89, "wm": 2.09, "group_w": 8, "se_ratio": 0.25}
    spec = decode("regnet", values)
    assert spec.depths == [1, 3, 6, 6]
    assert spec.widths == [48, 104, 208, 440]
    assert complexity(spec).to_dict() == {"flops": 401849056, "params": 4344144, "acts": 3892496}
