"""``nasx narrow RUN --out NEW.yaml --verify N``: is the narrowed space better than its parent?

N models of the narrowed space are sampled into a new run (beside RUN unless ``--verify-out``),
trained with the parent population's recipe (the narrowed file's ``train:`` block is that recipe;
only execution options may be given: executor, resources, device, threads, data folder), and the
two populations are compared by the report's own machinery (:func:`nasx.report.build_report`:
normalisation by what differs, caveats, the seed-noise floor where ``nasx fidelity`` measured
one); the report shows the parent's and the child's EDFs together. Every step resumes: the
narrowed file is reused when it was narrowed from RUN, the run is reused, finished trials are
never trained again.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasx.errors import RefineError


def check_args(args: argparse.Namespace) -> None:
    """RefineError for a --verify that cannot be run as asked, before anything is written.

    No recipe flag reaches here: narrow takes only the settings that are not part of a recipe
    (``add_training_args(recipe=False)``), so the narrowed population trains as its parent did.
    """
    if args.verify is not None and args.verify < 2:
        raise RefineError(rule="must be >= 2 models", value=args.verify, where="command line",
                          key="verify")


def narrowed_here(out: Path, run: Path) -> bool:
    """Whether ``out`` is a space file that nasx narrow made from ``run`` (then --verify resumes
    with it instead of narrowing again)."""
    from nasx.yamlio import load_yaml

    if not out.is_file():
        return False
    try:
        doc = load_yaml(out.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    lineage = doc.get("lineage") if isinstance(doc, dict) else None
    made_from = (lineage or {}).get("run", {}).get("path") if isinstance(lineage, dict) else None
    return made_from == str(run.resolve())


def child_dir(args: argparse.Namespace) -> Path:
    """The verifying run's folder: --verify-out, else beside RUN and named after OUT."""
    if args.verify_out:
        return Path(args.verify_out)
    return Path(args.run).resolve().parent / Path(args.out).stem


def verdict_sentence(summary: Any, parent: str, child: str) -> str:
    """"the narrowed space is better / not better", from the comparison's verdict."""
    v = summary.comparisons[0].verdict
    if v.significant_conclusion and v.better_conclusion == child:
        return f"the narrowed space is better: {child} beats its parent {parent} ({v.headline})"
    why = (f"its parent {parent} is better" if v.significant_conclusion
           and v.better_conclusion == parent else "no significant difference")
    more = ""
    if v.power is not None and v.power.n:
        more = f"; about {v.power.n} models per space would resolve the observed difference"
    return f"the narrowed space is not better: {why} ({v.headline}){more}"


def verify(args: argparse.Namespace) -> int:
    """Sample, train and compare (see the module docstring); returns the exit status."""
    from nasx.api.runs import refuse_population_pruning
    from nasx.cli.run import sample_or_reuse
    from nasx.cli.train import exec_options, train_and_summarise
    from nasx.errors import printable
    from nasx.report import build_report, verdict_lines

    opts = exec_options(args)
    refuse_population_pruning(opts)
    child = child_dir(args)
    if child.resolve() == Path(args.run).resolve():
        raise RefineError("the verifying run would be the parent run itself; pass --verify-out",
                          where=str(child))
    with sample_or_reuse(args.out, args.verify, None, str(child), opts.progress, opts.overrides,
                         opts.executor, opts.address) as store:
        status = train_and_summarise(store, opts)
    path, summary = build_report([args.run, str(child)])
    for line in verdict_lines(summary):
        print(printable(line))
    parent_name, child_name = (r.name for r in summary.runs)
    print(printable(verdict_sentence(summary, parent_name, child_name)))
    print(printable(str(path)))
    return status
