"""``tinygrad-mvc graph "EXPR" --at x=1 y=2 -o out.svg``: an expression's value, gradient and graph picture.

The expression is parsed by :mod:`tinygrad_mvc.expr` (never evaluated as Python), each variable
becomes a float64 leaf named after it, one ``backward()`` gives the gradient, and
:func:`tinygrad_mvc.viz.draw_graph` draws the recorded graph. The helpers :func:`add_expression_arguments`
and :func:`read_expression` are shared with ``check``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..course.jobs import OUT_ROOT
from . import Failure, UsageError

if TYPE_CHECKING:
    from tinygrad_mvc.expr import Expr

NAME = "graph"
HELP = "draw the computation graph of an expression, with its value and gradient"
DEFAULT_OUT = OUT_ROOT / "graph.svg"


def _expr_epilog() -> str:
    """What an expression may contain, for ``--help``: the functions are the op table's own list."""
    from tinygrad_mvc.expr import CONSTANTS, FUNCTIONS, FUNCTIONS2

    return ("EXPR is arithmetic only: numbers (2, 0.5, 1e-3; ASCII digits), the constants "
            f"{' and '.join(CONSTANTS)}, variables, + - * / ** (x**2, not x^2), parentheses and the one-argument "
            f"functions {' '.join(FUNCTIONS)}. Two-argument functions: {', '.join(f + '(a, b)' for f in FUNCTIONS2)}. "
            "It is parsed, never run as Python; anything else is refused (exit 2). "
            "Quote it for the shell; one that starts with '-' needs a leading space or parentheses: ' -x**2' or "
            "'(-x**2)'.")


EXPR_EPILOG = _expr_epilog()


