"""Entry point of the ``nasx`` command.

Each verb lives in its own module ``nasx.cli.<verb>`` exposing ``register(subparsers)`` (adds its
parser and sets ``func``) and keeps heavy imports inside the function it runs, so ``nasx sample``
never pays for torch. A :class:`~nasx.errors.NasxError` becomes one line on stderr and exit 2;
so do, as a last line of defence, the errors that hostile input can raise anywhere (overflow,
recursion, memory, undecodable text, file system and SQLite errors). A closed output pipe
(``nasx ls | head``) ends the command quietly, as it does other Unix tools.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# Verb modules, in the order `nasx --help` lists them.
VERBS = ("sample", "describe", "ls", "train", "run", "demo", "report", "narrow", "refine", "export",
         "fidelity", "proxies", "measure", "scale", "fit", "data")


def verb_of(argv: Sequence[str]) -> str | None:
    """The verb ``argv`` names (its first argument that is not an option), if it is one."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in VERBS else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every verb registered, or only verb ``only``: building every
    verb's parser imports every verb's module (a quarter of a `nasx sample`)."""
    from nasx import __version__

    parser = argparse.ArgumentParser(
        prog="nasx", description="Neural architecture search by design-space exploration."
    )
    parser.add_argument("--version", action="version", version=f"nasx {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb in VERBS if only is None else (only,):
        importlib.import_module(f"nasx.cli.{verb}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    from nasx.errors import NasxError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(verb_of(argv))
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
    except BrokenPipeError:  # `nasx --help | head -1`
        return _broken_pipe()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
        return code
    except BrokenPipeError:
        return _broken_pipe()
    except NasxError as exc:
        if args.debug:
            raise
        _print_error(args.verb, str(exc))
        return 2
    except KeyboardInterrupt:
        print(f"nasx {args.verb}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        problem = input_problem(exc)
        if problem is None or args.debug:
            raise  # a bug: keep its traceback
        _print_error(args.verb, f"{problem} (rerun with --debug for the traceback)")
        return 2


# Printed error lines are cut here: never the repr of a huge value.
MAX_ERROR_CHARS = 500


def _print_error(verb: str, message: str) -> None:
    """One line on stderr, control characters from user files escaped."""
    from nasx.errors import printable

    text = printable(" ".join(message.split()), MAX_ERROR_CHARS)
    print(f"nasx {verb}: error: {text}", file=sys.stderr)


def input_problem(exc: BaseException) -> str | None:
    """The one-line description of an error that input can cause, None for anything else."""
    from nasx.errors import printable

    detail = printable(exc, 200)
    if isinstance(exc, OverflowError):
        return f"a number is too large ({detail})"
    if isinstance(exc, RecursionError):
        return "an input is nested too deeply (recursion limit reached)"
    if isinstance(exc, MemoryError):
        return "out of memory: an input is too large"
    if isinstance(exc, UnicodeDecodeError):
        return f"a file is not valid UTF-8 text ({detail})"
    if isinstance(exc, UnicodeError):
        return f"text cannot be encoded ({detail})"
    if isinstance(exc, OSError):
        where = f"{printable(exc.filename, 200)}: " if exc.filename else ""
        return f"{where}{printable(exc.strerror or exc, 200)}"
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        return f"run database error ({detail})"
    return None


def _broken_pipe() -> int:
    """The reader of stdout went away: exit quietly with the status of a SIGPIPE death."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # stdout is no file (captured by a test)
        return 141
    # Point stdout at /dev/null so that Python's flush at exit does not complain again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
    return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
