"""Static HTML reports of runs (seaborn/matplotlib imported lazily, only when drawing)."""

from nasx.report.write import default_out, render, write_report

__all__ = ["default_out", "render", "write_report"]
