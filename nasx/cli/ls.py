"""``nasx ls [RUN]``: the trials of a run (table, JSON or CSV), or the runs under a folder."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

FORMATS = ("table", "json", "csv")
STATUSES = ("pending", "running", "done", "failed", "diverged")
SORT_KEYS = ("id", "error", "flops", "params", "acts", "status")


def register(subparsers: Any) -> None:
    """Add the ``ls`` verb."""
    p = subparsers.add_parser(
        "ls", help="list the trials of a run (or the runs in a folder)",
        description="List a run's trials with their status, sampled values, complexity and error"
        " (test top-1 error in %%, empty until trained). Given a folder of runs (default: runs),"
        " list the runs with their trial counts.",
    )
    p.add_argument("run", nargs="?", default="runs", metavar="RUN",
                   help="run folder, or a folder holding runs (default: runs)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument("--status", choices=STATUSES, action="append", default=None,
                   help="only trials with this status (repeatable)")
    p.add_argument("--sort", choices=SORT_KEYS, default="id",
                   help="sort key (error: best first, unfinished last)")
    p.add_argument("--limit", type=int, default=None, help="show at most this many rows")
    p.set_defaults(func=run)


def trial_rows(run_dir: str | Path, status: list[str] | None = None, sort: str = "id",
               limit: int | None = None) -> list[dict[str, Any]]:
    """One JSON-able dict per trial of a run (the ``--format json`` objects)."""
    from nasx.store import RunStore

    with RunStore.open(run_dir) as store:
        trials = store.trials(status=status)
    rows = [
        {
            "id": t.id, "origin": t.origin, "status": t.status, "attempts": t.attempts,
            "seed": t.seed, "values": t.values, "hparams": t.hparams, "flops": t.flops,
            "params": t.params, "acts": t.acts, "error": t.error,
            "train_seconds": t.train_seconds, "device": t.device, "message": t.message,
        }
        for t in trials
    ]
    if sort == "error":
        rows.sort(key=lambda r: (r["error"] is None, r["error"] or 0.0, r["id"]))
    elif sort != "id":
        rows.sort(key=lambda r: (r[sort], r["id"]))
    return rows[:limit] if limit is not None else rows


def _varying(rows: list[dict[str, Any]], field: str) -> list[str]:
    """Keys of ``field`` (values/hparams) that differ between trials: the informative columns."""
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r[field]))
    return [k for k in keys if len({json.dumps(r[field].get(k)) for r in rows}) > 1]


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _console() -> Any:
    """A console that does not squeeze wide tables when the output is a pipe or a file."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 240)


def _print_table(rows: list[dict[str, Any]], title: str) -> None:
    from rich.table import Table

    vkeys, hkeys = _varying(rows, "values"), _varying(rows, "hparams")
    table = Table(title=title, title_justify="left")
    for col in ("id", "status", "flops(M)", "params(M)", "error(%)", *vkeys, *hkeys):
        table.add_column(col, justify="left" if col == "status" else "right")
    for r in rows:
        table.add_row(
            str(r["id"]), r["status"], f"{r['flops'] / 1e6:.1f}", f"{r['params'] / 1e6:.2f}",
            _fmt(r["error"]), *(_fmt(r["values"].get(k)) for k in vkeys),
            *(_fmt(r["hparams"].get(k)) for k in hkeys),
        )
    _console().print(table)


def _print_csv(rows: list[dict[str, Any]]) -> None:
    flat = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in ("values", "hparams")}
        row.update({f"v.{k}": v for k, v in r["values"].items()})
        row.update({f"h.{k}": v for k, v in r["hparams"].items()})
        flat.append(row)
    fields: dict[str, None] = {}
    for row in flat:
        fields.update(dict.fromkeys(row))
    writer = csv.DictWriter(sys.stdout, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)


def run_rows(folder: Path) -> list[dict[str, Any]]:
    """One dict per run found directly under ``folder``: name, family, counts, best error."""
    from nasx.store import RunStore

    out = []
    for sub in sorted(p for p in folder.iterdir() if RunStore.exists(p)):
        with RunStore.open(sub) as store:
            meta, counts = store.meta(), store.counts()
            done = [t.error for t in store.trials(status="done") if t.error is not None]
        out.append({"run": str(sub), "name": meta.get("name"), "family": meta.get("family"),
                    "trials": sum(counts.values()), **counts,
                    "best_error": min(done) if done else None})
    return out


def run(args: argparse.Namespace) -> int:
    """Print the listing."""
    from nasx.errors import StoreError
    from nasx.store import RunStore

    path = Path(args.run)
    if not RunStore.exists(path):
        if not path.is_dir():
            raise StoreError("no run here (expected a run folder or a folder of runs)",
                             file=str(path))
        runs = run_rows(path)
        if args.format == "json":
            print(json.dumps(runs, indent=1))
        elif args.format == "csv":
            writer = csv.DictWriter(sys.stdout, fieldnames=list(runs[0]) if runs else ["run"],
                                    lineterminator="\n")
            writer.writeheader()
            writer.writerows(runs)
        else:
            _print_runs(runs, path)
        return 0
    rows = trial_rows(path, status=args.status, sort=args.sort, limit=args.limit)
    if args.format == "json":
        print(json.dumps(rows, indent=1))
    elif args.format == "csv":
        _print_csv(rows)
    else:
        _print_table(rows, f"{path} ({len(rows)} trials)")
    return 0


def _print_runs(runs: list[dict[str, Any]], folder: Path) -> None:
    from rich.table import Table

    if not runs:
        print(f"no runs in {folder}")
        return
    table = Table(title=f"runs in {folder}", title_justify="left")
    cols = ("run", "family", "trials", *STATUSES, "best_error")
    for col in cols:
        table.add_column(col, justify="left" if col in ("run", "family") else "right")
    for r in runs:
        table.add_row(*(_fmt(r[c]) for c in cols))
    _console().print(table)
