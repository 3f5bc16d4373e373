"""``narrow``: propose a strictly narrower space file from a trained population (DDS).

Every sampled parameter is cut to the bootstrap good range of the winners (``nasx.analysis.
good_ranges``: B times the best of 25% of the models drawn with replacement; the 2.5-97.5
percentiles of their values), snapped outward to its grid (see :mod:`nasx.refine.ranges`).
Per-stage relations the better models support are added (:mod:`nasx.refine.relations`). The new
file keeps everything else of the parent (family, input, constraints, n, seed); its ``train:``
block is the recipe the parent *population* was trained with (the run's recorded recipe, command
line overrides such as ``--epochs 1`` included; distributions the space draws per trial stay
distributions), so the narrowed population compares with its parent directly. It gets
its own ``name`` (the output file's stem) and a ``lineage:`` block with the parent (path and
sha256) and the evidence; it is validated with ``load_space`` and checked to be inside the parent
before it atomically replaces ``out``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from nasx.analysis.ranges import good_ranges
from nasx.errors import NothingNarrowedError, RefineError
from nasx.execute.plan import population_recipe
from nasx.fsutil import atomic_write_text
from nasx.refine.ranges import is_strict_subset, is_subset
from nasx.refine.relations import (
    RelationTest,
    WidthEvidence,
    candidate,
    check_relation,
    holm_adjust,
    linear_width_evidence,
)
from nasx.refine.slots import Slot, space_slots
from nasx.refine.support import (
    HALVES,
    LEVEL,
    Support,
    half_samples,
    min_models,
    models_needed,
    removed_mask,
    supported_cut,
)
from nasx.space import Dist, Fixed, SearchSpace, load_space
from nasx.store import RunStore, trials_frame
from nasx.train import population
from nasx.types import JSONObject, Scalar
from nasx.yamlio import load_yaml

FRAC = 0.25  # DDS: the best of 25% of the models


@dataclass(frozen=True)
class SlotCut:
    """What happened to one sampled parameter."""

    slot: Slot
    old: Dist
    new: Dist
    p2_5: float | None
    p50: float | None
    p97_5: float | None
    support: Support | None = None  # the evidence for the cut (None: not assessed)

    @property
    def narrowed(self) -> bool:
        """The new distribution draws from a strictly smaller set."""
        return is_strict_subset(self.new, self.old)

    def new_support(self) -> Support:
        """The cut's evidence (it has been assessed)."""
        assert self.support is not None
        return self.support


@dataclass
class NarrowResult:
    """The proposal: where it went and why."""

    out: Path
    parent: Path
    n: int
    boot: int
    seed: int
    level: float = LEVEL
    cuts: list[SlotCut] = field(default_factory=list)
    relations: list[RelationTest] = field(default_factory=list)
    # facts a space file cannot encode, by name (``linear_width_profile``), for the lineage
    evidence: dict[str, WidthEvidence] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        out = [f"narrowed {self.parent} from {self.n} finished models "
               f"(bootstrap B={self.boot}, best of {int(FRAC * 100)}%, seed {self.seed}); a value"
               f" is cut only when at least {100 * self.level:g}% of {HALVES} half-samples of the"
               f" models rank it worse and outside their good range"]
        if self.n < min_models(self.level):
            out.append(f"  with {self.n} models no cut can reach that level: it takes at least"
                       f" {min_models(self.level)} models even when the cut values hold the worst")
        for c in self.cuts:
            mark = "narrowed" if c.narrowed else "unchanged"
            why = f"; {c.support.clause()}" if c.support else ""
            out.append(f"  {c.slot.name}: {c.old} -> {c.new} ({mark}; good range "
                       f"{_fmt(c.p2_5)}..{_fmt(c.p97_5)}, median {_fmt(c.p50)}{why})")
        out.extend(f"  relation {r.sentence()}" for r in self.relations)
        lin = self.evidence.get("linear_width_profile")
        if lin:
            out.append(f"  evidence (not encoded): linear width profile e_fit vs error Spearman "
                       f"rho={_fmt(lin['spearman_rho'])} p={_fmt(lin['spearman_p'])}; e_fit top "
                       f"{_fmt(lin['e_fit_top'])} vs rest {_fmt(lin['e_fit_rest'])}")
        out.append(f"wrote {self.out}")
        return out


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def finished_frame(store: RunStore) -> pd.DataFrame:
    """The population: sampled trials that are done, with an error (the store's query).

    Refine trials are left out (an optimiser's suggestions are not a random sample of the space,
    which the good-range bootstrap assumes), and so are trials a pruner stopped early and trials
    trained with another recipe than the run's (one recipe per population).
    """
    return trials_frame(store.finished().trials)


def _winner_values(frame: pd.DataFrame, column: str, winner_rows: list[int]) -> list[Any]:
    """The column's values over the bootstrap winners (with multiplicity)."""
    col = frame[column].tolist()
    return [col[i] for i, count in enumerate(winner_rows) for _ in range(count)]


