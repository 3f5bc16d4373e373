"""Reading runs for the public API: compare, report, narrow, refine and export. The CLI verbs of
the same names parse their arguments, call these, and print."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasx.api.runs import Run, read_run

if TYPE_CHECKING:
    from nasx.analysis.results import PairComparison
    from nasx.execute.options import ExecOptions
    from nasx.refine.study import RefineSummary

RunLike = str | Path | Run


def _path(run: RunLike) -> Path:
    return run.path if isinstance(run, Run) else Path(run)


def compare(run_a: RunLike, run_b: RunLike, *, normalize: str = "auto", bins: int = 10,
            seed: int = 0, alpha: float = 0.05,
            allow_incomparable: bool = False) -> PairComparison:
    """The comparison of two runs that ``nasx report A B`` shows: plain tests, the verdict and
    its headline (``.verdict.headline``), the normalised comparisons and the caveats."""
    from nasx.analysis import read_runs, summarize
    from nasx.analysis.carry import check_options

    check_options(normalize, bins)
    runs = read_runs([_path(run_a), _path(run_b)], allow_incomparable=allow_incomparable)
    summary = summarize(runs, normalize=normalize, bins=bins, seed=seed,
                        alpha=alpha)
    return summary.comparisons[0]


def report(runs: RunLike | Sequence[RunLike], out: str | Path | None = None, *,
           normalize: str = "auto", bins: int = 10, seed: int = 0, force: bool = False,
           allow_incomparable: bool = False, sections: Sequence[Any] | None = None) -> Path:
    """Write the HTML report and summary.json of one or several runs; the path of index.html.

    ``sections``: the page's sections (default: every registered one), e.g.
    ``nasx.report.sections.with_section(MY_SECTION, after="Best of k")``."""
    from nasx.report import write_report

    many = [runs] if isinstance(runs, (str, Path, Run)) else list(runs)
    return write_report([_path(r) for r in many], out=out, normalize=normalize, bins=bins,
                        seed=seed, force=force, allow_incomparable=allow_incomparable,
                        sections=sections)


def narrow(run: RunLike, out: str | Path, **options: Any) -> Any:
    """Write a narrower space file from a trained run (``nasx narrow``); its result has
    ``lines()`` saying what was cut and why."""
    from nasx.refine.narrow import narrow as narrow_run

    return narrow_run(str(read_run(run).path), str(out), **options)


def refine(run: RunLike, trials: int, *, sampler: str | None = None,
           objectives: Sequence[str] = ("error",), storage: str | None = None,
           study: str | None = None, batch: int = 1, seed: int = 0, prerank: str | None = None,
           oversample: int = 1, options: ExecOptions | None = None,
           **kwargs: Any) -> RefineSummary:
    """Train ``trials`` new trials suggested by Optuna inside the run's space (``nasx refine``);
    execution keyword arguments as :func:`nasx.api.train` (``prune`` names Optuna's pruner)."""
    from nasx.api.execution import options_from
    from nasx.refine.options import RefineOptions
    from nasx.refine.study import refine as refine_run

    exec_opts = options if options is not None else options_from(**kwargs)
    opts = RefineOptions(trials=trials, sampler=sampler, objectives=tuple(objectives),
                         storage=storage, study=study, prune=exec_opts.prune, batch=batch,
                         seed=seed, prerank=prerank, oversample=oversample)
    return refine_run(read_run(run).path, opts, exec_opts)


def export(run: RunLike, out: str | Path, *, trial: int | None = None, best: bool = False,
           objective: str = "error", formats: str | Sequence[str] = "yaml,safetensors,"
           "torchscript,onnx", train: bool = False, epochs: int | None = None,
           device: str | None = None, data_dir: str | Path | None = None) -> Path:
    """Export one trial (``trial``, or ``best=True``) as spec YAML, safetensors, TorchScript and
    ONNX with provenance.json into ``out`` (``nasx export``); returns ``out``."""
    from nasx.errors import ExportError
    from nasx.export import export_trial

    if (trial is None) == (not best):
        raise ExportError("give a trial id or best=True (one of them)", key="--trial/--best")
    if objective != "error" and not best:
        raise ExportError("--objective only applies with --best", key="--objective")
    overrides = {"device": device, "data_dir": str(Path(data_dir).resolve()) if data_dir else None}
    fmts = formats if isinstance(formats, str) else ",".join(formats)
    return Path(export_trial(read_run(run).path, trial, best=best, objective=objective,
                             formats=fmts, out=out, train=train, epochs=epochs,
                             overrides={k: v for k, v in overrides.items() if v is not None}))
