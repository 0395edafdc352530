"""The Lagrange tab: stationary points of f(x, y) on the curve g(x, y) = 0, by ``tg.optimize.lagrange_multipliers``.

Actions (every body carries ``f`` and ``g``, expressions of x and y, so no answer depends on an earlier request):

- ``map`` ``{f, g, domain, n}``: f and g on an n × n grid over ``domain = [xmin, xmax, ymin, ymax]``; the page
  draws f as a heat map with contours and the constraint curve as g's contour at 0;
- ``solve`` ``{f, g, domain}``: the constrained stationary points inside the domain, each from
  ``lagrange_multipliers`` run with its defaults from a spread of starts on the curve, de-duplicated and sorted
  by x then y, with λ (∇f = λ∇g) and the classification exactly as the engine returns them;
- ``cursor`` ``{f, g, at}``: f, g, ∇f and ∇g at one point (the page's mouse), and whether ∇f ∥ ∇g there.

>>> out = ACTIONS["solve"]({}, {"f": "x + y", "g": "x**2 + y**2 - 1", "domain": [-2, 2, -2, 2]}, Limits())
>>> [(round(p["x"][0], 12), round(p["lambda"], 12), p["kind"]) for p in out["points"]]
[(-0.707106781187, -0.707106781187, 'minimum'), (0.707106781187, 0.707106781187, 'maximum')]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_mvc as tg

from ...expr import Expr
from ..limits import Limits
from ..protocol import Refused, expression, integer, point, sample_grid

VARIABLES = ("x", "y")
MIN_STARTS, MAX_STARTS, UNTIL_NOTHING_NEW = 16, 48, 8
"""A solve runs lagrange_multipliers from at least MIN_STARTS and at most MAX_STARTS starts spread along the
curve (each run stops after its default 50 iterations), and stops once the last half of its runs, and at least
UNTIL_NOTHING_NEW, found no new point: a curve with many stationary points gets more starts, a simple one is
quick."""
START_GRID = 41
"""The grid on which the starts are looked for: the cells where g changes sign."""
SAME_POINT = 1e-6
"""Two converged points closer than this share of the domain are one stationary point."""
PARALLEL_DEGREES = 1.0
"""∇f and ∇g within this angle of one line count as parallel at the cursor."""
COLOUR_LEVELS = 33
"""The map colours f by its rank among the grid's values: these many quantiles (0 %, ..., 100 %) mark the scale, so
every shade covers about as much of the map and a few steep corners do not wash out the rest."""
MAX_ASPECT = 10.0
"""The domain's sides may differ by this factor at most (the map keeps one unit as long on both axes)."""


# ----------------------------------------------------------------------------- reading requests

def _functions(body: dict[str, Any], limits: Limits) -> tuple[Expr, Expr]:
    f = expression(body, "f", VARIABLES, max_length=limits.max_expression)
    g = expression(body, "g", VARIABLES, max_length=limits.max_expression)
    return f, g


def _domain(body: dict[str, Any]) -> tuple[float, float, float, float]:
    xmin, xmax, ymin, ymax = point(body, "domain", dims=4, bound=1e4)
    if not (xmin < xmax and ymin < ymax):
        raise Refused(f"domain: need xmin < xmax and ymin < ymax, got {xmin!r} {xmax!r} {ymin!r} {ymax!r}")
    w, h = xmax - xmin, ymax - ymin
    if min(w, h) < 1e-6 * max(1.0, abs(xmin), abs(xmax), abs(ymin), abs(ymax)):
        raise Refused("domain: too narrow to draw; make each side longer")
    if max(w, h) > MAX_ASPECT * min(w, h):
        raise Refused(f"domain: one side is {max(w, h) / min(w, h):.3g} times the other; the limit is "
                      f"{MAX_ASPECT:g} (the map keeps x and y on one scale)")
    return xmin, xmax, ymin, ymax


def _engine_function(e: Expr) -> Callable[[Any, Any], Any]:
    """``e`` as f(x, y) for the engine (an expression of only x, or of neither, ignores the other input)."""
    def fn(x: Any, y: Any) -> Any:
        given = {"x": x, "y": y}
        return e.evaluate({v: given[v] for v in e.variables})
    return fn


# ----------------------------------------------------------------------------- actions

