"""``tinygrad-mvc fit data.csv --model "EXPR" --p0 a=1 b=0``: a chi-squared fit of a formula to CSV data.

The CSV has a header row naming its columns; ``x`` and ``y`` (and ``sigma``, when present) are
used unless ``--x/--y/--sigma`` name others. The output says which columns were used, and every other
column is named in a warning with the nearest name the command knows (so a typo ``sigam`` cannot
silently turn the fit into one without uncertainties). Blank lines and lines starting with ``#``
between records are skipped.

The file is read as a stream by the :mod:`csv` module (quoted cells may hold the separator or a line
break), within limits that keep any input from exhausting memory, each with the option that raises
it: :data:`MAX_BYTES` (``--max-bytes``), :data:`MAX_ROWS` data rows (``--max-rows``) and
:data:`MAX_LINE` bytes per line and per cell (``--max-line-length``). Numbers are read by
:func:`tinygrad_mvc.expr.parse_number`, as in expressions: ASCII digits only (``'١'``, ``'３'``,
``1_000`` are refused). A header of one column that holds ``;``, a tab or ``|`` gets a hint about
``--delimiter``, and a first row of numbers a hint that the header is missing.

EXPR is parsed by :mod:`tinygrad_mvc.expr` (never evaluated as Python): its variables are the
independent variable (``x``, or the name of the ``--x`` column) and the parameters, each given a
starting value by ``--p0``, in whose order they are reported. The model is evaluated with Tensor
ops, so the fit's Jacobian is autodiff (:func:`tinygrad_mvc.fit.curve_fit`). The report is printed,
each value rounded with its uncertainty; ``--plot out.png`` draws the fit with its residuals.
Malformed input is one line on stderr and exit code 2; a fit that does not converge is exit code 1.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import math
import os
import sys
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import Failure, UsageError
from .graph import EXPR_EPILOG, check_output_path, parse_assignments

if TYPE_CHECKING:
    import numpy as np

NAME = "fit"
HELP = "fit a formula to CSV data by chi-squared (autodiff Jacobians), print the report"
METHODS = ("lm", "gauss-newton", "gd")

MAX_BYTES = 100_000_000
"""The largest file read by default (bytes); ``--max-bytes`` raises it."""
MAX_ROWS = 1_000_000
"""The most data rows read by default; ``--max-rows`` raises it."""
MAX_LINE = 1_000_000
"""The longest line, and the longest cell, read by default (bytes); ``--max-line-length`` raises it."""

ROLES = ("x", "y", "sigma")
# Column names people use for the uncertainties: an unused one of these is pointed at --sigma.
SIGMA_NAMES = ("sigma", "sigma_y", "sy", "dy", "err", "error", "yerr", "y_err", "uncertainty", "unc", "σ")
_SEPARATORS = {";": "';'", "\t": "tab", "|": "'|'"}


def _count(text: str) -> int:
    """A positive integer for the --max-* options (argparse reports a ValueError as an invalid value)."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:  # no signs, '_' or non-ASCII digits
        raise ValueError(text)
    return int(text)


_count.__name__ = "positive integer"  # argparse names the type in its message


def _delimiter(text: str) -> str:
    if text.lower() in ("tab", "\\t"):
        return "\t"
    if len(text) != 1 or text.isalnum() or text in ".+-\"#\r\n_" or (text.isspace() and text != " "):
        raise ValueError(text)
    return text


