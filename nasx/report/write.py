"""``write_report``: analyse runs, draw the figures, write index.html + summary.json atomically.

Everything is computed and rendered in memory first (a user error leaves no trace on disk), then
written into a temporary folder beside the target and renamed into place, so a failing report
leaves nothing half-written and an old report is replaced only by a complete new one.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from nasx.errors import AnalysisError

DEFAULT_BINS = 10


def default_out(names: list[str]) -> Path:
    """reports/<name>, or reports/<a>_vs_<b>[_vs_...] for several runs."""
    safe = ["".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in n) for n in names]
    return Path("reports") / "_vs_".join(safe)


def render(summary: dict[str, Any]) -> str:
    """The HTML page of a summary."""
    from nasx.report import sections
    from nasx.report.html import page

    names = [r["name"] for r in summary["runs"]]
    title = "nasx report: " + " vs ".join(names)
    parts = [
        ("Overview", sections.overview(summary)),
        ("Error EDFs", sections.edfs(summary)),
    ]
    if summary["comparisons"]:
        parts.append(("Comparison of spaces", sections.comparisons(summary)))
    parts += [
        ("Best of k", sections.best_of_k(summary)),
        ("Good ranges (bootstrap)", sections.good_ranges(summary)),
        ("Error vs complexity and parameters", sections.trends(summary)),
        ("Best models and stage profiles", sections.stages(summary)),
        ("Recipes and space files", sections.spaces(summary)),
    ]
    return page(title, parts)


def _install(tmp: Path, out: Path) -> None:
    """Move a finished temp folder to ``out``, replacing an old report only at the end."""
    old = None
    if out.exists():
        if not out.is_dir():
            raise AnalysisError("the output path exists and is not a folder", file=str(out))
        old = out.with_name(f".{out.name}.old-{tmp.name}")
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_report(run_dirs: list[str | Path], out: str | Path | None = None,
                 normalize: str = "flops", bins: int = DEFAULT_BINS, seed: int = 0) -> Path:
    """Write the report of the given runs; returns the path of its index.html."""
    from nasx.analysis import read_runs, summarize

    if normalize not in ("flops", "params", "none"):
        raise AnalysisError(f"--normalize must be flops, params or none; got {normalize!r}")
    if bins < 1:
        raise AnalysisError(f"--bins must be >= 1; got {bins}")
    runs = read_runs(list(run_dirs))
    summary = summarize(runs, normalize=normalize, bins=bins, seed=seed)
    html = render(summary)
    text = json.dumps(summary, indent=1, allow_nan=False)
    out_dir = Path(out) if out is not None else default_out([r.name for r in runs])
    out_dir = out_dir.absolute()
    made_parent = not out_dir.parent.exists()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; a report is meant to be shared
        (tmp / "index.html").write_text(html, encoding="utf-8")
        (tmp / "summary.json").write_text(text, encoding="utf-8")
        _install(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if made_parent:
            shutil.rmtree(out_dir.parent, ignore_errors=True)
        raise
    return out_dir / "index.html"
