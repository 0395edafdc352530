"""``tinygrad-mvc check "EXPR" --at x=1 [--order 2]``: autodiff derivatives against finite differences.

Autodiff runs the engine: one ``backward(create_graph=True)`` for the gradient and, for
``--order 2``, one more backward per gradient entry for the rows of the Hessian. The finite
differences (:mod:`tinygrad_mvc.finite_diff`) differentiate the same expression evaluated with plain
NumPy (:meth:`tinygrad_mvc.expr.Expr.evaluate_numpy`), so neither the engine nor its derivative
rules take part in the reference.

Each entry gets an estimate of the finite difference's own error at the step it used (the step rule
is ``h·max(1, |x|)``, see :func:`tinygrad_mvc.finite_diff.numerical_grad`): round-off
``10 eps |f| / s^k`` plus truncation from Taylor's theorem, twice its leading term (e.g.
``2 s² |f'''| / 6`` for a central first derivative), with the higher derivative taken by autodiff at
the point. An entry is

- ``ok`` when ``|autodiff − fd| <= tol·max(1, |fd|) + round-off``;
- ``inconclusive`` when it is not, but the disagreement is within the error estimate: finite
  differences cannot resolve this point (``sin(x)`` at ``x = 1e8``, where the step is about 600);
- ``FAIL`` otherwise.

The estimate can only turn a FAIL into "inconclusive", never into ok. Exit codes: 0 every entry ok;
1 a real disagreement (any FAIL); 2 bad input, which includes a point that cannot be checked: a NaN
or infinite value or derivative, finite differences that overflow or leave the domain, or an
inconclusive entry (pick another point, or ``--method complex``).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING

from . import UsageError
from .graph import EXPR_EPILOG, add_expression_arguments, describe_point, read_expression, require_finite

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

OK, FAIL, INCONCLUSIVE = "ok", "FAIL", "inconclusive"


def round_off(method: str, order: int, value: float, step: float) -> float:
    """A bound on the round-off error of a difference of ``order`` with the step ``step``: ``10 eps |f| / step^k``.

    The complex step has no subtraction in the first derivative; its second derivatives difference
    the first ones along a real central step (pass that step).

    >>> round_off("complex", 1, 1e9, 1e-20)
    0.0
    """
    if method == "complex":
        if order == 1:
            return 0.0
        order = 1
    noise = 10 * 2.220446049250313e-16 * max(1.0, abs(value))
    for _ in range(order):  # divided one step at a time: step**2 may overflow where the quotient does not
        noise /= step
    return noise


def truncation(method: str, entry: tuple[int, ...], steps: np.ndarray, real_steps: np.ndarray,
               partial: dict[tuple[int, ...], float]) -> float:
    """Taylor's estimate of the truncation error of one entry, from the higher derivatives in ``partial``.

    Twice the leading term of the remainder (e.g. ``2 s² |f'''| / 6`` for a central first
    derivative): the higher derivative is taken at ``x``, not at its worst in ``[x - s, x + s]``, and
    the terms after the leading one are not zero.

    ``entry`` is ``(i,)`` for ∂f/∂x_i or ``(i, j)`` for ∂²f/∂x_i∂x_j; ``partial[(i, i, i)]`` is
    |∂³f/∂x_i³| and so on (see :func:`needed_partials`); ``steps`` are the steps of the difference,
    ``real_steps`` the real ones of the complex Hessian.
    """
    if len(entry) == 1:
        (i,) = entry
        if method in ("forward", "backward"):
            return 2 * steps[i] / 2 * partial[i, i]
        return 2 * steps[i] ** 2 / 6 * partial[i, i, i]
    i, j = entry
    if method in ("forward", "backward"):
        return 2 * (steps[i] * partial[i, i, j] + steps[j] * partial[i, j, j]) / 2
    s = real_steps if method == "complex" else steps
    return 2 * (s[i] ** 2 * partial[i, i, i, j] + s[j] ** 2 * partial[i, j, j, j]) / 6


def needed_partials(method: str, order: int, n: int) -> set[tuple[int, ...]]:
    """The multi-indices :func:`truncation` reads for every entry of ``order`` among ``n`` variables."""
    if order == 1:
        k = 2 if method in ("forward", "backward") else 3
        return {(i,) * k for i in range(n)}
    if method in ("forward", "backward"):
        return {idx for i in range(n) for j in range(n) for idx in ((i, i, j), (i, j, j))}
    return {idx for i in range(n) for j in range(n) for idx in ((i, i, i, j), (i, j, j, j))}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP,
        usage="%(prog)s EXPR --at NAME=VALUE [NAME=VALUE ...] [--order {1,2}] [--method METHOD] [--tol TOL]",
        description=(
            "Differentiate EXPR at the point given by --at by autodiff (backward with create_graph) and by "
            "finite differences of the same expression evaluated with plain NumPy, and print the steps used and "
            "a table: entry, autodiff, finite difference, absolute and relative error, the finite difference's "
            "own error estimate, and the verdict. The step of variable x is h*max(1,|x|) (h = 6.1e-6 for central "
            "first derivatives in float64; see tinygrad_mvc.finite_diff.numerical_grad). An entry is ok when "
            "|autodiff - fd| <= TOL * max(1, |fd|) + R, where R = 10 eps |f| / s^k bounds the round-off of a "
            "difference of order k with step s; 'inconclusive' when it is not, but the disagreement is within "
            "the estimate R + truncation (Taylor, e.g. 2 s^2 |f'''| / 6 for central differences, f''' by autodiff): "
            "finite differences cannot resolve that point. Exit codes: 0 all entries ok, 1 a real disagreement "
            "(FAIL), 2 bad input or a point that cannot be checked (NaN/inf, overflow, inconclusive)."),
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


def higher_partials(expr: Expr, point: dict[str, float],
                    indices: set[tuple[int, ...]]) -> dict[tuple[int, ...], float]:
    """``{(i, j, ...): |∂f/∂x_i∂x_j...|}`` by repeated ``backward(create_graph=True)``, for the error estimate.

    One backward from each needed lower derivative gives all its partials at once.

    >>> from tinygrad_mvc.expr import parse
    >>> higher_partials(parse("x**3 * y"), {"x": 2.0, "y": 1.0}, {(0, 0, 0), (0, 0, 1)})
    {(0, 0, 0): 6.0, (0, 0, 1): 12.0}
    """
    import numpy as np

    import tinygrad_mvc as tg

    leaves = [tg.tensor(v, requires_grad=True, dtype=np.float64) for v in point.values()]
    derivs: dict[tuple[int, ...], tg.Tensor | None] = {(): expr.evaluate(dict(zip(point, leaves)))}

    def d(idx: tuple[int, ...]) -> tg.Tensor | None:
        if idx not in derivs:
            parent = d(idx[:-1])
            if parent is None or not parent.requires_grad:  # a constant: every further derivative is 0
                derivs.update({idx[:-1] + (k,): None for k in range(len(leaves))})
            else:
                for leaf in leaves:
                    leaf.grad = None
                parent.backward(create_graph=True, retain_graph=True)
                derivs.update({idx[:-1] + (k,): leaf.grad for k, leaf in enumerate(leaves)})
        return derivs[idx]

    with np.errstate(all="ignore"):
        found = {idx: d(idx) for idx in sorted(indices)}
    return {idx: 0.0 if t is None else abs(t.item()) for idx, t in found.items()}


def finite_differences(expr: Expr, point: dict[str, float], order: int,
                       method: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``(gradient, Hessian or None)`` by differences of ``expr.evaluate_numpy``; no Tensors involved.

    Overflow anywhere in the differences (``f(x ± s)`` or the step's powers) is a :class:`UsageError`
    explaining it, and so is a NaN or infinite result (a step that leaves EXPR's domain).
    """
    import numpy as np

    from tinygrad_mvc.finite_diff import numerical_grad, numerical_hessian, steps

    names = list(point)
    x0 = np.array([point[n] for n in names], dtype=np.float64)
    f = lambda z: expr.evaluate_numpy(dict(zip(names, z)))
    where = describe_point(point)
    s = steps(x0, method=method, order=order)
    try:
        with np.errstate(over="raise", divide="ignore", invalid="ignore", under="ignore"):
            grad = numerical_grad(f, x0, method=method)
            hess = numerical_hessian(f, x0, method=method) if order == 2 else None
    except (OverflowError, FloatingPointError):
        raise UsageError(f"finite differences overflow at {where}: with the step h*max(1,|x|) = "
                         f"{', '.join(f'{v:.3g}' for v in s)} (order {order}), f(x ± step) or the step's powers "
                         f"exceed float64's range ({np.finfo(np.float64).max:.3g}); autodiff needs no step, but "
                         f"this point cannot be checked: pick one with smaller |x|") from None
    except TypeError as e:  # a NumPy function without complex support
        raise UsageError(f"--method {method}: EXPR cannot be evaluated on complex numbers ({e}); "
                         f"use --method central") from None
    for label, values in (("gradient", grad), ("Hessian", hess)):
        if values is not None and not np.all(np.isfinite(values)):
            raise UsageError(f"the finite-difference {label} is not finite at {where}: f(x ± step) with the step "
                             f"h*max(1,|x|) = {', '.join(f'{v:.3g}' for v in s)} leaves EXPR's domain or "
                             f"overflows; pick a point farther from the edge of the domain")
    return grad, hess


Row = tuple[str, float, float, float, float, float, str]


def compare(entries: list[tuple[str, float, float, float, float]], tol: float) -> list[Row]:
    """Rows ``(entry, autodiff, fd, abs error, rel error, fd error estimate, verdict)``.

    From ``(entry, autodiff, fd, round-off, truncation)``: ``ok`` when ``|autodiff - fd| <= tol *
    max(1, |fd|) + round-off``, else ``inconclusive`` when within ``round-off + truncation`` as well,
    else ``FAIL``; non-finite values are never ok.

    >>> [row[-1] for row in compare([("d/dx", 2.0, 2.0 + 1e-9, 0.0, 0.0), ("d/dy", 1.0, 1.1, 0.0, 0.0),
    ...                               ("d/dz", 1.0, 1.1, 0.0, 0.5)], 1e-6)]
    ['ok', 'FAIL', 'inconclusive']
    """
    rows = []
    for name, auto, fd, noise, trunc in entries:
        err = abs(auto - fd)
        rel = err / abs(fd) if fd != 0 else (0.0 if err == 0 else math.inf)
        estimate = noise + trunc
        if not (math.isfinite(auto) and math.isfinite(fd)):
            verdict = FAIL
        elif err <= tol * max(1.0, abs(fd)) + noise:
            verdict = OK
        elif err <= tol * max(1.0, abs(fd)) + estimate or math.isnan(estimate):
            verdict = INCONCLUSIVE
        else:
            verdict = FAIL
        rows.append((name, auto, fd, err, rel, estimate, verdict))
    return rows


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table with a header."""
    cells = [("entry", "autodiff", "finite diff", "abs error", "rel error", "fd error est", "")]
    cells += [(name, f"{auto:.12g}", f"{fd:.12g}", f"{err:.1e}", f"{rel:.1e}", f"{est:.1e}", verdict)
              for name, auto, fd, err, rel, est, verdict in rows]
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from tinygrad_mvc.finite_diff import default_step
    from tinygrad_mvc.finite_diff import steps as fd_steps

    tol = DEFAULT_TOL[args.method, args.order] if args.tol is None else args.tol
    if not tol > 0:
        raise UsageError(f"--tol {args.tol}: must be a positive number")
    expr, point = read_expression(args)
    names = list(point)
    if not names:
        raise UsageError("EXPR has no variables: there is nothing to differentiate")
    where = describe_point(point)
    with np.errstate(all="ignore"):  # non-finite values are refused below, not warned about
        value, grad, hess = autodiff(expr, point, args.order)
    require_finite("f", value, point, expr)
    for i, n in enumerate(names):
        require_finite(f"df/d{n}", grad[i], point, expr)
    if hess is not None:
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                require_finite(f"d2f/d{a}2" if i == j else f"d2f/d{a}d{b}", hess[i, j], point, expr)
    fd_grad, fd_hess = finite_differences(expr, point, args.order, args.method)

    x0 = np.array(list(point.values()))
    s1 = fd_steps(x0, method=args.method, order=1)
    s2 = fd_steps(x0, method=args.method, order=2)
    real = fd_steps(x0, method="central", order=1)  # the real steps of the complex Hessian
    partial = higher_partials(expr, point, needed_partials(args.method, 1, len(names))
                              | (needed_partials(args.method, 2, len(names)) if hess is not None else set()))
    entries = [(f"d/d{n}", grad[i], fd_grad[i], round_off(args.method, 1, value, s1[i]),
                truncation(args.method, (i,), s1, real, partial)) for i, n in enumerate(names)]
    if hess is not None:
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                step = min(real[i], real[j]) if args.method == "complex" else min(s2[i], s2[j])
                entries.append((f"d2/d{a}2" if i == j else f"d2/d{a} d{b}", hess[i, j], fd_hess[i, j],
                                round_off(args.method, 2, value, step),
                                truncation(args.method, (i, j), s2, real, partial)))
    rows = compare(entries, tol)
    h1 = default_step(args.method, np.float64, order=1)
    rule = f"h = {h1:.3g}" if args.method == "complex" else f"h*max(1,|x|), h = {h1:.3g}"
    print(f"f({where}) = {value:.12g}; {args.method} differences, tol {tol:g}")
    print(f"steps ({rule}): " + ", ".join(f"{n} {s1[i]:.3g}" for i, n in enumerate(names))
          + ("; Hessian: " + ", ".join(f"{n} {s2[i]:.3g}" for i, n in enumerate(names)) if hess is not None else ""))
    print(format_table(rows))
    bad = [row for row in rows if row[-1] == FAIL]
    unsure = [row for row in rows if row[-1] == INCONCLUSIVE]
    if bad:
        worst = max(bad, key=lambda row: row[3] if np.isfinite(row[3]) else np.inf)
        print(f"tinygrad-mvc check: FAIL: {len(bad)} of {len(rows)} entries disagree beyond tol {tol:g} "
              f"(worst {worst[0]}: autodiff {worst[1]:.12g}, finite diff {worst[2]:.12g})", file=sys.stderr)
        return 1
    if unsure:
        worst = max(unsure, key=lambda row: row[3])
        advice = ("another point" if args.method == "complex" and args.order == 1 else
                  "--order 1 or another point (the Hessian's real steps are h*max(1,|x|))" if args.method == "complex"
                  else "--method complex (its step error is negligible) or another point")
        print(f"tinygrad-mvc check: inconclusive: finite differences cannot resolve this point ({len(unsure)} of "
              f"{len(rows)} entries differ by no more than the differences' own error estimate; worst {worst[0]}: "
              f"|autodiff - fd| = {worst[3]:.2g}, estimate {worst[5]:.2g}); try {advice}", file=sys.stderr)
        return 2
    print(f"ok: all {len(rows)} entries agree")
    return 0
