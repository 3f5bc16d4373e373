"""``nasx data prepare | info | verify``: the prepared store of a data set.

``prepare`` converts a source once (every core, progress with images/s and ETA, restartable after
a kill, atomic); training prepares the same way on first use, so this verb is for doing it ahead
(or into ``--out``). ``info`` prints what a prepared set holds; ``verify`` checks its checksum.
A set is named by ``--data/--data-dir/--size`` (as training names it) or by its folder.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any


def _kinds() -> str:
    """The data sets' names for help texts (the registry's, in its order)."""
    from nasx.data.sets import help_line

    return help_line()


def _selection(p: argparse.ArgumentParser, *, path: bool) -> None:
    if path:
        p.add_argument("path", nargs="?", default=None, metavar="PATH",
                       help="a prepared folder (instead of --data/--data-dir/--size)")
    p.add_argument("--data", default=None, help=_kinds())
    p.add_argument("--data-dir", default=None, help="folder of the source")
    p.add_argument("--size", type=int, default=None,
                   help="stored image size S (S x S); image folders and synthetic data need it, "
                   "fixed-size sets default to their own")
    p.add_argument("--channels", type=int, default=3, choices=(1, 3),
                   help="3 (RGB, default) or 1 (greyscale) for image folders and synthetic data")
    p.add_argument("--format", default="raw",
                   help="raw (uint8 pixels, default) or jpeg (JPEG q90 bytes: ~10x smaller at 224 "
                   "px; train with --data-dir naming the prepared folder)")
    p.add_argument("--synthetic-train", type=int, default=50000, help="synthetic training images")
    p.add_argument("--synthetic-test", type=int, default=10000, help="synthetic test images")
    p.add_argument("--synthetic-classes", type=int, default=10, help="synthetic classes")


def register(subparsers: Any) -> None:
    """Add the ``data`` verb and its sub-verbs."""
    p = subparsers.add_parser("data", help="prepare, inspect and verify prepared data sets",
                              description=__doc__.split("\n\n")[1] if __doc__ else None)
    sub = p.add_subparsers(dest="data_verb", metavar="ACTION")
    prep = sub.add_parser("prepare", help="convert a source into a prepared store once")
    _selection(prep, path=False)
    prep.add_argument("--out", default=None, help="write it here instead of the cache folder")
    prep.add_argument("--skip-bad", action="store_true",
                      help="leave unreadable images out (and count them) instead of stopping")
    prep.set_defaults(func=run_prepare)
    info = sub.add_parser("info", help="what a prepared set holds")
    _selection(info, path=True)
    info.set_defaults(func=run_info)
    ver = sub.add_parser("verify", help="check a prepared set against its header's checksum")
    _selection(ver, path=True)
    ver.set_defaults(func=run_verify)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _spec(args: argparse.Namespace) -> Any:  # noqa: ANN401 - a SourceSpec
    from nasx.data.sources import describe
    from nasx.errors import DataError

    if args.format not in ("raw", "jpeg"):
        raise DataError(rule="format must be raw or jpeg", value=args.format, key="--format")
    if not args.data:
        raise DataError(f"name the data set: --data {_kinds()}", key="--data")
    return describe(args.data, args.data_dir, args.size, args.channels,
                    (args.synthetic_train, args.synthetic_test, args.synthetic_classes))


def _folder(args: argparse.Namespace) -> Path:
    from nasx.data.lookup import store_folder

    if getattr(args, "path", None):
        return Path(args.path)
    return store_folder(_spec(args), args.format)


def run_prepare(args: argparse.Namespace) -> int:
    """Prepare (or find prepared) the named data set; one summary line."""
    from nasx.data.lookup import ensure_prepared, store_folder
    from nasx.data.prepare import pool_workers
    from nasx.data.progress import Progress

    spec = _spec(args)
    folder = Path(args.out) if args.out else store_folder(spec, args.format)
    t0 = time.perf_counter()
    store, made = ensure_prepared(spec, folder, skip_bad=args.skip_bad, fmt=args.format,
                                  progress=lambda: Progress(f"prepare {spec.kind}"))
    h = store.header
    n = sum(h.counts.values())
    if not made:
        print(f"already prepared: {folder} ({n} images at {h.size} px; the source is unchanged)")
        return 0
    took = time.perf_counter() - t0
    procs = pool_workers(spec) if spec.kind == "imagefolder" else 1  # only decoding is pooled
    print(f"prepared {n} images (train {h.counts['train']}, test {h.counts['test']}) at "
          f"{h.size} px into {folder}: {h.total_bytes / 1e6:.1f} MB in {took:.1f} s, "
          f"{n / max(took, 1e-9):,.0f} images/s in {procs} process(es)")
    if h.skipped:
        print(f"skipped {h.skipped} unreadable image(s) (--skip-bad)")
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Print what a prepared set holds."""
    from nasx.data.prepared import open_store
    from nasx.errors import DataError

    folder = _folder(args)
    if not (folder / "header.json").exists() and not args.path:
        raise DataError("not prepared yet; nasx data prepare with the same options prepares it",
                        where=str(folder))
    h = open_store(folder).header
    classes = ", ".join(h.classes[:10]) + (", ..." if len(h.classes) > 10 else "")
    rows = [("path", str(folder)), ("data", h.kind), ("source", h.source),
            ("images", f"train {h.counts['train']}, test {h.counts['test']}"),
            ("classes", f"{len(h.classes)} ({classes})"),
            ("size", f"{h.size} x {h.size} px, {h.channels} channel(s)"),
            ("format", f"{h.format} (uint8)" if h.format == "raw" else
             f"{h.format} (quality {h.extra.get('quality', '?')}, bytes + offsets)"),
            ("mean", ", ".join(f"{v:.4f}" for v in h.mean)),
            ("std", ", ".join(f"{v:.4f}" for v in h.std)),
            ("bytes", f"{h.total_bytes} ({h.total_bytes / 1e6:.1f} MB)"),
            ("skipped", str(h.skipped)), ("fingerprint", h.fingerprint),
            ("checksum", f"blake2b {h.checksum}"), ("nasx", h.nasx_version)]
    for key, value in rows:
        print(f"{key:<12} {value}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Check sizes and checksum; one line either way (exit 2 when damaged)."""
    from nasx.data.prepared import verify_store

    folder = _folder(args)
    h = verify_store(folder)
    print(f"ok: {folder} ({sum(h.counts.values())} images, checksum blake2b {h.checksum[:16]}...)")
    return 0
