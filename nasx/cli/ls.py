"""``nasx ls [RUN]``: the trials of a run (table, JSON or CSV), or the runs under a folder.

``error`` is the validation top-1 error (what every selection uses); ``test_error`` is shown
beside it. Read-only: the store is opened with ``readonly=True`` (SQLite ``query_only``). Text from
user files reaches the terminal with control characters escaped (table and CSV cells; JSON escapes
them itself) and never as rich markup.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import Any

from nasx.errors import printable
from nasx.status import TrialStatus as S
from nasx.store.records import STATUSES
from nasx.types import JSONObject, JSONValue

FORMATS = ("table", "json", "csv")
SORT_KEYS = ("id", "error", "test_error", "flops", "params", "acts", "status")


def _count(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``ls`` verb."""
    p = subparsers.add_parser(
        "ls", help="list the trials of a run (or the runs in a folder)",
        description="List a run's trials with their status, sampled values, complexity and"
        " errors in %% (empty until trained): the validation error (`error`, what selection"
        " uses) and the test error beside it. Given a folder of runs (default: runs), list the"
        " runs with their trial counts; unreadable runs are skipped with a note on stderr.",
    )
    p.add_argument("run", nargs="?", default="runs", metavar="RUN",
                   help="run folder, or a folder holding runs (default: runs)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument("--status", choices=STATUSES, action="append", default=None,
                   help="only trials with this status (repeatable)")
    p.add_argument("--sort", choices=SORT_KEYS, default="id",
                   help="sort key (error = validation error, best first, unfinished last)")
    p.add_argument("--limit", type=_count, default=None, help="show at most this many rows")
    p.set_defaults(func=run)


def trial_rows(run_dir: str | Path, status: list[str] | None = None, sort: str = "id",
               limit: int | None = None) -> list[JSONObject]:
    """One JSON object per trial of a run: what ``--format json`` prints, table and CSV show."""
    from nasx.store import RunStore

    with RunStore.open(run_dir, readonly=True) as store:
        trials = store.trials(status=status)
    rows = [
        {
            "id": t.id, "origin": t.origin.value, "status": t.status.value, "attempts": t.attempts,
            "seed": t.seed, "values": t.values, "hparams": t.hparams, "flops": t.flops,
            "params": t.params, "acts": t.acts, "error": t.val_error, "val_error": t.val_error,
            "test_error": t.test_error, "train_seconds": t.train_seconds, "device": t.device,
            "message": t.message, "epochs": len(t.curves or []),
            "of_epochs": (t.stored_recipe or {}).get("epochs"),  # undecoded: cheap for 500 rows
        }
        for t in trials
    ]
    if sort in ("error", "test_error"):
        rows.sort(key=lambda r: (r[sort] is None, r[sort] or 0.0, r["id"]))
    elif sort != "id":
        rows.sort(key=lambda r: (r[sort], r["id"]))
    return rows[:limit] if limit is not None else rows


def _varying(rows: list[JSONObject], field: str) -> list[str]:
    """Keys of ``field`` (values/hparams) that differ between trials: the informative columns."""
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r[field]))
    return [k for k in keys if len({json.dumps(r[field].get(k)) for r in rows}) > 1]


def _finite(obj: JSONValue) -> JSONValue:
    """``obj`` with NaN and infinities as None: strict JSON that jq and browsers accept."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _fmt(v: JSONValue) -> str:
    """A cell of a table: short numbers, control characters of user files escaped."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return printable(v)


def _console() -> Any:
    """A console that does not squeeze wide tables when the output is a pipe or a file."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError  # `nasx` exits quietly with 141 for every format alike

    return PipeConsole(width=None if sys.stdout.isatty() else 240)


def _table(title: str, columns: list[str], rows: list[list[str]], left: set[str]) -> Any:
    """A rich table whose cells are plain text: no markup, no emoji codes from user data."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(printable(title)), title_justify="left")
    for col in columns:
        table.add_column(Text(printable(col)), justify="left" if col in left else "right")
    for cells in rows:
        table.add_row(*(Text(c) for c in cells))
    return table


def _status_cell(r: JSONObject) -> str:
    """The status, with the epoch a running (or pruned) trial has reached: ``running 3/10``."""
    if r["status"] in (S.RUNNING, S.PRUNED) and r["of_epochs"]:
        return f"{r['status']} {r['epochs']}/{r['of_epochs']}"
    return str(r["status"])