def _cuts(space: SearchSpace, frame: pd.DataFrame, boot: int, seed: int,
          level: float) -> list[SlotCut]:
    """Each slot cut to its good range where the half-samples support it (:mod:`.support`),
    with the models a refused cut would need."""
    slots = [s for s in space_slots(space) if s.column in frame.columns]
    result = good_ranges(frame, [s.column for s in slots], seed=seed, B=boot, frac=FRAC)
    ranges, rows = result.ranges, result.winner_rows or []
    errors = frame["error"].to_numpy(dtype=float)
    halves = half_samples(errors, np.random.default_rng(seed), frac=FRAC, level=level)
    cuts = []
    for s in slots:
        r = ranges.get(s.column)
        winners = _winner_values(frame, s.column, rows) if rows else []
        column = frame[s.column].tolist()
        lo, hi = (r.p2_5, r.p97_5) if r is not None else (math.nan, math.nan)
        sup = supported_cut(s.dist, column, lo, hi, winners, halves)
        cuts.append(SlotCut(s, s.dist, sup.new, *((r.p2_5, r.p50, r.p97_5) if r else
                                                  (None, None, None)), support=sup))
    refused = [i for i, c in enumerate(cuts) if c.support and c.support.refused]
    if refused:
        masks = np.array([removed_mask(cuts[i].new_support().proposed,
                                       frame[cuts[i].slot.column].tolist()) for i in refused])
        needed = models_needed(errors, masks, np.random.default_rng(seed + 1), level, frac=FRAC)
        for i, k in zip(refused, needed, strict=True):
            cuts[i] = replace(cuts[i], support=replace(cuts[i].new_support(), needed=k))
    return cuts


def _relations(space: SearchSpace, frame: pd.DataFrame) -> list[RelationTest]:
    tests = []
    for key, per in space.per_stage.items():
        if key in space.relations or len(per) < 2 or all(isinstance(p, Fixed) for p in per):
            continue
        t = check_relation(frame, key, len(per), candidate(key))
        if t is not None:
            tests.append(t)
    return holm_adjust(tests)


class _Flow(dict):
    """A distribution mapping, written on one line like the shipped spaces: ``{int: [1, 4]}``."""


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes :class:`_Flow` mappings in flow style."""


class _Block(dict):
    """A mapping written one key a line (the ``train:`` block, which holds a whole recipe)."""


_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)
_Dumper.add_representer(
    _Block, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=False)
)


def _form(dist: Dist) -> _Flow:
    return _Flow(dist.to_yaml())


def _plain(x: Any) -> Any:
    """numpy scalars and tuples -> YAML-safe Python values."""
    if isinstance(x, _Flow):
        return _Flow({str(k): _plain(v) for k, v in x.items()})
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str):
        return x.item()
    if isinstance(x, float):
        return round(x, 6) if math.isfinite(x) else None
    return x


def train_block(parent: Mapping[str, Any], recipe: Mapping[str, Scalar] | None,
                sampled: Iterable[str]) -> dict[str, Any]:
    """The narrowed file's ``train:`` block: the parent's, with every population key of the run's
    recipe written out (``epochs`` overridden on the command line included) and its data folder.

    Keys the space draws per trial keep the parent's (possibly cut) distribution; execution keys
    (device, threads, ...) stay as the parent file had them: they are not part of a recipe.
    """
    block = dict(parent)
    if recipe:
        block.update(population.identity(recipe, sampled))
        if recipe.get("data_dir"):
            block["data_dir"] = recipe["data_dir"]
    return block


def _new_document(space: SearchSpace, res: NarrowResult, run: Path, meta: JSONObject,
                  recipe: Mapping[str, Scalar] | None) -> JSONObject:
    """The narrowed space file's YAML document: the parent's, cut, with its lineage."""
    raw = load_yaml(space.text) or {}  # the one bounded loader (already passed it once)
    by_section: dict[str, dict[int | None, Dist]] = {}  # per-stage key -> stage -> new dist
    for c in res.cuts:
        if c.slot.section != "per_stage":
            sect = raw.setdefault(c.slot.section, {}) or {}
            raw[c.slot.section] = sect
            sect[c.slot.key] = _form(c.new)
        else:
            by_section.setdefault(c.slot.key, {})[c.slot.stage] = c.new
    raw["train"] = _Block(train_block(raw.get("train") or {}, recipe, space.train_dists))
    relations = dict(raw.get("relations") or {})
    relations.update({r.key: r.relation for r in res.relations if r.supported})
    for key, per in space.per_stage.items():
        new = by_section.get(key, {})
        stage_params = [new.get(i, p) for i, p in enumerate(per, start=1)]
        forms = [_Flow(p.to_yaml()) if isinstance(p.to_yaml(), dict) else p.to_yaml()
                 for p in stage_params]
        if relations.get(key) == "shared" or all(f == forms[0] for f in forms):
            raw["per_stage"][key] = forms[0]  # shared: only stage 1's distribution is drawn
        else:
            raw["per_stage"][key] = forms
    if relations:
        raw["relations"] = relations
    raw["name"] = re.sub(r"[^A-Za-z0-9._-]", "_", res.out.stem) or "narrowed"
    raw["description"] = f"narrowed from {res.parent} by nasx narrow"
    raw["lineage"] = _plain({
        "parent": {"path": str(res.parent), "sha256": space.sha256},
        "run": {"path": str(run.resolve()), "name": meta.get("name"), "n_finished": res.n,
                "origin": "sampled"},
        "method": "bootstrap good range (DDS): p2.5..p97.5 of the best of 25% drawn with "
                  f"replacement, kept only where {100 * res.level:g}% of {HALVES} half-samples "
                  "rank the cut values worse (one-sided Mann-Whitney 5%) and outside their own "
                  "good range (nasx.refine.support); relations by one-sided Mann-Whitney U of violation counts, "
                  "top 25% vs rest, Holm-adjusted over the relations tested",
        "boot": {"B": res.boot, "frac": FRAC, "seed": res.seed},
        "ranges": {c.slot.name: {"old": _form(c.old), "new": _form(c.new),
                                 "p2.5": c.p2_5, "p50": c.p50, "p97.5": c.p97_5,
                                 "narrowed": c.narrowed,
                                 **(c.support.to_dict() if c.support else {})}
                   for c in res.cuts},
        "relations": {r.key: r.to_dict() for r in res.relations},
        "evidence": res.evidence,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    })
    # the new file starts with name, keeps the parent's key order, and ends with its lineage
    order = ["name", "description"] + [k for k in raw if k not in ("name", "description", "lineage")]
    return {k: raw[k] for k in order + ["lineage"]}


def _check_inside(new_space: SearchSpace, res: NarrowResult) -> None:
    """Every sampled parameter of the new file draws from a subset of its parent's."""
    new_slots = {s.name: s for s in space_slots(new_space)}
    for c in res.cuts:
        s = new_slots.get(c.slot.name)
        if s is not None and not is_subset(s.dist, c.old):
            raise RefineError(f"internal: the narrowed range {s.dist} is not inside {c.old}",
                              key=c.slot.name)


