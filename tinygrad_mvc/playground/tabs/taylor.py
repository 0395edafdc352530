"""The Taylor tab: f, its Taylor polynomial of order 0–10 around x₀ and the error; and a 2-D mode.

Every number comes from :func:`tinygrad_mvc.taylor` (and, in 2-D, :func:`tinygrad_mvc.grad` and
:func:`tinygrad_mvc.hessian`): this module reads the request, picks a window and samples there.

Actions (``POST /api/taylor/NAME``; a field left out keeps its last accepted value, a refused request changes
nothing):

- ``expand``: ``expr`` (f of x), ``x0``, ``order`` (0 … ``Limits.max_order``), ``half_width`` (of the plot
  window). Answers ``coefficients`` = ``tg.taylor(f, x0, order).coefficients`` (f⁽ᵏ⁾(x₀)/k!, lowest order
  first), f and the polynomial p sampled over the window, log₁₀|f − p|, and y ranges to draw them in.
- ``plane``: ``expr`` (f of x and y), ``point`` (``"x, y"`` or ``[x, y]``). Answers f(p), ∇f(p) by ``tg.grad``
  and the Hessian by ``tg.hessian``, f on a grid, the linear and quadratic models ``tg.taylor(f, p, 1)`` and
  ``tg.taylor(f, p, 2)`` on the same grid within ``radius`` of p (NaN further out), and contour levels around f(p).

Order k costs a few times order k − 1 (each derivative is taken of the recorded previous one), so one request
may spend at most ``Limits.max_taylor_seconds`` (of its thread's CPU time) on derivatives: the orders are computed
one after another (each a fresh ``tg.taylor(f, x0, k)``, remembered for this f and x₀) and an order predicted to
overrun is refused; asking again goes on from the orders already done.

The page's test ids, beyond the contract's ``taylor-expr``, ``taylor-x0``, ``taylor-order`` and
``taylor-coefficients``: ``taylor-mode-1d`` and ``taylor-mode-2d`` (buttons choosing the mode), ``taylor-preset``
(a select that writes f into ``taylor-expr``), ``taylor-order-value`` (text: the order shown), ``taylor-window``
(number input: the window's half-width), ``taylor-plot`` (canvas with ``data-domain``; a click sets x₀),
``taylor-error`` (canvas), ``taylor-table`` (the coefficients, one row per k); in 2-D ``taylor2-preset``,
``taylor2-expr``, ``taylor2-point`` (text input ``x, y``), ``taylor2-map`` (canvas with ``data-domain``; a click
sets the point), ``taylor2-value`` (text: f(p)), ``taylor2-gradient`` (text ``gx, gy``), ``taylor2-hessian``
(text ``hxx, hxy; hyx, hyy``), ``taylor2-linear`` and ``taylor2-quadratic`` (checkboxes: draw each model).

>>> from tinygrad_mvc.playground.limits import Limits
>>> expand({}, {"expr": "exp(x)", "x0": 0.0, "order": 3}, Limits())["coefficients"]
[1.0, 1.0, 0.5, 0.16666666666666666]
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...expr import Expr, parse
from ...taylor import TaylorApproximation, taylor
from ...transforms import grad, hessian
from ..limits import Limits
from ..protocol import Refused, expression, integer, jsonable, number, point, sample_grid

BOUND = 1e6
"""Largest |x₀| (and |x|, |y| of a 2-D point): beyond it a window of floats would lose its resolution."""

_DEFAULT_1D = {"expr": "sin(x)", "x0": 0.0, "order": 3, "half_width": 4.0, "center": 0.0}
_DEFAULT_2D = {"expr": "sin(x)*cos(y)", "point": (1.0, 0.5), "half_width": 3.0, "center": (0.0, 0.0)}
_SAMPLES = 241  # points along a curve: smooth at 600 px
_GRID = 61  # per side of the 2-D maps (three of them per answer)
_MEMO_KEYS = 4  # (f, x0) pairs whose coefficients are remembered
_ERROR_FLOOR = -16.0  # log10 of the smallest error drawn: float64 rounding is about there
_ERROR_CEILING = 6.0  # the error plot stops here: a polynomial far from f is off the picture anyway
_NEAR = 0.4  # the 2-D models are drawn within this fraction of the window's half-width of the point


# --------------------------------------------------------------------------- shared with the Newton tab


def _of_x(expr: Expr) -> Callable[[Any], Any]:
    """``f(x)`` for the engine: the expression at x (a constant expression ignores x)."""
    uses_x = "x" in expr.variables
    return lambda x: expr.evaluate({"x": x} if uses_x else {})


def _samples(f: Callable[[Any], Any], xs: np.ndarray) -> np.ndarray:
    """f at every x of ``xs``, by the engine in one vectorised evaluation, as floats."""
    out = np.asarray(f(xs).numpy(), dtype=np.float64)
    return np.broadcast_to(out, xs.shape).copy()


def _y_range(values: np.ndarray, must: Sequence[float] = ()) -> list[float]:
    """A y range showing most of ``values`` (2nd to 98th percentile, so a pole does not flatten the rest) and
    every finite number of ``must``, with a margin.

    >>> _y_range(np.linspace(-1.0, 1.0, 101))
    [-1.1904, 1.1904]
    """
    finite = values[np.isfinite(values)]
    extra = [float(m) for m in must if math.isfinite(m)]
    if finite.size:
        lo, hi = (float(v) for v in np.percentile(finite, [2, 98]))
    elif extra:
        lo, hi = min(extra), max(extra)
    else:
        return [-1.0, 1.0]
    lo, hi = min([lo, *extra]), max([hi, *extra])
    span = hi - lo if hi > lo else max(1.0, abs(hi))
    return [lo - 0.12 * span, hi + 0.12 * span]


def _recentred(center: float, x: float, half_width: float) -> float:
    """The window's centre: kept while x is in its middle 80 % (so a click does not move the picture)."""
    return center if abs(x - center) <= 0.8 * half_width else x


