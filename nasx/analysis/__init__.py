"""Analysis of run stores (pandas + numpy + scipy only): EDFs, comparisons, good ranges, trends."""

from nasx.analysis.compare import Comparison, compare
from nasx.analysis.edf import (
    EDF,
    Bins,
    complexity_bins,
    dkw_band,
    edf,
    edf_distance,
    normalized_edf,
)
from nasx.analysis.load import RunData, check_comparable, load_runs, read_run, read_runs
from nasx.analysis.ranges import best_of_k, good_ranges
from nasx.analysis.results import PairComparison, RunSummary, Summary
from nasx.analysis.summary import summarize
from nasx.analysis.trends import pareto_front, stage_profiles, trend, varying_columns

__all__ = [
    "EDF", "Bins", "Comparison", "PairComparison", "RunData", "best_of_k", "check_comparable", "compare",
    "complexity_bins", "dkw_band", "edf", "edf_distance", "good_ranges", "load_runs", "normalized_edf",
    "pareto_front", "read_run", "read_runs", "RunSummary", "stage_profiles", "Summary", "summarize", "trend",
    "varying_columns",
]