def _nothing(res: NarrowResult, run: Path) -> NothingNarrowedError:
    """The error of a narrowing that cut nothing, saying how many models would be needed."""
    needed = [c.support.needed for c in res.cuts if c.support and c.support.needed]
    least = min_models(res.level)
    if needed:
        more = f"; about {min(needed)} models would support the first cut"
    elif res.n < least:
        more = f"; no cut can reach it with fewer than {least} models"
    else:
        more = ""
    return NothingNarrowedError(
        f"no parameter can be narrowed with the evidence of {res.n} models at level"
        f" {100 * res.level:g}% (each parameter's line says why){more}; nothing written",
        result=res, where=str(run))


def narrow(run_dir: str | Path, out: str | Path, *, seed: int = 0, boot: int = 1000,
           force: bool = False, level: float = LEVEL) -> NarrowResult:
    """Write a strictly narrower space for the run to ``out``; RefineError when none can be made
    (:class:`~nasx.errors.NothingNarrowedError`, with the per-parameter result, when no cut has its evidence)."""
    run, out = Path(run_dir), Path(out)
    if boot < 1:
        raise RefineError(rule="must be >= 1", value=boot, where="command line", key="boot")
    if not 0.5 <= level < 1:
        raise RefineError(rule="must be in [0.5, 1)", value=level, where="command line",
                          key="level")
    if out.exists() and not force:
        raise RefineError("output file exists (pass --force to replace it)", where=str(out))
    with RunStore.open(run) as store:
        space = load_space(store.space_path)
        meta = store.meta()
        frame = finished_frame(store)
        recipe = population_recipe(store)
    parent = Path(meta.get("space_file") or store.space_path)
    if len(frame) < 2:
        raise RefineError(rule="needs finished sampled models to narrow (train the run first)",
                          value=len(frame), where=str(run))
    res = NarrowResult(out=out, parent=parent, n=len(frame), boot=boot, seed=seed, level=level)
    res.cuts = _cuts(space, frame, boot, seed, level)
    res.relations = _relations(space, frame)
    if space.stages:
        lin = linear_width_evidence(frame, space.stages)
        if lin:
            res.evidence["linear_width_profile"] = lin
    if not any(c.narrowed for c in res.cuts) and not any(r.supported for r in res.relations):
        raise _nothing(res, run)
    doc = _new_document(space, res, run, meta, recipe)
    header = "".join(f"# {line}\n" for line in res.lines()[:-1])
    text = header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=None,
                              width=100)
    out.parent.mkdir(parents=True, exist_ok=True)
    # the new file is read back and checked under its temporary name; a failed check writes nothing
    atomic_write_text(out, text, check=lambda tmp: _check_inside(load_space(tmp), res))
    return res
