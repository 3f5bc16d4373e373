"""``nasx proxies RUN``: compute the zero-cost proxies of every trial that has none yet
(resumable, one transaction per trial), then rank them against the finished population.

Proxies are computed once per (architecture, seed, training data): a trial that repeats one
already covered gets a copy, and fidelity retrains (the population's noise, never correlated) are
skipped. ``--proxies`` of ``nasx train`` / ``nasx run`` calls :func:`compute_missing` too."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

BASELINES = ("params", "flops")  # stored complexity, judged beside the proxies


def register(subparsers: Any) -> None:
    """Add the ``proxies`` verb."""
    p = subparsers.add_parser(
        "proxies", help="compute zero-cost proxies of a run's trials and rank them",
        description="Compute the zero-cost proxies (synflow, snip, grad_norm, jacob_cov, naswot,"
        " zico; params and flops as baselines) of every trial of the run that has none yet, at"
        " its seeded initialisation on minibatches of its training data; then print each one's"
        " Spearman and Kendall correlation with the validation error of the finished"
        " population. Re-running computes only what is missing.",
    )
    p.add_argument("run", metavar="RUN", help="run folder")
    add_options(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def add_options(p: argparse.ArgumentParser) -> None:
    """--batches, --batch-size, --only, --device, --threads (their defaults serve ``--proxies``
    at training time too)."""
    p.add_argument("--batches", type=int, default=1, help="minibatches per trial (default 1)")
    p.add_argument("--batch-size", type=int, default=64, help="images per minibatch (default 64)")
    p.add_argument("--only", default=None, help="comma-separated proxies to compute, params and"
                   " flops among them (default all)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N (default cpu)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: one minibatch of a small model is faster"
                   " on one thread)")


def defaults(progress: bool) -> argparse.Namespace:
    """The options of ``nasx proxies`` at their defaults (what ``--proxies`` computes)."""
    p = argparse.ArgumentParser(add_help=False)
    add_options(p)
    return argparse.Namespace(**vars(p.parse_args([])), no_progress=not progress)


def _check(args: argparse.Namespace) -> list[str]:
    from nasx.errors import TrainError
    from nasx.proxies import check_names

    for key in ("batches", "batch_size", "threads"):
        if getattr(args, key) < 1:
            raise TrainError(rule="must be a positive integer", value=getattr(args, key),
                             key=f"--{key.replace('_', '-')}")
    names = None if args.only is None else [n.strip() for n in args.only.split(",") if n.strip()]
    if names is None:
        return check_names(None) + list(BASELINES)
    return check_names([n for n in names if n not in BASELINES]) + [
        b for b in BASELINES if b in names]


def run(args: argparse.Namespace) -> int:
    """Compute what is missing, print progress, errors and the correlation table."""
    from nasx.analysis.proxies import proxy_table
    from nasx.store import RunStore
    from nasx.store.proxies import get_proxies

    _check(args)
    with RunStore.open(args.run) as store:
        done = compute_missing(store, args)
        errors = {t.id: float(t.error) for t in store.finished().trials if t.error is not None}
        have = get_proxies(store)
    print(done.line(), flush=True)
    if errors:
        for line in proxy_table(errors, have, seed=args.seed).lines():
            print(line, flush=True)
    else:
        print("no finished trials yet: no correlation to show", flush=True)
    return 1 if done.failed else 0


@dataclass(frozen=True)
class Computed:
    """What one pass over a run's trials did."""

    name: str
    computed: int  # trials whose proxies were computed (failed ones included)
    failed: int
    copied: int  # same architecture, seed and data as a covered trial: its values copied
    skipped: int  # fidelity retrains: the population's noise, never correlated
    seconds: float

    def line(self) -> str:
        """One line for the terminal."""
        line = (f"{self.name}: proxies of {self.computed - self.failed} trials computed,"
                f" {self.failed} failed, in {self.seconds:.1f} s")
        if self.copied:
            line += (f"; {self.copied} copied from a trial of the same architecture, seed and"
                     " data (same initialisation and minibatch)")
        if self.skipped:
            line += f"; {self.skipped} fidelity retrains skipped (not models of the search)"
        return line


# Recipe keys that cannot change a proxy (computed at initialisation on a minibatch drawn from
# the training images): trials that differ only in them have the same proxies. A key not listed
# (a new one) counts as data, so an unknown key never makes two trials share values wrongly.
SCHEDULE_KEYS = frozenset({
    "epochs", "batch_size", "optimizer", "lr", "momentum", "nesterov", "weight_decay",
    "warmup_epochs", "warmup_factor", "label_smoothing", "augment", "device", "amp",
    "channels_last", "eval_every", "threads", "compile", "deterministic"})

Key = tuple[str, int, str]


