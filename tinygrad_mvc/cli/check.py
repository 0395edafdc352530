"""``tinygrad-mvc check "EXPR" --at x=1 [--order 2]``: autodiff derivatives against finite differences.

Autodiff runs the engine: one ``backward(create_graph=True)`` for the gradient and, for
``--order 2``, one more backward per gradient entry for the rows of the Hessian. The finite
differences (:mod:`tinygrad_mvc.finite_diff`) differentiate the same expression evaluated with plain
NumPy (:meth:`tinygrad_mvc.expr.Expr.evaluate_numpy`), so neither the engine nor its derivative
rules take part in the reference. Exit 0 when every entry agrees, 1 when one does not.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from . import UsageError
from .graph import EXPR_EPILOG, add_expression_arguments, describe_point, read_expression

if TYPE_CHECKING:
    import numpy as np

    from tinygrad_mvc.expr import Expr

NAME = "check"
HELP = "check the derivatives of an expression (autodiff against finite differences)"
METHODS = ("central", "forward", "backward", "complex")

# Default tolerances on |autodiff - fd| / max(1, |fd|), from the truncation error of each difference scheme in
# float64 with the steps finite_diff picks: central ~1e-10 (1st) and ~1e-8 (2nd), one-sided ~1e-8 and ~1e-5,
# complex ~1e-15 and ~1e-10; each with room for curvature in the expression. Round-off is added per entry
# (see round_off), so a large |f| does not turn an exact derivative into a false FAIL.
DEFAULT_TOL = {("central", 1): 1e-6, ("central", 2): 1e-4, ("forward", 1): 1e-4, ("forward", 2): 1e-2,
               ("backward", 1): 1e-4, ("backward", 2): 1e-2, ("complex", 1): 1e-8, ("complex", 2): 1e-6}


def round_off(method: str, order: int, value: float, x0: np.ndarray) -> float:
    """A bound on the round-off error of a difference of ``order`` with finite_diff's step: ``10 eps |f| / h^k``.

    The complex step has no subtraction in the first derivative; its second derivatives difference
    the first ones along a real central step.
    """
    import numpy as np

    from tinygrad_mvc.finite_diff import default_step

    if method == "complex":
        if order == 1:
            return 0.0
        method, order = "central", 1
    # finite_diff scales the step by max(1, |x_i|); the smallest step has the largest round-off
    h = default_step(method, np.float64, order=order) * max(1.0, float(np.min(np.abs(x0))))
    return 10 * float(np.finfo(np.float64).eps) * max(1.0, abs(value)) / h ** order


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP,
        usage="%(prog)s EXPR --at NAME=VALUE [NAME=VALUE ...] [--order {1,2}] [--method METHOD] [--tol TOL]",
        description=(
            "Differentiate EXPR at the point given by --at by autodiff (backward with create_graph) and by "
            "finite differences of the same expression evaluated with plain NumPy, and print a table: entry, "
            "autodiff, finite difference, absolute and relative error, ok/FAIL. An entry is ok when "
            "|autodiff - fd| <= TOL * max(1, |fd|) + R, where R = 10 eps |f| / h^k bounds the round-off of a "
            "difference of order k with step h. Exit code 0 when all agree, 1 when one does not."),
        epilog=EXPR_EPILOG)
    add_expression_arguments(parser)
    parser.add_argument("--order", type=int, choices=(1, 2), default=1,
                        help="1: the gradient (default); 2: the gradient and the Hessian")
    parser.add_argument("--method", choices=METHODS, default="central",
                        help="finite-difference scheme (default: central)")
    parser.add_argument("--tol", type=float, default=None, metavar="TOL",
                        help="tolerance (default: 1e-6 central, 1e-4 forward/backward, 1e-8 complex at order 1; "
                             "100x those at order 2)")
    return parser


def autodiff(expr: Expr, point: dict[str, float], order: int) -> tuple[float, np.ndarray, np.ndarray | None]:
    """``(value, gradient, Hessian or None)`` of ``expr`` at ``point`` (variables in ``point``'s order)."""
    import numpy as np

    import tinygrad_mvc as tg

    leaves = [tg.tensor(v, requires_grad=True, dtype=np.float64, name=n) for n, v in point.items()]
    out = expr.evaluate(dict(zip(point, leaves)))
    if out.requires_grad:
        out.backward(create_graph=order == 2)
    firsts = [leaf.grad for leaf in leaves]
    grad = np.array([0.0 if g is None else g.item() for g in firsts])
    if order == 1:
        return out.item(), grad, None
    hess = np.zeros((len(leaves), len(leaves)))
    for i, g in enumerate(firsts):
        if g is None or not g.requires_grad:  # a constant first derivative: its row is zero
            continue
        for leaf in leaves:
            leaf.grad = None
        g.backward(retain_graph=True)  # the rows share the graph of the first backward
        hess[i] = [0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves]
    return out.item(), grad, hess


def finite_differences(expr: Expr, point: dict[str, float], order: int,
                       method: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``(gradient, Hessian or None)`` by differences of ``expr.evaluate_numpy``; no Tensors involved."""
    import numpy as np

    from tinygrad_mvc.finite_diff import numerical_grad, numerical_hessian

    names = list(point)
    x0 = np.array([point[n] for n in names], dtype=np.float64)
    f = lambda z: expr.evaluate_numpy(dict(zip(names, z)))
    grad = numerical_grad(f, x0, method=method)
    return grad, (numerical_hessian(f, x0, method=method) if order == 2 else None)


Row = tuple[str, float, float, float, float, bool]


def compare(entries: list[tuple[str, float, float, float]], tol: float) -> list[Row]:
    """Rows ``(entry, autodiff, fd, abs error, rel error, ok)`` from ``(entry, autodiff, fd, round-off)``.

    ok when ``|autodiff - fd| <= tol * max(1, |fd|) + round-off``; non-finite values are never ok.

    >>> compare([("d/dx", 2.0, 2.0 + 1e-9, 0.0), ("d/dy", 1.0, 1.1, 0.0)], 1e-6)[1][-1]
    False
    """
    import math

    rows = []
    for name, auto, fd, noise in entries:
        err = abs(auto - fd)
        rel = err / abs(fd) if fd != 0 else (0.0 if err == 0 else math.inf)
        ok = math.isfinite(auto) and math.isfinite(fd) and err <= tol * max(1.0, abs(fd)) + noise
        rows.append((name, auto, fd, err, rel, ok))
    return rows


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table with a header."""
    cells = [("entry", "autodiff", "finite diff", "abs error", "rel error", "")]
    cells += [(name, f"{auto:.12g}", f"{fd:.12g}", f"{err:.1e}", f"{rel:.1e}", "ok" if ok else "FAIL")
              for name, auto, fd, err, rel, ok in rows]
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    expr, point = read_expression(args)
    names = list(point)
    if not names:
        raise UsageError("EXPR has no variables: there is nothing to differentiate")
    tol = DEFAULT_TOL[args.method, args.order] if args.tol is None else args.tol
    if not tol > 0:
        raise UsageError(f"--tol {args.tol}: must be a positive number")
    where = describe_point(point)
    with np.errstate(all="ignore"):  # non-finite values are reported below, not as warnings
        value, grad, hess = autodiff(expr, point, args.order)
        if not np.isfinite(value):
            raise UsageError(f"EXPR is {value} at {where}: pick a point inside its domain")
        fd_grad, fd_hess = finite_differences(expr, point, args.order, args.method)

    x0 = np.array(list(point.values()))
    noise = round_off(args.method, 1, value, x0)
    entries = [(f"d/d{n}", grad[i], fd_grad[i], noise) for i, n in enumerate(names)]
    if hess is not None:
        noise = round_off(args.method, 2, value, x0)
        entries += [(f"d2/d{a}2" if i == j else f"d2/d{a} d{b}", hess[i, j], fd_hess[i, j], noise)
                    for i, a in enumerate(names) for j, b in enumerate(names)]
    rows = compare(entries, tol)
    print(f"f({where}) = {value:.12g}; {args.method} differences, tol {tol:g}")
    print(format_table(rows))
    bad = [row for row in rows if not row[-1]]
    if not bad:
        print(f"ok: all {len(rows)} entries agree")
        return 0
    worst = max(bad, key=lambda row: row[3] if np.isfinite(row[3]) else np.inf)
    print(f"tinygrad-mvc check: FAIL: {len(bad)} of {len(rows)} entries disagree beyond tol {tol:g} "
          f"(worst {worst[0]}: autodiff {worst[1]:.12g}, finite diff {worst[2]:.12g})", file=sys.stderr)
    return 1