def add_expression_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``EXPR`` and ``--at NAME=VALUE ...`` arguments (checked in :func:`read_expression`)."""
    # Optional for argparse so that a missing one is a one-line UsageError naming it, like every other mistake.
    parser.add_argument("expr", nargs="?", metavar="EXPR", help="the expression, e.g. 'x*y + sin(x)'")
    parser.add_argument("--at", action="extend", nargs="+", default=[], metavar="NAME=VALUE",
                        help="the point: one NAME=VALUE per variable of EXPR, e.g. --at x=1 y=-2.5 (the output "
                             "lists the variables in this order)")


def parse_assignments(pairs: Iterable[str], option: str = "--at") -> dict[str, float]:
    """``["x=1", "y=2"]`` -> ``{"x": 1.0, "y": 2.0}`` in the order given; a :class:`UsageError` naming the bad pair.

    Values are read by :func:`tinygrad_mvc.expr.parse_number`, as numbers in an expression are:
    ASCII digits only, no ``_`` separators.

    >>> parse_assignments(["y=-2.5", "x=1"])
    {'y': -2.5, 'x': 1.0}
    """
    from tinygrad_mvc.expr import parse_number

    values: dict[str, float] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            raise UsageError(f"{option} {pair!r}: expected NAME=VALUE, e.g. x=1.5")
        if name in values:
            raise UsageError(f"{option} {pair!r}: {name} is given twice")
        try:
            value = parse_number(text)
        except ValueError as e:
            raise UsageError(f"{option} {pair!r}: the value {e}") from None
        if not math.isfinite(value):
            raise UsageError(f"{option} {pair!r}: the value must be finite")
        values[name] = value
    return values


def read_expression(args: argparse.Namespace) -> tuple[Expr, dict[str, float]]:
    """The parsed ``EXPR`` and its point ``{name: value}``, one value per variable, in the order of ``--at``."""
    from tinygrad_mvc.expr import ExprError, parse

    if args.expr is None:
        raise UsageError("missing EXPR, e.g. 'x*y + sin(x)' --at x=1 y=2")
    try:
        expr = parse(args.expr)
    except ExprError as e:
        raise UsageError(str(e)) from None
    given = parse_assignments(args.at)
    match_point(expr.variables_in_order, given)
    return expr, given


def match_point(names: Sequence[str], given: dict[str, float], option: str = "--at", subject: str = "EXPR") -> None:
    """A :class:`UsageError` unless ``given`` has one value for each of ``names`` and no other (the playground's
    Graph tab reads its point the same way, with ``option="at"``, ``subject="the expression"``).

    >>> match_point(("x", "y"), {"x": 1.0})
    Traceback (most recent call last):
    ...
    tinygrad_mvc.cli.UsageError: --at: no value for y (EXPR's variables: x, y)
    """
    missing = [n for n in names if n not in given]
    if missing:
        raise UsageError(f"{option}: no value for {', '.join(missing)} ({subject}'s variables: {', '.join(names)})")
    extra = [n for n in given if n not in names]
    if extra:
        what = "is not a variable" if len(extra) == 1 else "are not variables"
        known = ", ".join(names) or "none"
        raise UsageError(f"{option}: {', '.join(extra)} {what} of {subject} (its variables: {known})")


def describe_point(point: dict[str, float]) -> str:
    """``x=1, y=2`` for messages."""
    return ", ".join(f"{n}={v:g}" for n, v in point.items())


def require_finite(what: str, value: float, point: dict[str, float], expr: Expr) -> None:
    """A :class:`UsageError` when ``value`` (``what``: ``"f"``, ``df/dx``, ...) is NaN or infinite at ``point``.

    ``graph`` and ``check`` refuse such a point the same way: nothing can be drawn or checked there.
    The message names the expression as the user typed it.
    """
    if not math.isfinite(value):
        where = describe_point(point) or "the point"
        if what == "f":
            raise UsageError(f"{expr.text} is {value} at {where} (outside its domain, or overflowing): "
                             f"pick a point inside its domain")
        raise UsageError(f"{what} of {expr.text} is {value} at {where} (it is not differentiable there): "
                         f"pick another point")


def check_output_path(path: Path, option: str, formats: Iterable[str]) -> None:
    """Refuse ``path`` before any work is done: a suffix outside ``formats``, a folder, or a file in the way."""
    formats = tuple(formats)
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise UsageError(f"{option} {path}: the suffix must be one of {', '.join(formats)} "
                         f"(got {suffix or 'no suffix'!r})")
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name such as {path / ('graph' + formats[0])}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{option} {path}: {parent} is a file, not a folder")
            break


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP, usage=("%(prog)s EXPR --at NAME=VALUE [NAME=VALUE ...] [-o FILE] [--rankdir DIR] "
               "[--animate FILE]"),
        description=(
            "Evaluate EXPR at the point given by --at with float64 leaves named after its variables, run "
            "backward(), print the value and one line per variable (df/dx = ...), and draw the graph: every "
            "node with its value and gradient (the output's is 1), ops as symbols, variables by name, and each "
            "edge with its local derivative. --animate also writes backprop step by step (.html or .gif). "
            "Without the Graphviz program 'dot' the graph is written as DOT source next to FILE, with a hint "
            "on how to install it."),
        epilog=EXPR_EPILOG)
    add_expression_arguments(parser)
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                        help=f"the picture; its suffix picks the format: .svg .png .pdf, or .dot for the DOT source "
                             f"(default: ./{DEFAULT_OUT})")
    parser.add_argument("--rankdir", choices=("auto", "LR", "TB", "RL", "BT"), default="auto",
                        help="the direction the graph flows: left to right (LR), top to bottom (TB), ...; "
                             "auto (default) picks it from the graph's shape")
    parser.add_argument("--animate", type=Path, default=None, metavar="FILE",
                        help="also write the forward and backward pass node by node: .html (one page with "
                             "play/step controls, no network) or .gif")
    return parser


def run(args: argparse.Namespace) -> int:
    import numpy as np

    import tinygrad_mvc as tg
    from tinygrad_mvc.viz.graph import FORMATS

    check_output_path(args.out, "-o", FORMATS)  # before any work: a bad -o must not cost a computation
    if args.animate is not None:
        check_output_path(args.animate, "--animate", (".html", ".gif"))
    expr, point = read_expression(args)
    leaves = {n: tg.tensor(v, requires_grad=True, dtype=np.float64, name=n) for n, v in point.items()}
    with np.errstate(all="ignore"):  # a non-finite value or gradient is refused below, not warned about
        out = expr.evaluate(leaves)
        # backward(), recording every node's value, gradient and local derivative for the pictures
        trace = tg.viz.backprop(out) if out.requires_grad else None
    value = out.item()
    grads = {n: 0.0 if leaf.grad is None else leaf.grad.item() for n, leaf in leaves.items()}
    require_finite("f", value, point, expr)
    for n, grad in grads.items():
        require_finite(f"df/d{n}", grad, point, expr)
    print(f"f({describe_point(point)}) = {value:.12g}")
    for n, grad in grads.items():
        print(f"df/d{n} = {grad:.12g}")

    from tinygrad_mvc.viz import animate_backprop, draw_graph, save_graph

    rankdir = None if args.rankdir == "auto" else args.rankdir
    graph = draw_graph(out if trace is None else trace, show_local=True, rankdir=rankdir)
    try:
        path, hint = save_graph(graph, args.out)
    except ValueError as e:  # an unsupported suffix is the user's choice of -o
        raise UsageError(f"-o {args.out}: {e}") from None
    except OSError as e:  # named after the user's path, never the temporary file it was written through
        raise Failure(f"cannot write -o {args.out}: {e.strerror or e}") from None
    print(f"wrote {path}")
    if hint:
        print(hint, file=sys.stderr)
    if args.animate is not None:
        if trace is None:
            raise UsageError(f"--animate {args.animate}: the expression has no variables, so there is no backward "
                             f"pass to animate")
        if hint:  # no dot: the animation cannot be laid out either
            raise Failure(f"--animate {args.animate}: needs Graphviz's 'dot' program")
        try:
            written = animate_backprop(trace, args.animate, rankdir=rankdir)
        except OSError as e:
            raise Failure(f"cannot write --animate {args.animate}: {e.strerror or e}") from None
        print(f"wrote {written}")
    return 0