# --------------------------------------------------------------------------- 1-D: f, p and the error


def expand(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The Taylor polynomial of f of x around x₀: coefficients, curves and error over the window.

    >>> view = expand({}, {"expr": "log(1+x)", "x0": 0.0, "order": 2}, Limits())
    >>> view["coefficients"], view["window"]
    ([0.0, 1.0, -0.5], [-4.0, 4.0])
    """
    new = {**_DEFAULT_1D, **state.get("1d", {})}
    if "expr" in body:
        new["expr"] = expression(body, "expr", ("x",), max_length=limits.max_expression).text
    if "x0" in body:
        new["x0"] = number(body, "x0", lo=-BOUND, hi=BOUND)
    if "order" in body:
        new["order"] = integer(body, "order", lo=0, hi=limits.max_order)
    if "half_width" in body:
        new["half_width"] = number(body, "half_width", lo=1e-3, hi=BOUND)
    new["center"] = _recentred(new["center"], new["x0"], new["half_width"])
    view = _expansion(state, new, limits)
    state["1d"] = new
    return jsonable(view)


def _expansion(state: dict[str, Any], s: dict[str, Any], limits: Limits) -> dict[str, Any]:
    f = _of_x(parse(s["expr"]))
    x0, order = s["x0"], s["order"]
    coefficients = _coefficients(state, f, (s["expr"], x0), order, limits)
    approximation = TaylorApproximation(f, np.array(x0), order, coefficients)  # tg.taylor's, not derived again
    a, b = s["center"] - s["half_width"], s["center"] + s["half_width"]
    xs = np.linspace(a, b, _SAMPLES)
    fx, px = _samples(f, xs), np.asarray(approximation(xs), dtype=np.float64)
    with np.errstate(all="ignore"):
        error = np.clip(np.log10(np.abs(fx - px)), _ERROR_FLOOR, None)
    return {
        "expr": s["expr"], "x0": x0, "order": order, "half_width": s["half_width"],
        "coefficients": coefficients,
        "derivatives": [c * math.factorial(k) for k, c in enumerate(coefficients.tolist())],
        "window": [a, b], "xs": xs, "f": fx, "p": px, "ylim": _y_range(fx, [coefficients[0]]),
        "error": error, "error_ylim": _error_range(error), "note": _note(coefficients, fx, x0),
    }


def _error_range(error: np.ndarray) -> list[float]:
    finite = error[np.isfinite(error)]
    if not finite.size:
        return [_ERROR_FLOOR, 0.0]
    lo = max(_ERROR_FLOOR, math.floor(float(finite.min()))) - 0.5
    hi = min(_ERROR_CEILING, math.ceil(float(finite.max()))) + 0.5
    return [lo, max(hi, lo + 2.0)]


def _note(coefficients: np.ndarray, fx: np.ndarray, x0: float) -> str:
    """What a non-finite number on the page means, or ""."""
    if not np.all(np.isfinite(coefficients)):
        return (f"f or one of its derivatives is not finite at x₀ = {x0!r}: there is no Taylor polynomial "
                f"there; move x₀")
    if not np.any(np.isfinite(fx)):
        return "f is not finite anywhere in the window; move x₀ or change the window"
    return ""


def _coefficients(state: dict[str, Any], f: Callable[[Any], Any], key: tuple[str, float], order: int,
                  limits: Limits) -> np.ndarray:
    """``tg.taylor(f, x0, order).coefficients``, computing the lower orders first (remembered per (f, x0)) so
    that the cost of the next order can be predicted and refused before it is spent."""
    memo: dict[tuple[str, float], dict[int, tuple[np.ndarray, float]]] = state.setdefault("memo", {})
    done = memo.pop(key, None) or {}
    memo[key] = done  # the most recently used last
    while len(memo) > _MEMO_KEYS:
        del memo[next(iter(memo))]
    spent = 0.0
    for k in range(order + 1):
        if k in done:
            continue
        guess = _predicted_seconds(done, k)
        if guess and spent + guess > limits.max_taylor_seconds:  # orders 0 and 1: one pass each, always
            raise Refused(_too_slow(k, guess, spent, limits.max_taylor_seconds))
        start = time.thread_time()  # this thread's CPU time: other processes' load does not inflate it
        coefficients = taylor(f, key[1], k).coefficients
        done[k] = (coefficients, time.thread_time() - start)
        spent += done[k][1]
    return done[order][0]


def _too_slow(k: int, guess: float, spent: float, limit: float) -> str:
    head = f"order {k} of this f would take about {guess:.2g} s"
    cap = f"one request may spend {limit:g} s on derivatives (max_taylor_seconds)"
    if guess > limit:
        return f"{head}; {cap}: choose order {k - 1} or lower, or a shorter f"
    return f"{head} more after {spent:.2g} s on the orders below; {cap}: ask again to go on"


def _predicted_seconds(done: dict[int, tuple[np.ndarray, float]], k: int) -> float:
    """Order k's time from those before it: each order costs a roughly constant factor more (measured over the
    last two steps where there are two, so one noisy timing does not swing it; times under 1 ms count as 1 ms)."""
    if k < 2:
        return 0.0
    back = min(k - 1, 2)
    last, before = max(done[k - 1][1], 1e-3), max(done[k - 1 - back][1], 1e-3)
    return last * min(max((last / before) ** (1 / back), 1.0), 6.0)


# --------------------------------------------------------------------------- 2-D: the tangent plane and the quadratic


def plane(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """f of x and y near a point: value, gradient, Hessian, f's map and the two Taylor models over it.

    >>> view = plane({}, {"expr": "x**2 + 3*y**2", "point": "1, 1"}, Limits())
    >>> view["value"], view["gradient"], view["hessian"]
    (4.0, [2.0, 6.0], [[2.0, 0.0], [0.0, 6.0]])
    """
    new = {**_DEFAULT_2D, **state.get("2d", {})}
    if "expr" in body:
        new["expr"] = expression(body, "expr", ("x", "y"), max_length=limits.max_expression).text
    if "point" in body:
        new["point"] = point(body, "point", bound=BOUND)
    w = new["half_width"]
    new["center"] = tuple(_recentred(c, p, w) for c, p in zip(new["center"], new["point"]))
    view = _plane_view(new, limits)
    state["2d"] = new
    return jsonable(view)


def _of_xy(expr: Expr) -> Callable[[Any], Any]:
    """``f(v)`` for the engine, v = (x, y)."""
    names = [n for n in ("x", "y") if n in expr.variables]
    return lambda v: expr.evaluate({n: v[i] for i, n in enumerate(("x", "y")) if n in names})


def _plane_view(s: dict[str, Any], limits: Limits) -> dict[str, Any]:
    expr = parse(s["expr"])
    f, p, w = _of_xy(expr), np.array(s["point"], dtype=np.float64), s["half_width"]
    gradient, hess = np.asarray(grad(f)(p), dtype=np.float64), np.asarray(hessian(f)(p), dtype=np.float64)
    linear, quadratic = taylor(f, p, 1), taylor(f, p, 2)
    cx, cy = s["center"]
    domain = (cx - w, cx + w, cy - w, cy + w)
    n = min(_GRID, limits.max_grid)
    gx, gy = np.meshgrid(np.linspace(domain[0], domain[1], n), np.linspace(domain[2], domain[3], n))
    grid = np.stack([gx, gy], axis=-1)
    far = np.hypot(gx - p[0], gy - p[1]) > _NEAR * w
    fgrid = sample_grid(expr, domain, n)
    value = float(quadratic.coefficients[0])
    return {
        "expr": s["expr"], "point": p, "value": value, "gradient": gradient, "hessian": hess,
        "domain": domain, "grid": fgrid, "radius": _NEAR * w,
        "linear": np.where(far, np.nan, linear(grid)), "quadratic": np.where(far, np.nan, quadratic(grid)),
        "levels": _levels_near(fgrid, ~far, value), "arrow": _arrow(p, gradient, 0.3 * w),
        "note": "" if np.all(np.isfinite([value, *gradient, *hess.ravel()])) else
        "f, its gradient or its Hessian is not finite at p: there are no Taylor models there; move p",
    }


def _levels_near(fgrid: np.ndarray, near: np.ndarray, value: float) -> list[float]:
    """Eleven evenly spaced contour levels through f(p), spanning f's values near p (so the models, drawn at
    the same levels, can be compared line by line)."""
    local = fgrid[near & np.isfinite(fgrid)]
    if not local.size or not math.isfinite(value):
        return []
    step = max(float(local.max()) - value, value - float(local.min())) / 5
    if not step > 0:
        return [value]
    return [value + k * step for k in range(-5, 6)]


def _arrow(p: np.ndarray, gradient: np.ndarray, length: float) -> list[list[float]] | None:
    """The gradient's direction at p, drawn ``length`` long (its size is in the read-out)."""
    size = float(np.hypot(*gradient))
    if not (size > 0 and math.isfinite(size)):
        return None
    return [p.tolist(), (p + gradient * (length / size)).tolist()]


ACTIONS = {"expand": expand, "plane": plane}
