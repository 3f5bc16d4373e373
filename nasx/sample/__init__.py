"""Sampling architectures from a search space and writing them into run folders (torch-free)."""

from nasx.sample.accept import Acceptance, Verdict, trial_fingerprint
from nasx.sample.bind import Bound, bind
from nasx.sample.run import SampleSummary, create_run
from nasx.sample.sampler import (
    SampleResult,
    check_space,
    default_max_attempts,
    probe_space,
    sample_space,
)

__all__ = [
    "Acceptance", "Bound", "SampleResult", "SampleSummary", "Verdict", "bind", "check_space",
    "create_run", "default_max_attempts", "probe_space", "sample_space", "trial_fingerprint",
]
