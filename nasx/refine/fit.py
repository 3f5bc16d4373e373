"""``fit``: RegNet from the best models of a run (Radosavovic et al. 2020, section 3.3).

Each finished model of a per-stage (AnyNet or RegNet) run is fitted with the quantised linear
parameterisation (:mod:`nasx.analysis.regnet_fit`: d its depth; w_0, w_a, w_m minimising
e_fit = mean_j |log(fitted_j / observed_j)|). The K best models (validation error) give the
ranges of w_0, w_a, w_m and d; e_fit of the K best against the rest says whether the good models
are more linear (one-sided Mann-Whitney U). With ``out`` a RegNet space file is written: the
parent space's input, stem, budget, recipe, n and seed, the number of stages as a constraint,
bottleneck and group width as the parent drew them, the fitted ranges, and a ``lineage:``
block (parent path and sha256, run, method, each top model's fit) like ``narrow`` writes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import stats

from nasx.analysis.regnet_fit import RegNetFit, fit_spec
from nasx.errors import RefineError
from nasx.fsutil import atomic_write_text
from nasx.space import SearchSpace, load_space
from nasx.store import RunStore
from nasx.types import JSONObject
from nasx.yamlio import load_yaml

MIN_MODELS = 2
KEPT = ("resolution", "in_channels", "num_classes")  # of the parent's input


@dataclass
class FitResult:
    """Fits of a run's finished models, best first, and what they say."""

    run: Path
    parent: Path
    ids: list[int]
    errors: list[float]
    fits: list[RegNetFit]
    top: int
    out: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def ranges(self) -> dict[str, tuple[float, float]]:
        """(min, max) of w0, wa, wm and d over the top models."""
        best = self.fits[: self.top]
        return {k: (min(getattr(f, k) for f in best), max(getattr(f, k) for f in best))
                for k in ("w0", "wa", "wm", "d")}

    def best_vs_rest(self) -> dict[str, float | None]:
        """Median e_fit of the top and of the rest; one-sided Mann-Whitney p (top < rest)."""
        e = np.array([f.e_fit for f in self.fits])
        top, rest = e[: self.top], e[self.top:]
        p = None
        if rest.size and np.unique(e).size > 1:
            p = float(stats.mannwhitneyu(top, rest, alternative="less").pvalue)
        return {"median_top": float(np.median(top)),
                "median_rest": float(np.median(rest)) if rest.size else None, "p_less": p}

    def lines(self) -> list[str]:
        """The printed summary: e_fit per top model, distributions, ranges."""
        out = [f"fitted {len(self.fits)} finished models of {self.run}; e_fit = mean |log(fitted"
               " / observed)| over blocks (absolute log-ratio)"]
        for tid, err, f in list(zip(self.ids, self.errors, self.fits, strict=True))[: self.top]:
            out.append(f"  trial {tid}: error {err:.2f}%, e_fit {f.e_fit:.4g}, d {f.d}, w0 "
                       f"{f.w0:g}, wa {f.wa:.3f}, wm {f.wm:.4f}, widths {list(f.widths)}")
        b = self.best_vs_rest()
        rest = "n/a" if b["median_rest"] is None else f"{b['median_rest']:.4g}"
        p = "n/a" if b["p_less"] is None else f"{b['p_less']:.3g}"
        out.append(f"e_fit median: top {self.top} {b['median_top']:.4g}, rest {rest} "
                   f"(one-sided Mann-Whitney p = {p}: are the good models more linear?)")
        out.extend(f"range over the top {self.top}: {k} {lo:.4g} .. {hi:.4g}"
                   for k, (lo, hi) in self.ranges().items())
        if self.out is not None:
            out.append(f"wrote {self.out}")
        return out


def _population(store: RunStore) -> tuple[list[int], list[float], list[Any]]:
    """(ids, errors, specs) of the run's finished population, best first."""
    trials = sorted(store.finished().trials, key=lambda t: (t.error, t.id))
    return [t.id for t in trials], [float(t.error) for t in trials], [t.spec for t in trials]


def _check_specs(specs: list[Any], run: Path) -> None:
    for spec in specs:
        if {st.block for st in spec.stages} != {"bottleneck"}:
            raise RefineError(f"trial models of family {spec.family!r} have no per-stage "
                              "bottleneck widths to fit (an AnyNet or RegNet run is needed)",
                              where=str(run))


