"""Reading a request body field by field, and writing numbers back, for every tab's API.

Tabs never touch raw JSON: they call ``number(body, "lr", ...)``, ``expression(body, "expr", ("x", "y"))``
and friends, which either return a checked value or raise :class:`Refused` with a message for the page's
``message`` element (the app answers 400 with ``{"error": message}``). Answers go through :func:`jsonable`:
NumPy values become lists of Python floats, which JSON writes with ``repr`` (so the browser reads the exact
float64 back) and non-finite numbers become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (what
JavaScript's ``String(x)`` writes for them).

>>> number({"lr": 0.1}, "lr", lo=0.0, hi=10.0)
0.1
>>> number({"lr": "fast"}, "lr")
Traceback (most recent call last):
...
tinygrad_mvc.playground.protocol.Refused: lr: expected a number, got 'fast'
>>> jsonable({"x": np.array([1.5, np.inf])})
{'x': [1.5, 'Infinity']}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..expr import Expr, ExprError, parse

__all__ = ["Refused", "number", "integer", "text", "choice", "point", "flag", "expression", "jsonable",
           "sample_grid"]

_MISSING = object()


class Refused(ValueError):
    """A request the playground will not act on; ``str(err)`` is shown to the student as it is."""


def _get(body: dict[str, Any], key: str, default: Any) -> Any:
    value = body.get(key, default)
    if value is _MISSING:
        raise Refused(f"{key}: missing")
    return value


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def number(body: dict[str, Any], key: str, default: Any = _MISSING, lo: float = -math.inf,
           hi: float = math.inf) -> float:
    """``body[key]`` as a finite float in [lo, hi]; numeric strings are accepted (a form field sends text)."""
    value = _get(body, key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Refused(f"{key}: expected a number, got {_show(value)}")
    try:
        x = float(value)
    except ValueError:
        raise Refused(f"{key}: expected a number, got {_show(value)}") from None
    if not math.isfinite(x):
        raise Refused(f"{key}: expected a finite number, got {_show(value)}")
    if not lo <= x <= hi:
        raise Refused(f"{key}: {x!r} is out of range; it must be between {lo!r} and {hi!r}")
    return x


def integer(body: dict[str, Any], key: str, default: Any = _MISSING, lo: int = 0, hi: int = 2**31) -> int:
    """``body[key]`` as an int in [lo, hi] (``3.0`` and ``"3"`` are accepted, ``3.5`` is not)."""
    x = number(body, key, default, lo, hi)
    if x != int(x):
        raise Refused(f"{key}: expected a whole number, got {_show(body.get(key, default))}")
    return int(x)


def text(body: dict[str, Any], key: str, default: Any = _MISSING, max_length: int = 200) -> str:
    """``body[key]`` as a str of at most ``max_length`` characters."""
    value = _get(body, key, default)
    if not isinstance(value, str):
        raise Refused(f"{key}: expected text, got {_show(value)}")
    if len(value) > max_length:
        raise Refused(f"{key}: too long ({len(value)} characters; the limit is {max_length})")
    return value


def choice(body: dict[str, Any], key: str, options: Sequence[str], default: Any = _MISSING) -> str:
    """``body[key]``, which must be one of ``options``."""
    value = _get(body, key, default)
    if value not in options:
        raise Refused(f"{key}: {_show(value)} is not one of {', '.join(options)}")
    return value


def flag(body: dict[str, Any], key: str, default: Any = _MISSING) -> bool:
    """``body[key]`` as a bool (JSON true/false only)."""
    value = _get(body, key, default)
    if not isinstance(value, bool):
        raise Refused(f"{key}: expected true or false, got {_show(value)}")
    return value


def point(body: dict[str, Any], key: str, default: Any = _MISSING, dims: int = 2,
          bound: float = 1e6) -> tuple[float, ...]:
    """``body[key]`` as ``dims`` finite floats: a list ``[x, y]`` or the text ``"x, y"``."""
    value = _get(body, key, default)
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split()]
    if not isinstance(value, (list, tuple)) or len(value) != dims:
        raise Refused(f"{key}: expected {dims} numbers, got {_show(value)}")
    return tuple(number({key: v}, key, lo=-bound, hi=bound) for v in value)


def expression(body: dict[str, Any], key: str, variables: Sequence[str], default: Any = _MISSING,
               max_length: int = 200) -> Expr:
    """``body[key]`` parsed by :mod:`tinygrad_mvc.expr` (never Python), using only ``variables``."""
    source = text(body, key, default, max_length)
    if not source.strip():
        raise Refused(f"{key}: the expression is empty")
    try:
        parsed = parse(source)
    except ExprError as err:
        raise Refused(f"{key}: {err}") from None
    unknown = [v for v in parsed.variables if v not in variables]
    if unknown:
        allowed = " and ".join(variables)
        raise Refused(f"{key}: unknown variable {', '.join(unknown)}; use {allowed}")
    return parsed


def sample_grid(f: Expr, domain: Sequence[float], n: int, variables: Sequence[str] = ("x", "y")) -> np.ndarray:
    """f on an n × n grid over ``domain = (xmin, xmax, ymin, ymax)``, rows from ymin upwards, by this engine.

    One vectorised evaluation through the framework's ops (no graph: nothing needs a gradient).
    """
    xmin, xmax, ymin, ymax = domain
    xs, ys = np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n)
    gx, gy = np.meshgrid(xs, ys)
    values = {variables[0]: gx, variables[1]: gy}
    with np.errstate(all="ignore"):
        out = f.evaluate({v: values[v] for v in f.variables}).numpy()
    return np.broadcast_to(out, gx.shape).astype(float)


def _float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy arrays and scalars turned into lists and Python numbers, non-finite ones into strings."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            return jsonable(obj.real.astype(float).tolist())
        return obj.tolist()
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _float(float(obj))
    return obj
