"""Static HTML reports of runs (seaborn/matplotlib imported lazily, only when drawing)."""

from nasx.report.write import build_report, default_out, render, verdict_lines, write_report

__all__ = ["build_report", "default_out", "render", "verdict_lines", "write_report"]
