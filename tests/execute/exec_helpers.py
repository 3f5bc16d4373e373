"""Build small runs for executor tests without the sampler (spec dicts are opaque to the fakes)."""

from __future__ import annotations

from pathlib import Path

from nasx.store import NewTrial, RunStore

REPO = Path(__file__).resolve().parents[2]
SPACE = REPO / "spaces" / "regnet_digits.yaml"


def fake_run(root: Path, n: int) -> RunStore:
    """A run of ``n`` pending trials with the demo space's text (or regnet.yaml before it lands)."""
    space = SPACE if SPACE.exists() else REPO / "spaces" / "regnet.yaml"
    store = RunStore.create(root, space.read_text(), {"name": "fake", "family": "regnet"})
    store.add_trials(NewTrial(fingerprint=f"f{i}", values={"i": i}, spec={}, flops=1, params=1,
                              acts=1, seed=i) for i in range(n))
    return store


def events(folder: Path) -> list[tuple[str, int]]:
    """(event, trial id) lines of the fakes' side-effect log."""
    log = folder / "events.log"
    if not log.exists():
        return []
    return [(e, int(i)) for e, i, _ in (line.split() for line in log.read_text().splitlines())]