def map_(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """f and g on an n × n grid (rows from ymin upwards): ``{"f": grid, "g": grid, "domain", "f_range",
    "colour_levels"}`` (f's quantiles, by which the page colours it; see COLOUR_LEVELS).

    >>> out = map_({}, {"f": "x", "g": "y - 0.5", "domain": [0, 7, 0, 7], "n": 8}, Limits())
    >>> out["f"][0].tolist(), out["g"][:, 0].tolist(), out["f_range"], out["curve"]
    ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [-0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5], [0.0, 7.0], True)
    >>> len(out["colour_levels"]), out["colour_levels"][0], out["colour_levels"][16], out["colour_levels"][-1]
    (33, 0.0, 3.5, 7.0)
    """
    f, g = _functions(body, limits)
    domain = _domain(body)
    n = integer(body, "n", 81, lo=8, hi=limits.max_grid)
    fg, gg = sample_grid(f, domain, n), sample_grid(g, domain, n)
    return {"f": fg, "g": gg, "domain": domain, "n": n, **_ranges(fg), "curve": bool(_crossings(gg, domain).size)}


def solve(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The stationary points of f on g = 0 inside the domain: ``{"points": [{"x", "lambda", "kind", "f"}], ...}``.

    Each point is ``lagrange_multipliers(f, g, start)``'s own answer (``x``, ``multipliers[0]``,
    ``classification``, ``fun``); of several runs reaching one point, the one with the smallest KKT residual.

    >>> out = solve({}, {"f": "x", "g": "x**2 + y**2 - 4", "domain": [-3, 3, -3, 3]}, Limits())
    >>> [(p["x"][0], abs(p["x"][1]) < 1e-15, p["lambda"], p["kind"]) for p in out["points"]]
    [(-2.0, True, -0.25, 'minimum'), (2.0, True, 0.25, 'maximum')]
    """
    f, g = _functions(body, limits)
    domain = _domain(body)
    F, G = _engine_function(f), _engine_function(g)
    candidates, on_curve = _starts(g, domain)
    found: list[Any] = []
    runs = since_new = 0
    for x0 in candidates:
        if runs >= MIN_STARTS and since_new >= max(UNTIL_NOTHING_NEW, runs // 2):
            break
        r = tg.optimize.lagrange_multipliers(F, G, x0)
        runs, since_new = runs + 1, since_new + 1
        # a point where f itself is not finite (log(x) at x = -1) is outside f's domain, whatever ∇f says
        if r.converged and np.all(np.isfinite(r.x)) and np.isfinite(r.fun) and _inside(r.x, domain):
            since_new = 0 if _is_new(r, found, domain) else since_new
            found.append(r)
    points = sorted((_point_json(r) for r in _distinct(found, domain)), key=_by_x(domain))
    return {"points": points, "starts": runs, "converged": len(found), "starts_on_curve": on_curve,
            "note": _solve_note(points, runs, len(found), on_curve)}


def cursor(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """f, g, ∇f and ∇g at ``at`` (from the engine), the angle between ∇f and ∇g and whether they are parallel.

    >>> out = cursor({}, {"f": "x*y", "g": "x + y", "at": [1.0, 2.0]}, Limits())
    >>> out["grad_f"], out["grad_g"], out["parallel"]
    ([2.0, 1.0], [1.0, 1.0], False)
    """
    f, g = _functions(body, limits)
    at = point(body, "at", bound=1e4)
    fv, gf = _value_and_gradient(f, at)
    gv, gg = _value_and_gradient(g, at)
    angle, parallel = _angle(gf, gg)
    return {"at": at, "f": fv, "g": gv, "grad_f": gf, "grad_g": gg, "angle": angle, "parallel": parallel,
            "note": _cursor_note(gf, gg, gv, angle, parallel)}


ACTIONS = {"map": map_, "solve": solve, "cursor": cursor}


def _ranges(grid: np.ndarray) -> dict[str, list[float]]:
    finite = grid[np.isfinite(grid)]
    if not finite.size:
        return {"f_range": [math.nan, math.nan], "colour_levels": []}
    levels = np.quantile(finite, np.linspace(0.0, 1.0, COLOUR_LEVELS))
    return {"f_range": [float(finite.min()), float(finite.max())], "colour_levels": [float(v) for v in levels]}


# ----------------------------------------------------------------------------- the starts

def _crossings(grid: np.ndarray, domain: tuple[float, ...] = (0.0, 1.0, 0.0, 1.0)) -> np.ndarray:
    """Where g = 0 crosses the grid's edges (linear interpolation along each edge), as (k, 2) points."""
    n = grid.shape[0]
    xmin, xmax, ymin, ymax = domain
    xs, ys = np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n)
    gx, gy = np.meshgrid(xs, ys)
    found = [np.stack([gx[grid == 0], gy[grid == 0]], axis=1)]
    for axis in (0, 1):  # edges between neighbours along y (axis 0), then along x
        a, b = (grid[:-1], grid[1:]) if axis == 0 else (grid[:, :-1], grid[:, 1:])
        pa, pb = ((gx[:-1], gy[:-1]), (gx[1:], gy[1:])) if axis == 0 else ((gx[:, :-1], gy[:, :-1]),
                                                                             (gx[:, 1:], gy[:, 1:]))
        cut = np.isfinite(a) & np.isfinite(b) & (a * b < 0)
        t = a[cut] / (a[cut] - b[cut])
        found.append(np.stack([pa[0][cut] + t * (pb[0][cut] - pa[0][cut]),
                               pa[1][cut] + t * (pb[1][cut] - pa[1][cut])], axis=1))
    return np.concatenate(found)


