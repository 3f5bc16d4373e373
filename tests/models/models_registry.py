"""What the parametrized model tests iterate over: the zoo registry and the spaces/ glob.

A new zoo entry, family or space file is covered without new test code.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np

from nasx.arch.spec import ArchSpec

ROOT = Path(__file__).resolve().parents[2]
SPACES = sorted((ROOT / "spaces").glob("*.yaml"))


def zoo_names() -> list[str]:
    """Every zoo model name."""
    from nasx.arch import zoo

    return list(zoo.names())


def zoo_spec(name: str) -> ArchSpec:
    """The zoo's ArchSpec for ``name``."""
    from nasx.arch import zoo

    return zoo.get(name)


def families() -> list[str]:
    """Every registered family and every family a zoo model declares."""
    from nasx.arch.families import FAMILIES

    return sorted(set(FAMILIES) | {zoo_spec(n).family for n in zoo_names()})


@functools.cache
def sampled_specs(space_file: str, n: int, seed: int = 0) -> tuple[ArchSpec, ...]:
    """``n`` distinct seeded samples of a space file as ArchSpecs, or every distinct one the space
    holds when it holds fewer (e.g. efficientnet.yaml: phi in 0..3 by 0.1 gives 31 networks).

    Draws in chunks of candidates and stops once a whole chunk brings no new network, so a small
    space costs a few thousand draws instead of a failing sampler's full budget.
    """
    from nasx.sample.sampler import probe_space
    from nasx.space import load_space

    space = load_space(space_file)
    rng = np.random.default_rng(seed)
    found: dict[str, ArchSpec] = {}
    while len(found) < n:
        fresh = [t for t in probe_space(space, 2000, rng).trials if t.fingerprint not in found]
        if not fresh:
            break
        for t in fresh:
            found[t.fingerprint] = t.spec
    return tuple(found.values())[:n]


def space_family(space_file: Path) -> str:
    """The family a space file declares."""
    from nasx.space import load_space

    return load_space(space_file).family


def cifar_variant(spec: ArchSpec, num_classes: int = 10) -> ArchSpec:
    """The same blocks at 32 px (16 px for stride-1 stems) with a 10-class head, for CPU passes."""
    res = 16 if spec.stem.stride == 1 else 32
    return replace(spec, resolution=min(res, spec.resolution),
                   head=replace(spec.head, num_classes=num_classes))


def representative(family: str) -> ArchSpec | None:
    """The cheapest zoo model of ``family``, else a sample of a space of it; None when neither."""
    from nasx.arch.complexity import complexity

    pool = [s for s in (zoo_spec(n) for n in zoo_names()) if s.family == family]
    if not pool:
        for f in SPACES:
            if space_family(f) == family:
                pool = list(sampled_specs(str(f), 1))
                break
    if not pool:
        return None
    return cifar_variant(min(pool, key=lambda s: complexity(s).flops))
