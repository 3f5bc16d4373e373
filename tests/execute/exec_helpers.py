"""Build small runs for executor tests without the sampler (spec dicts are opaque to the fakes)."""

from __future__ import annotations

import os
from pathlib import Path

from nasx.arch.spec import ArchSpec, HeadSpec, StageSpec, StemSpec
from nasx.store import NewTrial, RunStore

# The fakes never build it: any valid spec will do.
TINY = ArchSpec(family="regnet", stem=StemSpec(width=8),
                stages=(StageSpec(block="basic", depth=1, width=8, stride=1),),
                head=HeadSpec(num_classes=10))

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SPACE = REPO / "spaces" / "regnet_digits.yaml"


def worker_env() -> dict[str, str]:
    """The environment for drivers and Ray workers: the fakes importable by module path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("RAY_ADDRESS", None)
    return env


def fake_run(root: Path, n: int) -> RunStore:
    """A run of ``n`` pending trials with the demo space's text (or regnet.yaml before it lands)."""
    space = SPACE if SPACE.exists() else REPO / "spaces" / "regnet.yaml"
    store = RunStore.create(root, space.read_text(), {"name": "fake", "family": "regnet"})
    store.add_trials(NewTrial(fingerprint=f"f{i}", values={"i": i}, spec=TINY, flops=1, params=1,
                              acts=1, seed=i) for i in range(n))
    return store


def events(folder: Path) -> list[tuple[str, int]]:
    """(event, trial id) lines of the fakes' side-effect log."""
    log = folder / "events.log"
    if not log.exists():
        return []
    return [(e, int(i)) for e, i, _ in (line.split() for line in log.read_text().splitlines())]