def _starts(g: Expr, domain: tuple[float, float, float, float]) -> tuple[list[list[float]], bool]:
    """Up to MAX_STARTS starts spread over the curve g = 0 as the grid sees it (or over the whole domain when the
    grid sees no sign change of g), each as far as can be from those before it, and whether they lie on the
    curve."""
    candidates = _crossings(sample_grid(g, domain, START_GRID), domain)
    on_curve = bool(candidates.size)
    if not on_curve:
        xmin, xmax, ymin, ymax = domain
        gx, gy = np.meshgrid(np.linspace(xmin, xmax, 7)[1:-1], np.linspace(ymin, ymax, 7)[1:-1])
        candidates = np.stack([gx.ravel(), gy.ravel()], axis=1)
    return [list(map(float, p)) for p in _spread(candidates, domain, MAX_STARTS)], on_curve


def _spread(points: np.ndarray, domain: tuple[float, ...], k: int) -> np.ndarray:
    """``k`` of ``points`` far from each other (farthest-point sampling in domain units, from the first)."""
    scale = np.array([domain[1] - domain[0], domain[3] - domain[2]])
    unit = points / scale
    chosen = [0]
    distance = np.linalg.norm(unit - unit[0], axis=1)
    while len(chosen) < min(k, len(points)):
        far = int(np.argmax(distance))
        if distance[far] <= 0:
            break
        chosen.append(far)
        distance = np.minimum(distance, np.linalg.norm(unit - unit[far], axis=1))
    return points[chosen]


def _inside(x: np.ndarray, domain: tuple[float, float, float, float]) -> bool:
    xmin, xmax, ymin, ymax = domain
    return bool(xmin <= x[0] <= xmax and ymin <= x[1] <= ymax)


def _is_new(r: Any, kept: list[Any], domain: tuple[float, ...]) -> bool:
    """Whether ``r.x`` is farther than SAME_POINT of the domain from every point of ``kept``."""
    scale = np.array([domain[1] - domain[0], domain[3] - domain[2]])
    return all(np.linalg.norm((r.x - k.x) / scale) > SAME_POINT for k in kept)


def _distinct(found: list[Any], domain: tuple[float, ...]) -> list[Any]:
    """One result per stationary point (see _is_new); the smallest KKT residual speaks for it."""
    kept: list[Any] = []
    for r in sorted(found, key=lambda r: r.kkt_residual):
        if _is_new(r, kept, domain):
            kept.append(r)
    return kept


def _by_x(domain: tuple[float, ...]) -> Callable[[dict[str, Any]], tuple[float, float]]:
    """Sort by x, then y; x that agree to SAME_POINT of the domain count as equal (a mirror pair sorts by y)."""
    step = SAME_POINT * (domain[1] - domain[0])
    return lambda p: (round(p["x"][0] / step), p["x"][1])


def _point_json(r: Any) -> dict[str, Any]:
    return {"x": [float(r.x[0]), float(r.x[1])], "lambda": float(r.multipliers[0]), "kind": r.classification,
            "f": float(r.fun), "kkt_residual": float(r.kkt_residual), "iterations": int(r.n_iter)}


def _solve_note(points: list[dict[str, Any]], starts: int, converged: int, on_curve: bool) -> str:
    where = "on the curve g = 0" if on_curve else "over the domain (the grid sees no sign change of g)"
    found = f"{len(points)} stationary point{'s' if len(points) != 1 else ''}" if points else "no stationary point"
    return (f"{found} inside the domain, from {starts} starts {where}; {converged} of the runs converged "
            f"inside the domain")


# ----------------------------------------------------------------------------- the cursor

def _value_and_gradient(e: Expr, at: tuple[float, ...]) -> tuple[float, list[float]]:
    value, grads = tg.value_and_grad(_engine_function(e), argnums=(0, 1))(*at)
    return float(value), [float(np.asarray(gr)) for gr in grads]


def _angle(a: list[float], b: list[float]) -> tuple[float, bool]:
    """The angle in degrees between the lines of a and b (0 to 90), and whether it is within PARALLEL_DEGREES."""
    na, nb = math.hypot(*a), math.hypot(*b)
    if not (na > 0 and nb > 0 and math.isfinite(na * nb)):
        return math.nan, False
    sine = abs(a[0] * b[1] - a[1] * b[0]) / (na * nb)
    angle = math.degrees(math.asin(min(1.0, sine)))
    return angle, angle <= PARALLEL_DEGREES


def _cursor_note(gf: list[float], gg: list[float], g: float, angle: float, parallel: bool) -> str:
    if not all(map(math.isfinite, [*gf, *gg, g])):
        return "f or g is not differentiable here (a gradient is not finite)"
    if math.hypot(*gg) == 0:
        return "∇g = 0 here: the constraint has no normal direction, Lagrange's condition does not apply"
    if math.hypot(*gf) == 0:
        return "∇f = 0 here: f is flat, so ∇f = λ∇g holds with λ = 0"
    if parallel:
        return (f"∇f ∥ ∇g here (angle {angle:.2g}°): ∇f = λ∇g, Lagrange's condition; where g = 0 as well, f has "
                f"a stationary point on the curve")
    return f"∇f and ∇g are {angle:.3g}° apart: not parallel, so f still changes along the curve's direction here"
