"""ArchSpec: the one frozen, typed description of a CNN shared by search and models.

Everything a model builder or the complexity counter needs is explicit here; per-block widths are
derived in exactly one place, :meth:`ArchSpec.blocks`, so counting and building cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Literal

from nasx.types import JSONObject

Act = Literal["relu", "silu", "relu6"]
BlockKind = Literal["bottleneck", "basic", "mbconv"]


@dataclass(frozen=True)
class StemSpec:
    """Stem: conv k x k with stride, BN, activation, optional 3x3 stride-2 max pool."""

    width: int
    kernel: int = 3
    stride: int = 2
    pool: bool = False
    act: Act = "relu"


@dataclass(frozen=True)
class StageSpec:
    """A stage of ``depth`` blocks of one kind; the first block carries the stride.

    bottleneck: 1x1 (width -> bottleneck), k x k grouped (``groups``) with stride, optional SE,
      1x1 (bottleneck -> width); residual with a 1x1 projection when shape changes.
    basic: k x k (in -> width, stride), k x k (width -> width); residual as above.
    mbconv: 1x1 expansion to int(w_in * expansion) (omitted when that equals w_in), depthwise k x k
      with stride, optional SE, linear 1x1 projection; skip when stride 1 and w_in == width.
    SE width is round(se_ratio * block input width) (docs/internals.md, "Reference formulas"); 0 disables SE.
    """

    block: BlockKind
    depth: int
    width: int
    stride: int
    bottleneck: int = 0
    groups: int = 1
    expansion: float = 1.0
    kernel: int = 3
    se_ratio: float = 0.0
    act: Act = "relu"


@dataclass(frozen=True)
class HeadSpec:
    """Head: optional 1x1 conv + BN + act to ``width`` (0 = none), global pool, dropout, FC."""

    num_classes: int
    width: int = 0
    dropout: float = 0.0
    act: Act = "relu"


@dataclass(frozen=True)
class BlockSpec:
    """One block with every width resolved (derived from a stage by :meth:`ArchSpec.blocks`)."""

    kind: BlockKind
    w_in: int
    w_out: int
    stride: int
    w_mid: int  # bottleneck width, expanded width (mbconv) or width (basic)
    groups: int  # groups of the k x k conv (w_mid for depthwise)
    kernel: int
    w_se: int  # 0 = no SE
    act: Act
    expand: bool  # mbconv: has the 1x1 expansion conv
    residual: bool  # has an identity or projection shortcut
    proj: bool  # the shortcut is a 1x1 conv + BN


@dataclass(frozen=True)
class ArchSpec:
    """A whole network: input, stem, stages, head."""

    family: str
    stem: StemSpec
    stages: tuple[StageSpec, ...]
    head: HeadSpec
    resolution: int = 224
    in_channels: int = 3
    name: str = field(default="", compare=False)

    @property
    def num_classes(self) -> int:
        """Number of output classes."""
        return self.head.num_classes

    @property
    def depths(self) -> list[int]:
        """Blocks per stage."""
        return [s.depth for s in self.stages]

    @property
    def widths(self) -> list[int]:
        """Output width per stage."""
        return [s.width for s in self.stages]

    def blocks(self, per_stage: int | None = None) -> Iterator[BlockSpec]:
        """Every block in order, with its input/output/inner widths resolved.

        ``per_stage`` caps the blocks yielded per stage (blocks 2..d of a stage are identical,
        so the complexity counter reads two and multiplies).
        """
        w_in = self.stem.width
        for st in self.stages:
            for i in range(st.depth if per_stage is None else min(st.depth, per_stage)):
                stride = st.stride if i == 0 else 1
                w_se = int(round(st.se_ratio * w_in)) if st.se_ratio > 0 else 0
                if st.block == "mbconv":
                    w_mid = int(w_in * st.expansion)
                    yield BlockSpec(
                        kind="mbconv", w_in=w_in, w_out=st.width, stride=stride, w_mid=w_mid,
                        groups=w_mid, kernel=st.kernel, w_se=w_se, act=st.act,
                        expand=w_mid != w_in, residual=stride == 1 and w_in == st.width, proj=False,
                    )
                else:
                    w_mid = st.bottleneck if st.block == "bottleneck" else st.width
                    yield BlockSpec(
                        kind=st.block, w_in=w_in, w_out=st.width, stride=stride, w_mid=w_mid,
                        groups=st.groups, kernel=st.kernel, w_se=w_se, act=st.act, expand=False,
                        residual=True, proj=w_in != st.width or stride != 1,
                    )
                w_in = st.width

    def to_dict(self) -> JSONObject:
        """Plain JSON-able dict (round-trips through :meth:`from_dict`); keys in field order."""
        # By hand, not dataclasses.asdict: its recursive deep copy was 40% of `nasx sample`.
        return {"family": self.family, "stem": _flat(self.stem),
                "stages": [_flat(s) for s in self.stages], "head": _flat(self.head),
                "resolution": self.resolution, "in_channels": self.in_channels,
                "name": self.name}

    @classmethod
    def from_dict(cls, d: JSONObject) -> ArchSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(
            family=d["family"],
            stem=StemSpec(**d["stem"]),
            stages=tuple(StageSpec(**s) for s in d["stages"]),
            head=HeadSpec(**d["head"]),
            resolution=int(d.get("resolution", 224)),
            in_channels=int(d.get("in_channels", 3)),
            name=d.get("name", ""),
        )

    def fingerprint(self) -> str:
        """Stable hash of the architecture (name excluded): equal networks, equal fingerprints."""
        d = self.to_dict()
        d.pop("name", None)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


_KEYS: dict[type, tuple[str, ...]] = {}


def _flat(part: StemSpec | StageSpec | HeadSpec) -> JSONObject:
    """A part of a spec (scalar fields only) as a dict in field order."""
    keys = _KEYS.get(type(part))
    if keys is None:
        keys = _KEYS[type(part)] = tuple(f.name for f in fields(part))
    return {k: getattr(part, k) for k in keys}
