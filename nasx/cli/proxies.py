"""``nasx proxies RUN``: compute the zero-cost proxies of every trial that has none yet
(resumable, one transaction per trial), then rank them against the finished population."""

from __future__ import annotations

import argparse
import sys
import time
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
    p.add_argument("--batches", type=int, default=1, help="minibatches per trial (default 1)")
    p.add_argument("--batch-size", type=int, default=64, help="images per minibatch (default 64)")
    p.add_argument("--only", default=None, help="comma-separated proxies to compute, params and flops among them"
                   " (default all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N (default cpu)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: one minibatch of a small model is faster"
                   " on one thread)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> list[str]:
    from nasx.errors import TrainError
    from nasx.proxies import check_names

    for key in ("batches", "batch_size", "threads"):
        if getattr(args, key) < 1:
            raise TrainError(f"must be a positive integer; got {getattr(args, key)}",
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
    from nasx.store.proxies import ensure_table, get_proxies

    wanted = _check(args)
    started = time.monotonic()
    with RunStore.open(args.run) as store:
        ensure_table(store)
        have = get_proxies(store)
        todo = [t for t in store.trials() if not set(wanted) <= set(have.get(t.id, {}))]
        failed = _compute(store, todo, wanted, args)
        errors = {t.id: float(t.error) for t in store.finished().trials if t.error is not None}
        have = get_proxies(store)
        name = store.meta().get("name", store.root.name)
    print(f"{name}: proxies of {len(todo) - failed} trials computed, {failed} failed, in"
          f" {time.monotonic() - started:.1f} s", flush=True)
    if errors:
        for line in proxy_table(errors, have, seed=args.seed).lines():
            print(line, flush=True)
    else:
        print("no finished trials yet: no correlation to show", flush=True)
    return 1 if failed else 0


def _compute(store: Any, todo: list[Any], wanted: list[str], args: argparse.Namespace) -> int:
    """Proxies of ``todo`` into the store, one transaction each; returns how many failed."""
    import torch

    threads_before = torch.get_num_threads()
    torch.set_num_threads(args.threads)  # process-wide: restored for in-process callers
    try:
        return _compute_all(store, todo, wanted, args)
    finally:
        torch.set_num_threads(threads_before)


def _compute_all(store: Any, todo: list[Any], wanted: list[str], args: argparse.Namespace) -> int:
    """The loop of :func:`_compute`."""
    from nasx.data.base import DataCache
    from nasx.errors import NasxError
    from nasx.execute.plan import train_block
    from nasx.proxies import proxies_of
    from nasx.store.proxies import put_proxies
    from nasx.train.recipe import resolve_recipe

    block = train_block(store.space_path)
    cache = DataCache()
    names = [n for n in wanted if n not in BASELINES]
    failed = 0
    for i, t in enumerate(todo, 1):
        try:
            recipe = t.recipe or resolve_recipe(block, t.hparams, None,
                                                source=str(store.space_path))
            values = proxies_of(t.spec, recipe, t.seed, batches=args.batches,
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
            print(f"  trial {t.id} ({i}/{len(todo)}): "
                  + ", ".join(f"{k} {v:.4g}" for k, v in values.items()), flush=True)
    return failed