def fit_run(run_dir: str | Path, top: int = 10, out: str | Path | None = None,
            force: bool = False) -> FitResult:
    """Fit every finished model of the run; with ``out``, write the RegNet space file."""
    run = Path(run_dir)
    if top < 1:
        raise RefineError(rule="must be >= 1", value=top, where="command line", key="top")
    if out is not None and Path(out).exists() and not force:
        raise RefineError("output file exists (pass --force to replace it)", where=str(out))
    with RunStore.open(run, readonly=True) as store:
        meta = store.meta()
        ids, errors, specs = _population(store)
        space = load_space(store.space_path) if out is not None else None
        parent = Path(meta.get("space_file") or store.space_path)
    if len(ids) < MIN_MODELS:
        raise RefineError(rule=f"needs at least {MIN_MODELS} finished sampled models to fit (train "
                          "the run first)", value=len(ids), where=str(run))
    _check_specs(specs, run)
    res = FitResult(run=run, parent=parent, ids=ids, errors=errors,
                    fits=[fit_spec(s) for s in specs], top=min(top, len(ids)))
    if out is not None and space is not None:
        res.out = Path(out)
        text = _space_text(space, res, meta)
        res.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(res.out, text, check=lambda tmp: _check_written(load_space(tmp)))
    return res


def _check_written(space: SearchSpace) -> None:
    if space.family != "regnet":
        raise RefineError("internal: the fitted space is not a RegNet space")


class _Flow(dict):  # type: ignore[type-arg]
    """A distribution mapping written on one line: ``{int: [1, 4]}``."""


class _Dumper(yaml.SafeDumper):
    """SafeDumper writing :class:`_Flow` mappings in flow style."""


_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))


def _dist(kind: str, lo: float, hi: float, **extra: Any) -> Any:
    """A fixed value when lo == hi, else a range distribution."""
    if lo == hi:
        return int(lo) if kind == "int" else float(lo)
    return _Flow({kind: [int(lo), int(hi)] if kind == "int" else [round(lo, 4), round(hi, 4)],
                  **extra})


def _params(raw: JSONObject, res: FitResult) -> JSONObject:
    """The RegNet params: the fitted ranges, the parent's stem/SE and shared b, g draws."""
    r = res.ranges()
    params: JSONObject = {
        "depth": _dist("int", *r["d"]),
        "w0": _dist("int", *r["w0"], q=8) if r["w0"][0] != r["w0"][1] else int(r["w0"][0]),
        "wa": _dist("float", math.floor(r["wa"][0] * 1e4) / 1e4,
                    math.ceil(r["wa"][1] * 1e4) / 1e4),
        "wm": _dist("float", math.floor(r["wm"][0] * 1e4) / 1e4,
                    math.ceil(r["wm"][1] * 1e4) / 1e4),
    }
    parent_params = dict(raw.get("params") or {})
    per_stage = dict(raw.get("per_stage") or {})
    for key, default in (("group_w", 1), ("bot_mul", 1.0)):
        value = parent_params.get(key, per_stage.get(key, default))
        params[key] = _Flow(value) if isinstance(value, dict) else value
    for key in ("se_ratio", "stem", "stem_width"):
        if key in parent_params:
            params[key] = parent_params[key]
    return params


def _space_text(space: SearchSpace, res: FitResult, meta: JSONObject) -> str:
    """The RegNet space file: the parent's input, budget and recipe with the fitted ranges."""
    raw = load_yaml(space.text) or {}
    assert res.out is not None
    constraints = dict(raw.get("constraints") or {})
    if space.stages:
        constraints["num_stages"] = [space.stages, space.stages]
    doc: JSONObject = {
        "name": re.sub(r"[^A-Za-z0-9._-]", "_", res.out.stem) or "fitted",
        "description": f"RegNet fitted to the {res.top} best models of {res.run} by nasx fit",
        "family": "regnet", "n": raw.get("n", 64), "seed": raw.get("seed", 0),
        "input": _Flow({k: v for k, v in (raw.get("input") or {}).items() if k in KEPT}),
        "params": _params(raw, res),
    }
    if constraints:
        doc["constraints"] = constraints
    if "train" in raw:
        doc["train"] = raw["train"]
    doc["lineage"] = _lineage(space, res, meta)
    header = "".join(f"# {line}\n" for line in res.lines())
    return header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=None,
                              width=100)


def _lineage(space: SearchSpace, res: FitResult, meta: JSONObject) -> JSONObject:
    b = res.best_vs_rest()
    return {
        "parent": {"path": str(res.parent), "sha256": space.sha256},
        "run": {"path": str(res.run.resolve()), "name": meta.get("name"),
                "n_finished": len(res.fits), "origin": "sampled"},
        "method": "RegNet fit (DDS 3.3): d = depth; w0, wa, wm minimise e_fit = mean |log("
                  "fitted / observed)| over blocks (grid + refinement), fitted widths made "
                  "compatible with each block's group width and bottleneck",
        "top": res.top,
        "fits": [{"trial": tid, "error": round(err, 4), **_plain(f.to_dict())}
                 for tid, err, f in list(zip(res.ids, res.errors, res.fits, strict=True))
                 [: res.top]],
        "e_fit": {k: (None if v is None else float(v)) for k, v in b.items()},
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _plain(d: dict[str, object]) -> dict[str, object]:
    return {k: (round(float(v), 6) if isinstance(v, float) else v) for k, v in d.items()}
