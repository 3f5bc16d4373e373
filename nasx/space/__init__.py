"""Search spaces: the YAML schema, distributions, relations and constraints (torch-free)."""

from nasx.space.constraints import RELATIONS, apply_relation, parse_bounds, parse_quantity, within
from nasx.space.dists import ChoiceDist, Dist, Fixed, FloatDist, IntDist, Param, Pow2Dist
from nasx.space.measured import MEASURED_KEYS, MeasureSettings
from nasx.space.schema import INPUT_DEFAULTS, SearchSpace, load_space, parse_param, parse_space

__all__ = [
    "INPUT_DEFAULTS", "MEASURED_KEYS", "RELATIONS", "ChoiceDist", "Dist", "Fixed", "FloatDist",
    "IntDist", "MeasureSettings", "Param", "Pow2Dist", "SearchSpace", "apply_relation", "load_space", "parse_bounds", "parse_param",
    "parse_quantity", "parse_space", "within",
]
