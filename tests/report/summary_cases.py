"""Synthetic runs whose summaries pin summary.json (tests/report/test_report_summary_json.py).

Each case is a list of runs (tests/analysis/synth_runs.py, seeded) and the summarize() options;
together they reach every branch of the summary: refine, failed, diverged and other-recipe
trials, a run of an older nasx (test error, no recipe), a plain comparison with a power
estimate, a normalised one over barely overlapping ranges with an input caveat, one with no
overlap at all, allowed incomparable runs, and normalisation by flops, params or none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synth_runs import make_run

CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "three_runs_flops": (
        [{"name": "a", "n": 24, "n_failed": 2, "n_diverged": 1, "n_refine": 3, "n_other": 2,
          "seed": 1},
         {"name": "b", "n": 20, "shift": -3.0, "dlo": 2, "seed": 2, "resolution": 8,
          "flops_range": (1e6, 1e7)},
         {"name": "c", "n": 12, "seed": 3, "flops_range": (2e8, 4e8)}],
        {"normalize": "flops", "bins": 6, "seed": 3}),
    "plain_power_none": (
        [{"name": "p", "n": 10, "seed": 5}, {"name": "q", "n": 10, "seed": 6, "shift": -1.5}],
        {"normalize": "none"}),
    "same_space_params": (
        [{"name": "s", "n": 16, "seed": 7}, {"name": "t", "n": 16, "seed": 7}],
        {"normalize": "params", "bins": 4, "seed": 1}),
    "incomparable": (
        [{"name": "e2", "n": 12, "seed": 1, "epochs": 2},
         {"name": "e5", "n": 12, "seed": 2, "epochs": 5}],
        {"normalize": "flops"}),
    "normalized_power": (
        [{"name": "lo", "n": 40, "seed": 11, "flops_range": (1e5, 1.5e6)},
         {"name": "hi", "n": 40, "seed": 12, "flops_range": (1e6, 1e7), "shift": 2.0}],
        {"normalize": "flops", "bins": 5}),
    "legacy_single": (
        [{"name": "old", "n": 9, "n_other": 2, "legacy": True, "seed": 4}],
        {"normalize": "params", "bins": 3}),
}


def _normalise(obj: Any, roots: tuple[str, ...]) -> Any:
    """Temp paths replaced by <tmp>, creation times by 0: the rest is the summary as written."""
    if isinstance(obj, dict):
        return {k: 0 if k == "created_at" else _normalise(v, roots) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_normalise(v, roots) for v in obj]
    if isinstance(obj, str):
        for r in roots:
            obj = obj.replace(r, "<tmp>")
    return obj


def case_json(name: str, tmp: Path) -> dict[str, Any]:
    """The summary.json content of one case, built under ``tmp`` (paths normalised)."""
    from nasx.analysis import read_runs, summarize

    specs, opts = CASES[name]
    dirs = [make_run(tmp / s["name"], **s) for s in specs]
    allow = name == "incomparable"
    s = summarize(read_runs(dirs, allow_incomparable=allow), **opts)
    data = s.to_json() if hasattr(s, "to_json") else s
    text = json.dumps(data, indent=1, allow_nan=False)  # what build_report writes
    return _normalise(json.loads(text), (str(tmp.resolve()), str(tmp)))


def main(out: str) -> None:
    """Write every case's JSON into one fixture file (run from a checkout of the old code)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        data = {name: case_json(name, Path(tmp) / name) for name in CASES}
    Path(out).write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import sys

    main(sys.argv[1])
