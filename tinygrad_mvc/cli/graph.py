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
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from . import UsageError
from .jobs import OUT_ROOT

if TYPE_CHECKING:
    from tinygrad_mvc.expr import Expr

NAME = "graph"
HELP = "draw the computation graph of an expression, with its value and gradient"
DEFAULT_OUT = OUT_ROOT / "graph.svg"

EXPR_EPILOG = (
    "EXPR is arithmetic only: numbers (2, 0.5, 1e-3), variables, + - * / ** (x**2, not x^2), parentheses "
    "and the one-argument functions abs cos exp log relu sigmoid sin sqrt tan tanh. It is parsed, never run "
    "as Python; anything else is refused (exit 2). Quote it for the shell; one that starts with '-' needs a "
    "leading space or parentheses: ' -x**2' or '(-x**2)'.")


def add_expression_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``EXPR`` and ``--at NAME=VALUE ...`` arguments (checked in :func:`read_expression`)."""
    # Optional for argparse so that a missing one is a one-line UsageError naming it, like every other mistake.
    parser.add_argument("expr", nargs="?", metavar="EXPR", help="the expression, e.g. 'x*y + sin(x)'")
    parser.add_argument("--at", action="extend", nargs="+", default=[], metavar="NAME=VALUE",
                        help="the point: one NAME=VALUE per variable of EXPR, e.g. --at x=1 y=-2.5")


def parse_assignments(pairs: Iterable[str], option: str = "--at") -> dict[str, float]:
    """``["x=1", "y=2"]`` -> ``{"x": 1.0, "y": 2.0}``; a :class:`UsageError` naming the bad pair otherwise.

    >>> parse_assignments(["x=1", "y=-2.5"])
    {'x': 1.0, 'y': -2.5}
    """
    values: dict[str, float] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            raise UsageError(f"{option} {pair!r}: expected NAME=VALUE, e.g. x=1.5")
        if name in values:
            raise UsageError(f"{option} {pair!r}: {name} is given twice")
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{option} {pair!r}: the value {text!r} is not a number") from None
        if not math.isfinite(value):
            raise UsageError(f"{option} {pair!r}: the value must be finite")
        values[name] = value
    return values


def read_expression(args: argparse.Namespace) -> tuple[Expr, dict[str, float]]:
    """The parsed ``EXPR`` and its point ``{name: value}``, one value per variable, in sorted order."""
    from tinygrad_mvc.expr import ExprError, parse

    if args.expr is None:
        raise UsageError("missing EXPR, e.g. 'x*y + sin(x)' --at x=1 y=2")
    try:
        expr = parse(args.expr)
    except ExprError as e:
        raise UsageError(str(e)) from None
    given = parse_assignments(args.at)
    missing = [n for n in expr.variables if n not in given]
    if missing:
        raise UsageError(f"--at: no value for {', '.join(missing)} (EXPR's variables: {', '.join(expr.variables)})")
    extra = [n for n in given if n not in expr.variables]
    if extra:
        known = ", ".join(expr.variables) or "none"
        raise UsageError(f"--at: {', '.join(extra)} is not a variable of EXPR (its variables: {known})")
    return expr, {n: given[n] for n in expr.variables}


def describe_point(point: dict[str, float]) -> str:
    """``x=1, y=2`` for messages."""
    return ", ".join(f"{n}={v:g}" for n, v in point.items())


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP, usage="%(prog)s EXPR --at NAME=VALUE [NAME=VALUE ...] [-o FILE] [--rankdir DIR]",
        description=(
            "Evaluate EXPR at the point given by --at with float64 leaves named after its variables, run "
            "backward(), print the value and one line per variable (df/dx = ...), and draw the graph of ops "
            "with values and gradients. Without the Graphviz program 'dot' the graph is written as DOT source "
            "next to FILE, with a hint on how to install it."),
        epilog=EXPR_EPILOG)
    add_expression_arguments(parser)
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                        help=f"the picture; its suffix picks the format: .svg .png .pdf, or .dot for the DOT source "
                             f"(default: ./{DEFAULT_OUT})")
    parser.add_argument("--rankdir", choices=("LR", "TB", "RL", "BT"), default="LR",
                        help="the direction the graph flows: left to right (LR, default), top to bottom (TB), ...")
    return parser


def run(args: argparse.Namespace) -> int:
    import numpy as np

    import tinygrad_mvc as tg

    expr, point = read_expression(args)
    leaves = {n: tg.tensor(v, requires_grad=True, dtype=np.float64, name=n) for n, v in point.items()}
    with np.errstate(all="ignore"):  # inf and nan are shown as values, not as warnings
        out = expr.evaluate(leaves)
        if out.requires_grad:
            out.backward(retain_graph=True)  # the graph is drawn afterwards, with its gradients
    print(f"f({describe_point(point)}) = {out.item():.12g}")
    for n, leaf in leaves.items():
        grad = 0.0 if leaf.grad is None else leaf.grad.item()
        print(f"df/d{n} = {grad:.12g}")

    from tinygrad_mvc.viz import draw_graph, save_graph

    graph = draw_graph(out, rankdir=args.rankdir)
    try:
        path, hint = save_graph(graph, args.out)
    except ValueError as e:  # an unsupported suffix is the user's choice of -o
        raise UsageError(f"-o {args.out}: {e}") from None
    print(f"wrote {path}")
    if hint:
        print(hint, file=sys.stderr)
    return 0