def _print_table(rows: list[JSONObject], title: str) -> None:
    vkeys, hkeys = _varying(rows, "values"), _varying(rows, "hparams")
    columns = ["id", "status", "flops(M)", "params(M)", "val err %", "test err %", *vkeys, *hkeys]
    cells = [
        [str(r["id"]), _status_cell(r), f"{r['flops'] / 1e6:.1f}", f"{r['params'] / 1e6:.2f}",
         _fmt(r["val_error"]), _fmt(r["test_error"]), *(_fmt(r["values"].get(k)) for k in vkeys),
         *(_fmt(r["hparams"].get(k)) for k in hkeys)]
        for r in rows
    ]
    _console().print(_table(title, columns, cells, {"status"}))


def _csv_cell(v: JSONValue) -> JSONValue:
    """Text cells with control characters escaped (JSON output keeps them, JSON-escaped)."""
    return printable(v) if isinstance(v, str) else v


def _write_csv(rows: list[JSONObject], fields: list[str]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=[printable(f) for f in fields],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows({printable(k): _csv_cell(v) for k, v in row.items()} for row in rows)


def _print_csv(rows: list[JSONObject]) -> None:
    flat = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in ("values", "hparams")}
        row.update({f"v.{k}": v for k, v in r["values"].items()})
        row.update({f"h.{k}": v for k, v in r["hparams"].items()})
        flat.append(row)
    fields: dict[str, None] = {}
    for row in flat:
        fields.update(dict.fromkeys(row))
    _write_csv(flat, list(fields))


def _run_row(sub: Path) -> JSONObject:
    from nasx.store import RunStore

    with RunStore.open(sub, readonly=True) as store:
        meta, counts = store.meta(), store.counts()
        # every finished trial ranks here, whatever its origin or recipe
        done = store.finished(origins=None, any_recipe=True, stopped_early=True).trials
    best = min(done, key=lambda t: (t.error or 0.0, t.id)) if done else None
    return {"run": str(sub), "name": meta.get("name"), "family": meta.get("family"),
            "trials": sum(counts.values()), **counts,
            "best_val_error": best.val_error if best else None,
            "best_test_error": best.test_error if best else None}


def run_rows(folder: Path, skipped: list[str] | None = None) -> list[JSONObject]:
    """One JSON object per run found directly under ``folder``: name, family, counts, best errors.

    The best trial is the one with the lowest validation error; ``best_test_error`` is its test
    error. A run that cannot be read is left out, its one-line reason appended to ``skipped``.
    """
    from nasx.errors import NasxError
    from nasx.store.run_store import DB_NAME

    out = []
    for sub in sorted(folder.iterdir()):
        try:
            if not (sub / DB_NAME).exists():
                continue
            out.append(_run_row(sub))
        except (NasxError, OSError) as exc:
            reason = str(exc) if isinstance(exc, NasxError) else f"{sub}: {exc.strerror or exc}"
            if skipped is not None:
                skipped.append(reason)
    return out


def run(args: argparse.Namespace) -> int:
    """Print the listing."""
    from nasx.errors import StoreError
    from nasx.store.run_store import DB_NAME

    path = Path(args.run)
    if not (path / DB_NAME).exists():
        if not path.is_dir():
            raise StoreError("no run here (expected a run folder or a folder of runs)",
                             where=str(path))
        skipped: list[str] = []
        runs = run_rows(path, skipped)
        for reason in skipped:  # before the listing: a pipe reader may stop early
            print(f"nasx ls: skipping a run: {printable(reason, 300)}", file=sys.stderr)
        if args.format == "json":
            print(json.dumps(_finite(runs), indent=1))
        elif args.format == "csv":
            _write_csv(runs, list(runs[0]) if runs else ["run"])
        else:
            _print_runs(runs, path)
        return 0
    rows = trial_rows(path, status=args.status, sort=args.sort, limit=args.limit)
    if args.format == "json":
        print(json.dumps(_finite(rows), indent=1))
    elif args.format == "csv":
        _print_csv(rows)
    else:
        _print_table(rows, f"{path} ({len(rows)} trials)")
    return 0


def _print_runs(runs: list[JSONObject], folder: Path) -> None:
    if not runs:
        print(f"no runs in {printable(folder)}")
        return
    cols = ["run", "family", "trials", *STATUSES, "best_val_error", "best_test_error"]
    headers = [*cols[:-2], "best val err %", "its test err %"]
    cells = [[_fmt(r[c]) for c in cols] for r in runs]
    _console().print(_table(f"runs in {folder}", headers, cells, {"run", "family"}))