def compute_missing(store: Any, args: argparse.Namespace,
                    overrides: Mapping[str, Any] | None = None) -> Computed:
    """Store the proxies of every trial lacking one that ``args`` asks for, computed once per
    (architecture, seed, data): the other trials of a key get a copy; fidelity retrains are
    skipped. ``overrides`` (the command line's recipe overrides) apply to trials not yet
    trained, as the driver will apply them."""
    from nasx.store.proxies import ensure_table, get_proxies

    wanted = _check(args)
    started = time.monotonic()
    ensure_table(store)
    have = get_proxies(store)
    trials = store.trials()
    covered = {t.id for t in trials if set(wanted) <= set(have.get(t.id, {}))}
    lacking = [t for t in trials if t.id not in covered]
    todo = [t for t in lacking if t.origin != "fidelity"]
    recipe_of = _recipes(store, overrides)
    source: dict[Key, int] = {}
    for t in trials:
        if t.id in covered and (k := _key(t, recipe_of)) is not None:
            source.setdefault(k, t.id)
    groups: dict[Key | int, list[Any]] = {}  # trials of one key together; no key: alone
    for t in todo:
        groups.setdefault(_key(t, recipe_of) or t.id, []).append(t)
    copies = [(ts, source[k]) for k, ts in groups.items() if not isinstance(k, int) and k in source]
    compute = [ts for k, ts in groups.items() if isinstance(k, int) or k not in source]
    for ts, src in copies:
        _copy(store, ts, have[src], wanted, src, args)
    failed, copied = _compute(store, compute, wanted, args, recipe_of)
    name = store.meta().get("name", store.root.name)
    return Computed(name=str(name), computed=len(compute), failed=failed,
                    copied=copied + sum(len(ts) for ts, _ in copies),
                    skipped=len(lacking) - len(todo), seconds=time.monotonic() - started)


def _recipes(store: Any, overrides: Mapping[str, Any] | None) -> Callable[[Any], Any]:
    """Trial -> the recipe its proxies use: the one it was trained with, else the space's
    ``train:`` block with its sampled hparams and ``overrides``."""
    from nasx.train.recipe import space_recipe

    space = store.space()
    return lambda t: t.recipe or space_recipe(space, t.hparams, overrides,
                                              source=str(store.space_path))


def _key(t: Any, recipe_of: Callable[[Any], Any]) -> Key | None:
    """(architecture fingerprint, seed, data keys of the recipe); None when no recipe resolves
    (the computation then reports why)."""
    from nasx.errors import NasxError

    try:
        recipe = recipe_of(t).to_dict()
    except (NasxError, ValueError):
        return None
    data = {k: v for k, v in recipe.items() if k not in SCHEDULE_KEYS}
    return t.spec.fingerprint(), int(t.seed), json.dumps(data, sort_keys=True, default=str)


def _copy(store: Any, trials: list[Any], values: Mapping[str, float | None], wanted: list[str],
          source: int, args: argparse.Namespace) -> None:
    """The proxies of trial ``source`` into each of ``trials``, one transaction each."""
    from nasx.store.proxies import put_proxies

    for t in trials:
        got = {n: float("nan") if v is None else v for n, v in values.items()
               if n in wanted and n not in BASELINES}
        got.update({b: float(getattr(t, b)) for b in BASELINES if b in wanted})
        put_proxies(store, t.id, got)
        if not args.no_progress:
            print(f"  trial {t.id}: copied from trial {source}", flush=True)


def _compute(store: Any, groups: list[list[Any]], wanted: list[str], args: argparse.Namespace,
             recipe_of: Callable[[Any], Any]) -> tuple[int, int]:
    """Proxies of the first trial of each group into the store, copied to the others, one
    transaction per trial; returns (failed, copied)."""
    import torch

    threads_before = torch.get_num_threads()
    torch.set_num_threads(args.threads)  # process-wide: restored for in-process callers
    try:
        return _compute_all(store, groups, wanted, args, recipe_of)
    finally:
        torch.set_num_threads(threads_before)


def _compute_all(store: Any, groups: list[list[Any]], wanted: list[str],
                 args: argparse.Namespace, recipe_of: Callable[[Any], Any]) -> tuple[int, int]:
    """The loop of :func:`_compute`."""
    from nasx.data.base import DataCache
    from nasx.errors import NasxError
    from nasx.proxies import proxies_of
    from nasx.store.proxies import put_proxies

    cache = DataCache()
    names = [n for n in wanted if n not in BASELINES]
    failed = copied = 0
    for i, (t, *rest) in enumerate(groups, 1):
        try:
            values = proxies_of(t.spec, recipe_of(t), t.seed, batches=args.batches,
                                batch_size=args.batch_size, names=names, cache=cache,
                                device=args.device)
        except (NasxError, RuntimeError, ValueError) as exc:
            failed += 1
            text = " ".join(str(exc).split())[:300]
            print(f"nasx proxies: trial {t.id}: {type(exc).__name__}: {text}", file=sys.stderr)
            continue
        values.update({b: float(getattr(t, b)) for b in BASELINES if b in wanted})
        put_proxies(store, t.id, values)
        if not args.no_progress:
            print(f"  trial {t.id} ({i}/{len(groups)}): "
                  + ", ".join(f"{k} {v:.4g}" for k, v in values.items()), flush=True)
        _copy(store, rest, values, wanted, t.id, args)
        copied += len(rest)
    return failed, copied