_delimiter.__name__ = "one-character delimiter"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP,
        usage="%(prog)s DATA.csv --model EXPR --p0 NAME=VALUE [NAME=VALUE ...] [--x COL] [--y COL] [--sigma COL] "
              "[--errors {absolute,relative}] [--method {lm,gauss-newton,gd}] [--max-iter N] [--plot FILE] "
              "[--delimiter CHAR] [--max-bytes N] [--max-rows N] [--max-line-length N]",
        description=(
            "Fit EXPR to the (x, y) columns of a CSV file with a header row by minimising chi-squared = "
            "sum(((y - EXPR)/sigma)^2), and print the columns used, the parameters (in the order of --p0) with "
            "their uncertainties, each value rounded to its uncertainty's two significant digits, chi-squared, the "
            "degrees of freedom, chi-squared/dof and its p-value. EXPR's variables are x (or the --x column's name) "
            "and the parameters, each with a starting value in --p0. Errors: 'absolute' (the default with a sigma "
            "column: sigma are 1-sigma uncertainties) or 'relative' (the covariance scaled by chi-squared/dof; the "
            "only choice without sigma, when chi-squared is a plain residual sum of squares and no goodness of fit "
            "is reported). A column the fit does not use is named in a warning. The file is streamed within "
            f"limits: {MAX_BYTES} bytes, {MAX_ROWS} data rows, {MAX_LINE} bytes per line or cell (--max-bytes, "
            "--max-rows, --max-line-length raise them). Exit codes: 0 converged, 1 not converged, 2 bad input."),
        epilog=EXPR_EPILOG + " Example: tinygrad-mvc fit peak.csv --model 'a*exp(-(x-m)**2/(2*s**2))' "
                             "--p0 a=1 m=0 s=1 --plot peak.png")
    parser.add_argument("data", nargs="?", metavar="DATA.csv", help="the CSV file, with a header row")
    parser.add_argument("--model", metavar="EXPR", help="the formula, e.g. 'a*exp(-b*x) + c'")
    parser.add_argument("--p0", action="extend", nargs="+", default=[], metavar="NAME=VALUE",
                        help="a starting value for every parameter of EXPR, e.g. --p0 a=1 b=0.5 c=0; the report "
                             "lists the parameters in this order")
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
    parser.add_argument("--delimiter", type=_delimiter, default=",", metavar="CHAR",
                        help="the separator of the cells: one character such as ';' or '|', or 'tab' (default: ',')")
    parser.add_argument("--max-bytes", type=_count, default=MAX_BYTES, metavar="N",
                        help=f"refuse a file larger than N bytes (default: {MAX_BYTES})")
    parser.add_argument("--max-rows", type=_count, default=MAX_ROWS, metavar="N",
                        help=f"refuse a file with more than N data rows (default: {MAX_ROWS})")
    parser.add_argument("--max-line-length", type=_count, default=MAX_LINE, metavar="N",
                        help=f"refuse a line, or a quoted cell, longer than N bytes (default: {MAX_LINE})")
    return parser


# ----------------------------------------------------------------------------- reading the CSV

@dataclass
class Limits:
    """How much of a file :func:`read_columns` reads before refusing it, and the options that raise each limit."""

    max_bytes: int = MAX_BYTES
    max_rows: int = MAX_ROWS
    max_line: int = MAX_LINE


