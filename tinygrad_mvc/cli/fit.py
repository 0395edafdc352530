"""``tinygrad-mvc fit data.csv --model "EXPR" --p0 a=1 b=0``: a chi-squared fit of a formula to CSV data.

The CSV has a header row naming its columns; ``x`` and ``y`` (and ``sigma``, when present) are
used unless ``--x/--y/--sigma`` name others. Blank lines and lines starting with ``#`` are skipped.
EXPR is parsed by :mod:`tinygrad_mvc.expr` (never evaluated as Python): its variables are the
independent variable (``x``, or the name of the ``--x`` column) and the parameters, each given a
starting value by ``--p0``. The model is evaluated with Tensor ops, so the fit's Jacobian is autodiff
(:func:`tinygrad_mvc.fit.curve_fit`). The report is printed; ``--plot out.png`` draws the fit with its
residuals. Malformed input is one line on stderr and exit code 2; a fit that does not converge is
exit code 1.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import UsageError
from .graph import EXPR_EPILOG, parse_assignments

if TYPE_CHECKING:
    import numpy as np

NAME = "fit"
HELP = "fit a formula to CSV data by chi-squared (autodiff Jacobians), print the report"
METHODS = ("lm", "gauss-newton", "gd")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP,
        usage="%(prog)s DATA.csv --model EXPR --p0 NAME=VALUE [NAME=VALUE ...] [--x COL] [--y COL] [--sigma COL] "
              "[--errors {absolute,relative}] [--method {lm,gauss-newton,gd}] [--max-iter N] [--plot FILE]",
        description=(
            "Fit EXPR to the (x, y) columns of a CSV file with a header row by minimising chi-squared = "
            "sum(((y - EXPR)/sigma)^2), and print the parameters with their uncertainties, chi-squared, the degrees "
            "of freedom, chi-squared/dof and its p-value. EXPR's variables are x (or the --x column's name) and "
            "the parameters, each with a starting value in --p0. Errors: 'absolute' (the default with a sigma "
            "column: sigma are 1-sigma uncertainties) or 'relative' (the covariance scaled by chi-squared/dof; "
            "the only choice without sigma). Exit codes: 0 converged, 1 not converged, 2 bad input."),
        epilog=EXPR_EPILOG + " Example: tinygrad-mvc fit peak.csv --model 'a*exp(-(x-m)**2/(2*s**2))' "
                             "--p0 a=1 m=0 s=1 --plot peak.png")
    parser.add_argument("data", nargs="?", metavar="DATA.csv", help="the CSV file, with a header row")
    parser.add_argument("--model", metavar="EXPR", help="the formula, e.g. 'a*exp(-b*x) + c'")
    parser.add_argument("--p0", action="extend", nargs="+", default=[], metavar="NAME=VALUE",
                        help="a starting value for every parameter of EXPR, e.g. --p0 a=1 b=0.5 c=0")
    parser.add_argument("--x", default="x", metavar="COL", help="the column of the independent variable (default: x)")
    parser.add_argument("--y", default="y", metavar="COL", help="the column of the measured values (default: y)")
    parser.add_argument("--sigma", default=None, metavar="COL",
                        help="the column of 1-sigma uncertainties (default: 'sigma' if the file has it, else none)")
    parser.add_argument("--errors", choices=("absolute", "relative"), default=None,
                        help="what sigma means (default: absolute with sigma, relative without)")
    parser.add_argument("--method", choices=METHODS, default="lm",
                        help="lm: Levenberg-Marquardt (default); gauss-newton; gd: gradient descent")
    parser.add_argument("--max-iter", type=int, default=None, metavar="N",
                        help="most trial steps (default: 200, 20000 for gd); a fit that needs more exits with code 1")
    parser.add_argument("--plot", type=Path, default=None, metavar="FILE",
                        help="write the picture of the fit (data, curve, residuals) to FILE, e.g. fit.png")
    return parser


def read_columns(path: Path, wanted: dict[str, str | None]) -> dict[str, np.ndarray]:
    """The columns ``wanted`` (role -> column name, None to skip) of a CSV file with a header, as float arrays.

    Every problem is a :class:`UsageError` naming the file and, for a bad cell, its line and column.
    """
    import numpy as np

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise UsageError(f"cannot read {path}: {reason}") from None
    rows = [(n, row) for n, row in enumerate(csv.reader(text.splitlines()), start=1)
            if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
    if not rows:
        raise UsageError(f"{path}: the file is empty; expected a header row such as 'x,y,sigma' and data rows")
    header = rows[0][1]
    names = [c.strip() for c in header]
    columns: dict[str, int] = {}
    for role, col in wanted.items():
        if col is None:
            continue
        if col not in names:
            raise UsageError(f"{path}: no column {col!r} for {role} in the header (columns: {', '.join(names)})")
        columns[role] = names.index(col)
    values: dict[str, list[float]] = {role: [] for role in columns}
    for line, row in rows[1:]:
        if len(row) != len(names):
            raise UsageError(f"{path} line {line}: {len(row)} cells but the header has {len(names)}")
        for role, i in columns.items():
            cell = row[i].strip()
            try:
                value = float(cell)
            except ValueError:
                raise UsageError(f"{path} line {line}, column {names[i]!r}: {cell!r} is not a number") from None
            if not math.isfinite(value):
                raise UsageError(f"{path} line {line}, column {names[i]!r}: {cell!r} is not a finite number")
            values[role].append(value)
    if len(rows) == 1:
        raise UsageError(f"{path}: a header but no data rows")
    return {role: np.array(v) for role, v in values.items()}


def build_model(expr: Any, xname: str, params: list[str]) -> Any:
    """``model(x, p)`` evaluating the parsed expression with Tensor ops (so the Jacobian is autodiff)."""
    from tinygrad_mvc import ops

    def model(x: Any, p: Any) -> Any:
        values = {name: p[i] for i, name in enumerate(params)}
        if xname in expr.variables:
            values[xname] = x
        out = expr.evaluate(values)
        # An expression without x (a constant model) still gives one value per point.
        return out if out.shape == x.shape else ops.broadcast_to(out, x.shape)

    return model


def run(args: argparse.Namespace) -> int:
    import warnings

    import numpy as np

    from tinygrad_mvc.expr import ExprError, parse
    from tinygrad_mvc.fit import FitWarning, curve_fit

    if args.data is None:
        raise UsageError("missing DATA.csv, e.g. tinygrad-mvc fit data.csv --model 'a*x + b' --p0 a=1 b=0")
    if args.model is None:
        raise UsageError("missing --model EXPR, e.g. --model 'a*x + b'")
    try:
        expr = parse(args.model)
    except ExprError as e:
        raise UsageError(f"--model: {e}") from None
    # The independent variable is called after its column, or x (a column name need not be an identifier).
    xname = args.x if args.x in expr.variables or "x" not in expr.variables else "x"
    params = [v for v in expr.variables if v != xname]
    if not params:
        raise UsageError(f"--model {args.model!r} has no parameters to fit (its only variable is {xname})")
    p0 = parse_assignments(args.p0, option="--p0")
    missing = [p for p in params if p not in p0]
    if missing:
        raise UsageError(f"--p0: no starting value for {', '.join(missing)} (EXPR's parameters: {', '.join(params)})")
    extra = [p for p in p0 if p not in params]
    if extra:
        raise UsageError(f"--p0: {', '.join(extra)} is not a parameter of EXPR (its parameters: {', '.join(params)}; "
                         f"the independent variable is {xname})")
    path = Path(args.data)
    sigma_col = args.sigma
    if sigma_col is None and _has_column(path, "sigma"):
        sigma_col = "sigma"
    data = read_columns(path, {"x": args.x, "y": args.y, "sigma": sigma_col})
    n = data["y"].size
    if n < len(params):
        raise UsageError(f"{path}: {n} data point{'s' if n != 1 else ''} but {len(params)} parameters "
                         f"({', '.join(params)}); a fit needs at least as many points as parameters")
    sigma = data.get("sigma")
    if sigma is not None and np.any(sigma <= 0):
        i = int(np.argmax(sigma <= 0))
        raise UsageError(f"{path}: column {sigma_col!r} must be positive, but data row {i + 1} has {sigma[i]:g}")
    if args.errors == "absolute" and sigma is None:
        raise UsageError("--errors absolute needs a sigma column (--sigma COL)")
    if args.max_iter is not None and args.max_iter < 1:
        raise UsageError(f"--max-iter {args.max_iter}: must be a positive integer")
    model = build_model(expr, xname, params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FitWarning)
        try:
            result = curve_fit(model, data["x"], data["y"], [p0[p] for p in params], sigma=sigma, errors=args.errors,
                               method=args.method, param_names=params, max_iter=args.max_iter)
        except ValueError as e:
            raise UsageError(str(e)) from None
    print(f"model: {args.model}   ({n} points from {path})")
    print(result.report())
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from tinygrad_mvc.viz import plot_fit

        fig = plot_fit(result, title=f"fit of {args.model}", xlabel=args.x, ylabel=args.y)
        try:
            fig.savefig(args.plot, dpi=110)
        except ValueError as e:  # an unsupported suffix
            raise UsageError(f"--plot {args.plot}: {e}") from None
        finally:
            plt.close(fig)
        print(f"wrote {args.plot}")
    return 0 if result.converged else 1


def _has_column(path: Path, name: str) -> bool:
    """Whether the header of ``path`` names ``name`` (False when the file cannot be read: reported later)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#"):
                    return name in [c.strip() for c in row]
    except (OSError, UnicodeDecodeError):
        return False
    return False
