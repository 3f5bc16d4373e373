"""Entry point of the ``nasx`` command.

Each verb lives in its own module ``nasx.cli.<verb>`` exposing ``register(subparsers)`` (adds its
parser and sets ``func``) and keeps heavy imports inside the function it runs, so ``nasx sample``
never pays for torch. A :class:`~nasx.errors.NasxError` becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Verb modules, in the order `nasx --help` lists them.
VERBS = ("sample", "describe", "ls", "train", "run", "demo", "report", "narrow", "refine", "export")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every verb registered."""
    from nasx import __version__

    parser = argparse.ArgumentParser(
        prog="nasx", description="Neural architecture search by design-space exploration."
    )
    parser.add_argument("--version", action="version", version=f"nasx {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb in VERBS:
        try:
            module = importlib.import_module(f"nasx.cli.{verb}")
        except ModuleNotFoundError as exc:
            if exc.name == f"nasx.cli.{verb}":
                continue  # verb not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    from nasx.errors import NasxError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except NasxError as exc:
        if args.debug:
            raise
        print(f"nasx {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nasx {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
