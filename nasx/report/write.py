"""``write_report``: analyse runs, draw the figures, write index.html + summary.json atomically.

The default folder is named after the run folder(s) (``reports/a``, ``reports/a__vs__b``), and a
folder holding another run's report is never silently replaced.

Everything is computed and rendered in memory first (a user error leaves no trace on disk), then
written into a temporary folder beside the target and renamed into place, so a failing report
leaves nothing half-written and an old report is replaced only by a complete new one.
"""

from __future__ import annotations

import errno
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasx.analysis.carry import check_options
from nasx.errors import AnalysisError
from nasx.fsutil import InstallError, atomic_folder, temp_folder_beside

if TYPE_CHECKING:
    from nasx.analysis.load import RunData
    from nasx.analysis.results import Summary
    from nasx.report.sections.base import Built, Section

DEFAULT_BINS = 10


def default_out(names: list[str]) -> Path:
    """reports/<run folder>, or reports/<a>__vs__<b>[__vs__...] for several runs."""
    safe = ["".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in n) for n in names]
    return Path("reports") / "__vs__".join(safe)


def _owners(out: Path) -> list[str] | None:
    """The resolved run folders a report folder was written for (None: not known)."""
    try:
        data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    owners = data.get("report_of")
    if isinstance(owners, list):
        return [str(o) for o in owners]
    try:  # a report of an older nasx: its run folders as given, relative to where it ran
        return [str(Path(r["root"]).resolve()) for r in data["runs"]]
    except (KeyError, TypeError):
        return None


def check_out(out: Path, roots: list[str], force: bool = False) -> None:
    """AnalysisError unless ``out`` is free, or holds the report of these very runs.

    A report of other runs is replaced only with ``force``; a folder that is not a nasx report
    (no summary.json) is never replaced: it may hold anything.
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise AnalysisError("the output path exists and is not a folder", where=str(out))
    if not (out / "summary.json").is_file():
        if any(out.iterdir()):
            raise AnalysisError("the output folder exists and is not a nasx report; choose"
                                " another --out", where=str(out))
        return
    owners = _owners(out)
    if owners == roots or force:
        return
    what = ", ".join(owners) if owners else "runs it does not record (an older nasx)"
    raise AnalysisError(f"the folder holds the report of {what}, not of {', '.join(roots)};"
                        " choose another --out, or --force to replace it", where=str(out))


def render(summary: Summary, sections: Sequence[Section[Any]] | None = None,
           runs: Sequence[RunData] = ()) -> str:
    """The HTML page of a summary: the shown ones of ``sections`` (default: the registry,
    :data:`nasx.report.sections.SECTIONS`), computed from the summary and ``runs``."""
    from nasx.report.sections.base import Context, compute_all

    return page_of(summary, compute_all(Context(summary, runs), _registry(sections)))


def _registry(sections: Sequence[Section[Any]] | None) -> Sequence[Section[Any]]:
    if sections is not None:
        return sections
    from nasx.report.sections import SECTIONS

    return SECTIONS


def page_of(summary: Summary, built: Sequence[Built]) -> str:
    """The HTML page of computed sections (see :func:`nasx.report.sections.base.compute_all`):
    their shown ones, in order."""
    from nasx.report.html import page
    from nasx.report.sections.base import page_parts

    title = "nasx report: " + " vs ".join(r.name for r in summary.runs)
    return page(title, page_parts(built))


def _summary_json(summary: Summary, built: Sequence[Built]) -> str:
    """summary.json: the Summary's JSON, then the entries of the sections with a key."""
    from nasx.report.sections.base import json_parts

    data = summary.to_json()
    data.update(json_parts(built, list(data)))
    return json.dumps(data, indent=1, allow_nan=False)


def build_report(run_dirs: list[str | Path], out: str | Path | None = None,
                 normalize: str = "auto", bins: int = DEFAULT_BINS, seed: int = 0,
                 force: bool = False, allow_incomparable: bool = False, *,
                 sections: Sequence[Section[Any]] | None = None) -> tuple[Path, Summary]:
    """Write the report of the given runs; returns the path of its index.html and the summary.

    The default folder is named after the run folders; a folder holding another run's report is
    not replaced unless ``force`` (see :func:`check_out`). ``sections``: the page's sections in
    order (default: the registry, :data:`nasx.report.sections.SECTIONS`).
    """
    from nasx.analysis import read_runs, summarize
    from nasx.report.sections.base import Context, compute_all

    check_options(normalize, bins)
    runs = read_runs(list(run_dirs), allow_incomparable=allow_incomparable)
    summary = summarize(runs, normalize=normalize, bins=bins, seed=seed)
    out_dir = Path(out) if out is not None else default_out([r.root.resolve().name
                                                             for r in runs])
    out_dir = out_dir.absolute()
    check_out(out_dir, summary.report_of, force)
    built = compute_all(Context(summary, runs), _registry(sections))
    html = page_of(summary, built)
    text = _summary_json(summary, built)
    made_parent = not out_dir.parent.exists()
    try:
        # 0755 whatever the umask: a report is meant to be shared. An old report is replaced only
        # once the new one is complete.
        tmp = temp_folder_beside(out_dir, mode=0o755)
        with atomic_folder(out_dir, tmp=tmp, replace=True) as folder:
            (folder / "index.html").write_text(html, encoding="utf-8")
            (folder / "summary.json").write_text(text, encoding="utf-8")
    except BaseException as exc:
        if made_parent:
            shutil.rmtree(out_dir.parent, ignore_errors=True)
        if isinstance(exc, InstallError) and exc.errno == errno.ENOTDIR:  # a file took its place
            raise AnalysisError(exc.strerror, where=str(out_dir)) from None
        raise
    return out_dir / "index.html", summary


def write_report(run_dirs: list[str | Path], out: str | Path | None = None,
                 normalize: str = "auto", bins: int = DEFAULT_BINS, seed: int = 0,
                 force: bool = False, allow_incomparable: bool = False, *,
                 sections: Sequence[Section[Any]] | None = None) -> Path:
    """Write the report of the given runs; returns the path of its index.html."""
    return build_report(run_dirs, out, normalize, bins, seed, force, allow_incomparable,
                        sections=sections)[0]


def verdict_lines(summary: Summary) -> list[str]:
    """The headline of every comparison, then their full verdicts; or the one-line summary of a
    single run."""
    from nasx.analysis.multiple import in_family_order
    from nasx.report.sections.overview import run_line

    if summary.comparisons:
        comps = in_family_order(summary.comparisons, summary.family)
        rule = ([summary.family.rule + "."]
                if summary.family is not None and summary.family.size > 1 else [])
        longer = [lv.sentence for c in comps for lv in (c.long or [])]
        return ([c.verdict.headline for c in comps] + rule + longer
                + [c.verdict.text for c in comps])
    return [run_line(r) for r in summary.runs]
