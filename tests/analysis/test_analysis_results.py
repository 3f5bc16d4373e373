"""Typed results and their one conversion to JSON (nasx.analysis.jsonable)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from synth_runs import make_run

from nasx.analysis import read_runs, summarize
from nasx.analysis.jsonable import FLATTEN, OMIT_NONE, SKIP, json_name, to_json


@dataclass(frozen=True)
class _Inner:
    a: int
    verdict: str


@dataclass(frozen=True)
class _Outer:
    inner: _Inner = field(metadata=FLATTEN)
    extra: float | None = field(default=None, metadata=OMIT_NONE)
    verdict: str = "outer"
    p2_5: float = field(default=float("nan"), metadata=json_name("p2.5"))
    hidden: object = field(default=None, metadata=SKIP)
    arr: object = None


def test_field_metadata_shapes_the_json():
    got = to_json(_Outer(_Inner(np.int64(3), "inner"), arr=np.array([1.5, np.inf]),
                         hidden=object()))
    # A flattened key written again keeps its first place and takes the later value.
    assert list(got) == ["a", "verdict", "p2.5", "arr"]
    assert got == {"a": 3, "verdict": "outer", "p2.5": None, "arr": [1.5, None]}
    assert type(got["a"]) is int
    assert to_json(_Outer(_Inner(1, "x"), extra=2.0))["extra"] == 2.0
    frame = pd.DataFrame({"id": [1, 2], "error": [3.0, np.nan]})
    assert to_json(frame) == [{"id": 1, "error": 3.0}, {"id": 2, "error": None}]


def test_attributes_are_what_summary_json_says(tmp_path):
    a = make_run(tmp_path / "a", "a", n=20, n_refine=2, seed=1)
    b = make_run(tmp_path / "b", "b", n=20, seed=2, shift=-3.0)
    s = summarize(read_runs([a, b]), bins=4, seed=2)
    j = json.loads(json.dumps(s.to_json(), allow_nan=False))
    (c,) = s.comparisons
    assert j["comparisons"][0]["verdict"] == c.verdict.text
    assert j["comparisons"][0]["plain_verdict"] == c.plain.verdict == c.verdict.plain_verdict
    assert j["comparisons"][0]["ks_pvalue"] == c.plain.ks_pvalue
    assert (j["comparisons"][0]["normalized_ks_statistic"]
            == c.verdict.normalized_ks_statistic)
    assert j["comparisons"][0]["headline"] == c.verdict.headline
    # Numbers come from the function that used them: the bootstrap's own B and frac.
    g = s.runs[0].good_ranges
    assert (j["settings"]["good_range_B"], j["settings"]["good_range_frac"]) == (g.B, g.frac)
    assert j["runs"][0]["good_ranges"]["B"] == g.B and len(g.winner_rows or []) == 20
    assert j["runs"][0]["refine_edf"]["n"] == s.runs[0].refine_edf.n == 2
    assert j["runs"][1]["refine_edf"] is None and s.runs[1].refine_edf is None
    assert [p["id"] for p in j["runs"][0]["points"]] == s.runs[0].points["id"].tolist()
    assert j["runs"][0]["pareto_flops"][0] == {"id": s.runs[0].pareto_flops[0].id,
                                               "flops": s.runs[0].pareto_flops[0].value,
                                               "error": s.runs[0].pareto_flops[0].error,
                                               "origin": "sampled"}
