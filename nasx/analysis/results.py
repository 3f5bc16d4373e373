"""The report's numbers as typed results: :class:`Summary` and its parts (summary.json is
``Summary.to_json()``; field order is key order, see :mod:`nasx.analysis.jsonable`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from nasx.analysis.compare import Comparison
from nasx.analysis.edf import EDF
from nasx.analysis.fidelity import Fidelity, Interval
from nasx.analysis.jsonable import FLATTEN, OMIT_NONE, to_json
from nasx.analysis.latency import LatencyView
from nasx.analysis.ranges import BestOfK, GoodRanges
from nasx.analysis.trends import ParetoPoint, StageProfiles, Trend
from nasx.analysis.verdict import PairVerdict
from nasx.arch.scale import Scaled
from nasx.types import JSONValue


@dataclass(frozen=True)
class Settings:
    """How every number of the report was computed."""

    error: str  # what every error is (validation or test top-1, one label per report)
    test_error: str
    normalize: str
    bins: int
    bin_spacing: str
    seed: int
    alpha: float
    top_frac: float
    good_range_B: int
    good_range_frac: float
    comparison_population: str
    best_of_k_method: str


@dataclass(frozen=True)
class Counts:
    """Trials of a run by status (the store's counts), and the finished ones by group."""

    statuses: Mapping[str, int] = field(metadata=FLATTEN)  # and done_without_error
    finished_sampled: int
    finished_refine: int
    finished_other_recipe: int
    total: int


@dataclass(frozen=True, eq=False)  # holds arrays or frames: compared by identity
class OtherRecipe:
    """Finished trials trained with another recipe: grouped by what differs, and their EDF."""

    groups: Sequence[object]
    note: str | None
    edf: EDF | None


@dataclass(frozen=True)
class BestModel:
    """One of the best models (ranked by ``error``; the test error only shown)."""

    id: int
    error: float
    test_error: float | None
    flops: int
    params: int
    acts: int
    origin: str
    # its complexity scaled 2x and 4x with dWr (nasx.arch.scale); absent when it cannot scale
    scaled: list[Scaled] | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class VaryingKey:
    """A recipe key that differs between trials: its range, or its first distinct values."""

    n_distinct: int
    min: float | None = field(default=None, metadata=OMIT_NONE)
    max: float | None = field(default=None, metadata=OMIT_NONE)
    values: list[str] | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class RecipeSummary:
    """Recipe keys shared by every trial (values as stored) and the keys that vary."""

    common: Mapping[str, object]
    varying: dict[str, VaryingKey]


@dataclass(frozen=True)
class ProxyRow:
    """One zero-cost proxy's rank correlation with minus the validation error (+1: the proxy
    orders the population as training did), with percentile bootstrap intervals."""

    proxy: str
    n: int  # population models with both the proxy and the error finite
    spearman: float | None
    spearman_ci: Interval
    kendall: float | None
    kendall_ci: Interval


@dataclass(frozen=True, eq=False)  # holds arrays or frames: compared by identity
class RunSummary:
    """Every number of one run (see :mod:`nasx.analysis.summary` for the populations)."""

    name: str
    root: str
    meta: Mapping[str, object]  # the store's meta, as stored
    population: str  # what the population is ("sampled" unless a fallback)
    error: str
    error_kind: str
    counts: Counts
    population_recipe: Mapping[str, object] | None
    other_recipe: OtherRecipe
    ids: list[int]
    edf: EDF
    median_error: float
    best_error: float
    best_id: int
    best_test_error: float | None
    refine_edf: EDF | None
    best_of_k: list[BestOfK]
    recipe: RecipeSummary
    space_file: object
    space_sha256: object
    space_text: str
    parameters: list[str]
    points: pd.DataFrame  # one row per finished trial: id, origin, in_population, error, ...
    good_ranges: GoodRanges
    trends: list[Trend]
    stage_profiles: StageProfiles
    pareto_flops: list[ParetoPoint]
    best: list[BestModel]
    # seed-noise floor and short-vs-long fidelity from `nasx fidelity` (absent without retrains)
    fidelity: Fidelity | None = field(default=None, metadata=OMIT_NONE)
    # zero-cost proxies from `nasx proxies`, best Spearman first (absent without proxies)
    proxies: list[ProxyRow] | None = field(default=None, metadata=OMIT_NONE)
    # error vs measured latency from `nasx measure`, one view per latency (absent without)
    latency: list[LatencyView] | None = field(default=None, metadata=OMIT_NONE)

    def trend(self, column: str) -> Trend | None:
        """The trend of ``column``, if the run has one."""
        return next((t for t in self.trends if t.column == column), None)


@dataclass(frozen=True)
class Family:
    """The comparisons corrected together, and how."""

    method: str  # holm
    scope: str  # progression | every pair
    alpha: float
    pairs: list[str]  # "A vs B" of each comparison corrected (those with a p-value)
    size: int  # comparisons with a p-value (m of the correction)
    rule: str  # the sentence the report shows


@dataclass(frozen=True)
class Adjusted:
    """One comparison's family-wise result (absent from the family: ``in_family`` false)."""

    in_family: bool
    pvalue: float | None  # the carrying comparison's own p-value
    pvalue_adjusted: float | None  # Holm-adjusted over the family
    significant: bool  # the comparison's own conclusion holds after the correction
    significant_unadjusted: bool  # the comparison's own conclusion, before it
    better: str | None
    family_size: int


@dataclass(frozen=True)
class LongVerdict:
    """A pair's conclusion recomputed on the long retrainings at ``epochs_long``."""

    epochs_long: int
    k_a: int
    k_b: int
    test: str  # plain KS | KS normalised by ...
    statistic: float | None
    pvalue: float | None
    pvalue_adjusted: float | None  # Holm over the family's pairs with long data
    family_size: int
    significant: bool
    better: str | None
    short_better: str | None  # the short conclusion (None: no significant difference)
    agreement: str  # holds | does not hold | cannot be decided
    sentence: str


@dataclass(frozen=True)
class PairComparison:
    """Two runs compared: the plain tests and the verdict, with its headline, its normalised
    comparisons and its caveats.

    In summary.json the two are one object; the pair's verdict takes the place of the plain
    one (which stays as ``plain_verdict``). ``holm``: the pair's family-wise result
    (:mod:`nasx.analysis.multiple`; the verdict and headline state it when the family holds
    more than one comparison). ``long``: the conclusion tested again on the long
    retrainings of both runs, one entry per long schedule (:mod:`nasx.analysis.long_verdict`).
    """

    plain: Comparison = field(metadata=FLATTEN)
    verdict: PairVerdict = field(metadata=FLATTEN)
    holm: Adjusted | None = field(default=None, metadata=OMIT_NONE)
    # the conclusion recomputed on `nasx fidelity --epochs-long` retrainings of both runs
    long: list[LongVerdict] | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class SpaceDiff:
    """Unified diff of the space files of runs ``a`` and ``b`` ('' when identical)."""

    a: str
    b: str
    diff: str


@dataclass(frozen=True, eq=False)  # holds arrays or frames: compared by identity
class Summary:
    """Every number a report shows."""

    settings: Settings
    report_of: list[str]  # the resolved run folders
    notes: list[str]
    runs: list[RunSummary]
    comparisons: list[PairComparison]
    space_diffs: list[SpaceDiff]
    family: Family | None = field(default=None, metadata=OMIT_NONE)  # the Holm-corrected set

    def to_json(self) -> dict[str, JSONValue]:
        """summary.json: strict JSON values (numpy to Python, NaN and inf to null)."""
        out = to_json(self)
        assert isinstance(out, dict)
        return out