class _Lines:
    """The lines of a binary file for :func:`csv.reader`, decoded, counted and bounded.

    A line is read with ``readline(limit)``, so one without an end (``/dev/zero``) costs at most the
    line limit. Blank and ``#`` lines are skipped only where a record starts (``at_start``, set by
    the caller between records), so a quoted cell that spans lines keeps its blank lines.
    """

    def __init__(self, fh: IO[bytes], path: Path, limits: Limits) -> None:
        self.fh, self.path, self.limits = fh, path, limits
        self.line = 0      # physical lines read
        self.start = 0     # the line where the current record started
        self.size = 0      # bytes read
        self.at_start = True

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        limits, path = self.limits, self.path
        while True:
            # never more than either limit allows, plus room for the line's own '\r\n'
            raw = self.fh.readline(min(limits.max_line, limits.max_bytes - self.size) + 2)
            if not raw:
                raise StopIteration
            self.line += 1
            self.size += len(raw)
            if self.size > limits.max_bytes:
                raise UsageError(f"{path}: larger than {limits.max_bytes} bytes, the limit (--max-bytes N raises it)")
            body = raw.rstrip(b"\r\n")
            if len(body) > limits.max_line:
                raise UsageError(f"{path} line {self.line}: longer than {limits.max_line} bytes, the limit for a line "
                                 f"(--max-line-length N raises it)")
            try:
                text = raw.decode("utf-8-sig" if self.line == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise UsageError(f"{path} line {self.line}: not UTF-8 text (byte {e.start + 1} of the line is "
                                 f"{raw[e.start]:#04x}); save the file as UTF-8") from None
            if self.at_start:
                stripped = text.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                self.start = self.line
                self.at_start = False
            return text


def _records(path: Path, fh: IO[bytes], delimiter: str, limits: Limits) -> Iterator[tuple[int, int, list[str]]]:
    """``(first line, last line, cells)`` of every record; CSV errors name the file and the line."""
    lines = _Lines(fh, path, limits)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    while True:
        lines.at_start = True
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if "field larger than field limit" in str(e):
                raise UsageError(f"{path} line {lines.start}: a cell longer than {limits.max_line} bytes, the limit "
                                 f"for a cell (--max-line-length N raises it)") from None
            raise UsageError(f"{path} line {lines.line}: not valid CSV ({e})") from None
        yield lines.start, lines.line, row


def _hint(names: list[str], delimiter: str) -> str:
    """Why a header may not name the columns wanted: another separator, or no header at all."""
    from tinygrad_mvc.expr import parse_number

    if len(names) == 1:
        for sep, shown in _SEPARATORS.items():
            if sep in names[0] and sep != delimiter:
                option = "--delimiter tab" if sep == "\t" else f"--delimiter '{sep}'"
                return f"; the header has one column {names[0]!r}: is the separator {shown}? ({option})"
    try:
        [parse_number(n) for n in names]
    except ValueError:
        return ""
    return (f"; the first row ({delimiter.join(names)!r}) looks like data: the file needs a header row naming the "
            f"columns, such as 'x{delimiter}y{delimiter}sigma'")


def read_columns(path: Path, choose: Callable[[list[str], str], dict[str, str | None]],
                 delimiter: str = ",", limits: Limits | None = None) -> tuple[list[str], dict[str, np.ndarray]]:
    """``(header, {role: column as a float array})`` of a CSV file with a header, read as a bounded stream.

    ``choose(header, hint)`` maps each role to a column name of the header (or None to skip it); it
    raises a :class:`UsageError` for a missing one, adding ``hint`` (a guess at the reason, or "").
    Every problem is a :class:`UsageError` naming the file and, for a bad cell, its line and column.
    """
    import numpy as np

    limits = limits or Limits()
    try:
        fh = path.open("rb")
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    old_limit = csv.field_size_limit()
    csv.field_size_limit(limits.max_line)
    try:
        with fh:
            try:
                size = os.fstat(fh.fileno()).st_size
            except OSError:
                size = 0
            if size > limits.max_bytes:  # a regular file says its size: refuse before reading any of it
                raise UsageError(f"{path}: {size} bytes, larger than the limit of {limits.max_bytes} "
                                 f"(--max-bytes N raises it)")
            records = _records(path, fh, delimiter, limits)
            first = next(records, None)
            if first is None:
                raise UsageError(f"{path}: the file is empty; expected a header row such as 'x,y,sigma' and data rows")
            header = [c.strip() for c in first[2]]
            seen: dict[str, int] = {}
            for i, name in enumerate(header):
                if name and name in seen:
                    raise UsageError(f"{path} line {first[0]}: the header names column {name!r} twice (columns "
                                     f"{seen[name] + 1} and {i + 1}); column names must be unique")
                seen.setdefault(name, i)
            roles = {role: col for role, col in choose(header, _hint(header, delimiter)).items() if col is not None}
            index = {role: header.index(col) for role, col in roles.items()}
            values = {role: array("d") for role in index}
            rows = 0
            for start, end, row in records:
                rows += 1
                if rows > limits.max_rows:
                    raise UsageError(f"{path}: more than {limits.max_rows} data rows, the limit (--max-rows N "
                                     f"raises it)")
                where = f"line {start}" if start == end else f"lines {start}-{end}"
                if len(row) != len(header):
                    raise UsageError(f"{path} {where}: {len(row)} cells but the header has {len(header)}"
                                     + (_hint(header, delimiter) if len(header) == 1 else ""))
                for role, i in index.items():
                    values[role].append(_cell(path, where, header[i], row[i]))
    finally:
        csv.field_size_limit(old_limit)
    if rows == 0:
        raise UsageError(f"{path}: a header but no data rows")
    return header, {role: np.array(v, dtype=np.float64) for role, v in values.items()}


def _cell(path: Path, where: str, column: str, cell: str) -> float:
    from tinygrad_mvc.expr import parse_number

    try:
        value = parse_number(cell)
    except ValueError as e:
        spans = " (one quoted cell over several lines)" if "\n" in cell else ""
        raise UsageError(f"{path} {where}, column {column!r}: {e}{spans}") from None
    if not math.isfinite(value):
        raise UsageError(f"{path} {where}, column {column!r}: {cell.strip()!r} is not a finite number")
    return value


def unused_columns(header: list[str], used: dict[str, str | None], wanted: dict[str, str]) -> list[str]:
    """One warning per column of ``header`` the fit does not use, with the nearest name it knows.

    ``used`` maps each role to its column (None: none); ``wanted`` maps each role to the name the
    command looked for.

    >>> unused_columns(["x", "y", "sigam"], {"x": "x", "y": "y", "sigma": None}, {"x": "x", "y": "y", "sigma": "sigma"})
    ["column 'sigam' is not used by the fit; did you mean 'sigma'? (--sigma sigam uses it as the uncertainties)"]
    """
    taken = {col for col in used.values() if col is not None}
    known = {name: role for role, name in wanted.items()}
    known.update({name: "sigma" for name in SIGMA_NAMES if name not in known})
    option = {"x": "--x {} uses it as the independent variable", "y": "--y {} uses it as the measured values",
              "sigma": "--sigma {} uses it as the uncertainties"}
    warnings = []
    for i, col in enumerate(header):
        if col in taken:
            continue
        if not col:
            warnings.append(f"column {i + 1} has no name and is not used by the fit")
            continue
        close = difflib.get_close_matches(col, list(known), n=1, cutoff=0.6)
        exact = [name for name in known if name.lower() == col.lower()]
        guess = exact[0] if exact else (close[0] if close else None)
        if guess is None:
            warnings.append(f"column {col!r} is not used by the fit")
            continue
        role = known[guess]
        if used.get(role) is not None:  # the role is filled already: the name only says what the column may be
            warnings.append(f"column {col!r} is not used by the fit (the nearest known name, {guess!r}, is the "
                            f"{role} column {used[role]!r})")
        elif guess == col:
            warnings.append(f"column {col!r} is not used by the fit; {option[role].format(col)}")
        else:
            warnings.append(f"column {col!r} is not used by the fit; did you mean {guess!r}? "
                            f"({option[role].format(col)})")
    return warnings


# ----------------------------------------------------------------------------- the fit

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


def _plot_formats() -> tuple[str, ...]:
    from matplotlib.backend_bases import FigureCanvasBase

    return tuple(f".{ext}" for ext in FigureCanvasBase.get_supported_filetypes())


def run(args: argparse.Namespace) -> int:
    import warnings

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
    found = [v for v in expr.variables_in_order if v != xname]
    if not found:
        raise UsageError(f"--model {args.model!r} has no parameters to fit (its only variable is {xname})")
    p0 = parse_assignments(args.p0, option="--p0")
    missing = [p for p in found if p not in p0]
    if missing:
        raise UsageError(f"--p0: no starting value for {', '.join(missing)} (EXPR's parameters: {', '.join(found)})")
    extra = [p for p in p0 if p not in found]
    if extra:
        raise UsageError(f"--p0: {', '.join(extra)} is not a parameter of EXPR (its parameters: {', '.join(found)}; "
                         f"the independent variable is {xname})")
    params = list(p0)  # reported in the order the user gave them
    if args.max_iter is not None and args.max_iter < 1:
        raise UsageError(f"--max-iter {args.max_iter}: must be a positive integer")
    if args.plot is not None:
        check_output_path(args.plot, "--plot", _plot_formats())  # before reading or fitting anything
    path = Path(args.data)
    wanted = {"x": args.x, "y": args.y, "sigma": args.sigma or "sigma"}
    used: dict[str, str | None] = {}

    def choose(header: list[str], hint: str) -> dict[str, str | None]:
        for role in ("x", "y") + (("sigma",) if args.sigma is not None else ()):
            if wanted[role] not in header:
                raise UsageError(f"{path}: no column {wanted[role]!r} for {role} in the header (columns: "
                                 f"{', '.join(header)}){hint}")
        used.update(x=args.x, y=args.y, sigma=wanted["sigma"] if wanted["sigma"] in header else None)
        return dict(used)

    header, data = read_columns(path, choose, delimiter=args.delimiter,
                                limits=Limits(args.max_bytes, args.max_rows, args.max_line_length))
    n = data["y"].size
    if n < len(params):
        raise UsageError(f"{path}: {n} data point{'s' if n != 1 else ''} but {len(params)} parameters "
                         f"({', '.join(params)}); a fit needs at least as many points as parameters")
    sigma = data.get("sigma")
    sigma_col = used["sigma"]
    if sigma is not None and (sigma <= 0).any():
        i = int((sigma <= 0).argmax())
        raise UsageError(f"{path}: column {sigma_col!r} must be positive, but data row {i + 1} has {sigma[i]:g}")
    if args.errors == "absolute" and sigma is None:
        raise UsageError("--errors absolute needs a sigma column (--sigma COL)")
    model = build_model(expr, xname, params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FitWarning)
        try:
            result = curve_fit(model, data["x"], data["y"], [p0[p] for p in params], sigma=sigma, errors=args.errors,
                               method=args.method, param_names=params, max_iter=args.max_iter)
        except ValueError as e:
            raise UsageError(str(e)) from None
    print(f"model: {args.model}   ({n} points from {path})")
    uncertainties = (f"sigma = {sigma_col!r}" if sigma_col is not None else
                     "sigma: none (no 'sigma' column and no --sigma: every point weighs the same)")
    print(f"columns: x = {args.x!r}, y = {args.y!r}, {uncertainties}")
    print(result.report())
    for line in unused_columns(header, used, wanted):
        print(f"warning: {line}", file=sys.stderr)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from tinygrad_mvc.viz import plot_fit

        fig = plot_fit(result, title=f"fit of {args.model}", xlabel=args.x, ylabel=args.y)
        try:
            args.plot.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(args.plot, dpi=110)
        except OSError as e:
            raise Failure(f"cannot write --plot {args.plot}: {e.strerror or e}") from None
        finally:
            plt.close(fig)
        print(f"wrote {args.plot}")
    return 0 if result.converged else 1
