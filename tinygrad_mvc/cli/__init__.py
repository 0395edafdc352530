"""The ``tinygrad-mvc`` command line.

Each subcommand is one module of this package, listed in :data:`SUBCOMMANDS`, that provides

- ``NAME`` (the subcommand's name) and ``HELP`` (one line for the overview),
- ``add_parser(subparsers)``: adds its own ``argparse`` parser (``subparsers.add_parser(NAME, ...)``),
- ``run(args) -> int``: does the work and returns the exit code.

A new subcommand is a new module plus one line in :data:`SUBCOMMANDS`. Modules import the heavy
parts (matplotlib, graphviz) inside ``run``, so ``--help`` and ``--version`` stay fast.

Exit codes: 0 success, 2 bad usage (argparse errors, :class:`UsageError`), 1 failure (:class:`Failure`
or any other error). Errors are one line on stderr, ``tinygrad-mvc: error: ...``, never a traceback. Run without
a subcommand, ``tinygrad-mvc`` prints its help to stderr and exits 2, as a usage error.
``python -m tinygrad_mvc`` and ``python -m tinygrad_mvc.cli`` run the same :func:`main`.

>>> main(["--version"])  # doctest: +SKIP
tinygrad-mvc 0.1.0
0
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["main", "build_parser", "UsageError", "Failure", "SUBCOMMANDS", "PROG"]

PROG = "tinygrad-mvc"

SUBCOMMANDS: tuple[str, ...] = ("demo", "graph", "check", "fit", "bench", "playground")
"""Subcommand modules of this package, in the order ``--help`` lists them."""


class UsageError(Exception):
    """Bad input from the user (exit code 2); the message is shown as one line, without a traceback."""


class Failure(Exception):
    """A failure that is not the user's input (exit code 1), with a message already written for the user."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line that points at ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``tinygrad-mvc`` with every subcommand of :data:`SUBCOMMANDS`."""
    from tinygrad_mvc import __version__

    parser = _Parser(
        prog=PROG,
        description="tinygrad_mvc: a teaching-grade reverse-mode automatic-differentiation framework on NumPy.",
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command. "
               "Exit codes: 0 success, 1 failure, 2 bad usage.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        command = module.add_parser(sub)
        command.set_defaults(_run=module.run, _parser=command)
    return parser


def _one_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror and err.filename:
        return f"{err.strerror}: {err.filename}"
    text = " ".join(str(err).split()) or type(err).__name__
    return text if isinstance(err, (UsageError, Failure, OSError)) else f"{type(err).__name__}: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # reported by the subcommand's parser, so the message points at its --help
            getattr(args, "_parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:  # --help, --version and usage errors: argparse has printed what it had to
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(run(args))
    except UsageError as e:
        print(f"{PROG} {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a failure, not a bug report: one line, no traceback
        print(f"{PROG} {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return 1
