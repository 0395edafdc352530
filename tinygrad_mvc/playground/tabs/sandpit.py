"""The Sandpit tab: gradient descent, momentum, Newton and Adam walking down a landscape f(x, y), and a game.

Every number comes from the engine: the map is f on a grid (:func:`~..protocol.sample_grid`), a run is
``tg.optimize.gradient_descent`` / ``tg.optimize.newton_minimize`` called with the library's defaults (or a
plain ``tg.optim.Adam`` loop with the same stopping rule), and the local picture at a point is ``tg.grad`` and
``tg.hessian`` with ``np.linalg.eigh``. ``f`` is called as ``f(x, y)``, as a user of ``tg.optimize`` writes it.

Actions (``POST /api/sandpit/NAME``; points are ``[x, y]`` or ``"x, y"``, a domain is
``[xmin, xmax, ymin, ymax]`` or ``"xmin xmax ymin ymax"``):

- ``presets`` -> ``{"presets": [{name, label, formula, domain, start}], "max_lr", "default"}``.
- ``landscape`` ``{preset}`` (its formula, domain and start) or ``{expr[, domain][, grid]}`` (a typed f keeps
  the current domain and, if it is inside the new domain, the start) -> ``{preset, expr, domain, grid (n × n,
  rows from ymin up), start, at}``; the old path and any game are dropped.
- ``start`` ``{start}`` (inside the domain) -> ``{start, at}``; the old path is dropped.
- ``run`` ``{method, lr[, start]}`` -> ``{method, lr, start, n, position, value, converged, message,
  classification, path, iterates, values, thinned, at}``. ``n`` is the true iteration count (the path has
  ``n + 1`` points); a path longer than ``Limits.max_path`` is sent thinned (first and last points kept,
  ``iterates`` gives each point's iterate number). Methods: ``gd`` = ``gradient_descent(f, start, lr=lr)``,
  ``momentum`` = the same with ``momentum=0.9``, ``newton`` = ``newton_minimize(f, start)`` (lr is not read:
  the answer's ``lr`` is null), ``adam`` = ``tg.optim.Adam([p], lr=lr)`` stepped from ``p = start`` until the
  gradient's max-norm is at most 1e-8 (converged) or after 1000 steps, the stopping rule of
  ``gradient_descent``; a value or gradient that is not finite stops it (diverged). The iteration cap is
  ``min(1000, Limits.max_steps)``: a pacing cap, so a smaller ``max_steps`` shortens runs (``max_iter=``)
  instead of refusing them.
- ``inspect`` ``{index}`` (a point of the last path as sent) or ``{point}`` -> ``at``: ``{point, value,
  gradient, hessian, eigenvalues, eigenvectors (columns), curving, stationary}`` (``curving`` is "up", "down"
  or "flat" for each eigen-direction; ``stationary``: the gradient's max-norm is at most 1e-8).
- ``game`` ``{on}``: on starts "find the minimum in few clicks" (the global minimum is found here by
  ``newton_minimize`` from the grid's lowest local dips, kept inside the domain; a landscape without a minimum
  inside it is refused); off ends it. -> ``{on, clicks, tolerance}``.
- ``dip`` ``{point}`` -> ``{clicks, point, value, gradient, won[, minima, minimum_value]}``; a dip
  within ``tolerance`` of a global minimum wins and reveals them. At most ``Limits.max_path`` dips per game.

Page testids beyond API.md §12: ``sandpit-domain`` (text ``xmin xmax ymin ymax``, acts on change),
``sandpit-converged`` (``true``/``false``), ``sandpit-result`` (the run's message), ``sandpit-iterate`` (range
input over the path's points: the current point), ``sandpit-iterate-label``, ``sandpit-at`` (the current point),
``sandpit-at-value``, ``sandpit-gradient`` (``gx, gy``), ``sandpit-hessian`` (``a, b; c, d``),
``sandpit-eigenvalues`` (``l1, l2``), ``sandpit-game`` (checkbox), ``sandpit-clicks``, ``sandpit-game-status``
(``playing`` or ``won``), ``sandpit-dip`` and ``sandpit-dip-value`` (the last dip and f there),
``sandpit-minimum`` (the global minima once won, ``x, y`` joined by ``; ``), ``sandpit-legend``,
``sandpit-values`` (the canvas of f along the path).

>>> state = {}
>>> _ = ACTIONS["landscape"](state, {"preset": "bowl"}, Limits())
>>> r = ACTIONS["run"](state, {"method": "gd", "lr": 0.1, "start": [1.0, 0.5]}, Limits())
>>> r["n"], r["converged"], len(r["path"]) == r["n"] + 1
(86, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_mvc as tg

from ..limits import Limits
from ..protocol import Refused, choice, expression, flag, integer, number, point, sample_grid

METHODS = ("gd", "momentum", "newton", "adam")
"""The run methods, as ``sandpit-method`` offers them."""
MOMENTUM = 0.9
"""The momentum of the ``momentum`` method."""
MAX_ITER, TOL = 1000, 1e-8
"""gradient_descent's defaults, which the Adam loop copies as its stopping rule."""
MAX_LR = 10.0
"""Largest step size accepted (beyond it every preset diverges in one step)."""
GRID = 80
"""Default map resolution per side."""
GAME_TOLERANCE = 0.03
"""A dip wins within this fraction of the domain's larger side of a global minimum."""
BOUND = 1e6
"""No coordinate of a domain or point may exceed this in size."""


def _pits() -> str:
    """The course's sandpit (tinygrad_mvc.course.multivariate): a gentle bowl with three Gaussian dips."""
    from ...course.multivariate import DIPS, SIZE

    c = SIZE / 2  # the numbers are short decimals, which :g writes exactly
    dips = "".join(f" - {'' if a == 1 else f'{a:g}*'}exp(-((x - {cx:g})**2 + (y - {cy:g})**2)/(2*{s:g}**2))"
                   for cx, cy, a, s in DIPS)
    return f"0.01*((x - {c:g})**2 + (y - {c:g})**2){dips}"


PRESETS: dict[str, dict[str, Any]] = {
    "bowl": {"label": "bowl", "formula": "x**2 + y**2", "domain": (-2.0, 2.0, -2.0, 2.0), "start": (1.5, 1.0),
             "lr": 0.1},
    "rosenbrock": {"label": "Rosenbrock's banana", "formula": "(1 - x)**2 + 100*(y - x**2)**2",
                   "domain": (-2.0, 2.0, -1.0, 3.0), "start": (-1.2, 1.0), "lr": 0.001},
    "pits": {"label": "sandpit: three dips", "formula": _pits(), "domain": (0.0, 6.0, 0.0, 6.0),
             "start": (3.2, 3.0), "lr": 0.4},
    "himmelblau": {"label": "Himmelblau: four minima", "formula": "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
                   "domain": (-5.0, 5.0, -5.0, 5.0), "start": (0.0, 0.0), "lr": 0.01},
    "saddle": {"label": "saddle", "formula": "x**2 - y**2", "domain": (-2.0, 2.0, -2.0, 2.0),
               "start": (1.5, 0.05), "lr": 0.1},
    "valley": {"label": "long valley", "formula": "x**2 + 10*y**2", "domain": (-3.0, 3.0, -3.0, 3.0),
               "start": (-2.5, 1.5), "lr": 0.09},
}
"""The preset landscapes: formula (parsed like a typed one), domain, a start point and a step size that works
(the page suggests it; it never changes ``sandpit-lr``)."""
DEFAULT_PRESET = "pits"


# ----------------------------------------------------------------------------- reading the landscape

def _f(expr: Any) -> Callable[[Any, Any], Any]:
    """``f(x, y)`` from a parsed expression (passing only the variables it uses, as Expr requires)."""
    names = expr.variables

    def f(x: Any, y: Any) -> Any:
        return expr.evaluate({k: v for k, v in (("x", x), ("y", y)) if k in names})

    return f


def _domain(body: dict[str, Any], key: str) -> tuple[float, float, float, float]:
    raw = body.get(key)
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    if not isinstance(raw, (list, tuple)) or len(raw) != 4:
        raise Refused(f"{key}: expected 4 numbers xmin xmax ymin ymax, got {str(raw)[:40]!r}")
    xmin, xmax, ymin, ymax = (number({key: v}, key, lo=-BOUND, hi=BOUND) for v in raw)
    if not (xmin < xmax and ymin < ymax):
        raise Refused(f"{key}: need xmin < xmax and ymin < ymax, got {xmin!r} {xmax!r} {ymin!r} {ymax!r}")
    return xmin, xmax, ymin, ymax


def _inside(p: tuple[float, ...], domain: tuple[float, ...], key: str) -> tuple[float, float]:
    xmin, xmax, ymin, ymax = domain
    if not (xmin <= p[0] <= xmax and ymin <= p[1] <= ymax):
        raise Refused(f"{key}: ({p[0]!r}, {p[1]!r}) is outside the map "
                      f"[{xmin!r}, {xmax!r}] × [{ymin!r}, {ymax!r}]")
    return float(p[0]), float(p[1])


def _land(state: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The current landscape (the default preset until one is chosen)."""
    if "land" not in state:
        state["land"] = _preset_land(DEFAULT_PRESET, min(GRID, limits.max_grid))
    return state["land"]


def _preset_land(name: str, n: int) -> dict[str, Any]:
    preset = PRESETS[name]  # a preset's formula is ours: max_expression caps what students type
    f = expression({"expr": preset["formula"]}, "expr", ("x", "y"), max_length=10_000)
    return _new_land(f, preset["domain"], preset["start"], name, n)


def _new_land(f: Any, domain: tuple[float, ...], start: tuple[float, float], preset: str, n: int) -> dict[str, Any]:
    grid = sample_grid(f, domain, n)
    if not np.isfinite(grid).any():
        raise Refused(f"expr: f = {f.text} is not finite anywhere on the map; try another domain")
    return {"f": f, "domain": tuple(domain), "start": tuple(start), "preset": preset, "grid": grid}


def _landscape(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """A new landscape: ``{preset}`` or ``{expr[, domain][, grid]}``; drops the path and the game.

    >>> a = _landscape({}, {"expr": "x*y", "domain": "-1 1 -1 1", "grid": 3}, Limits())
    >>> a["grid"].tolist(), a["start"]
    ([[1.0, -0.0, -1.0], [-0.0, 0.0, 0.0], [-1.0, 0.0, 1.0]], (0.0, 0.0))
    """
    n = integer(body, "grid", min(GRID, limits.max_grid), lo=2, hi=2**31)
    if n > limits.max_grid:
        raise Refused(f"grid: {n} points per side is over the cap max_grid = {limits.max_grid}")
    if body.get("preset") not in (None, ""):
        land = _preset_land(choice(body, "preset", tuple(PRESETS)), n)
    else:
        f = expression(body, "expr", ("x", "y"), max_length=limits.max_expression)
        old = _land(state, limits)
        domain = _domain(body, "domain") if body.get("domain") is not None else old["domain"]
        xmin, xmax, ymin, ymax = domain
        start = old["start"]
        if not (xmin <= start[0] <= xmax and ymin <= start[1] <= ymax):
            start = ((xmin + xmax) / 2, (ymin + ymax) / 2)
        preset = next((k for k, p in PRESETS.items() if p["formula"] == f.text and p["domain"] == domain), "")
        land = _new_land(f, domain, start, preset, n)
    state["land"] = land
    state.pop("run", None)
    state.pop("game", None)
    return {"preset": land["preset"], "expr": land["f"].text, "domain": land["domain"], "grid": land["grid"],
            "start": land["start"], "at": _local(land["f"], land["start"])}


def _presets(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The preset landscapes for ``sandpit-preset``.

    >>> [p["name"] for p in _presets({}, {}, Limits())["presets"]][:2]
    ['bowl', 'rosenbrock']
    """
    return {"presets": [{"name": k, **p} for k, p in PRESETS.items()], "default": DEFAULT_PRESET,
            "max_lr": MAX_LR, "methods": list(METHODS)}


# ----------------------------------------------------------------------------- the local picture

def _local(f: Any, p: tuple[float, float]) -> dict[str, Any]:
    """f, ∇f, the Hessian and its eigen-decomposition at ``p``, by tg.value_and_grad and tg.hessian.

    >>> at = _local(expression({"e": "x**2 - 3*y**2"}, "e", ("x", "y")), (1.0, 1.0))
    >>> at["value"], at["gradient"].tolist(), at["eigenvalues"].tolist(), at["curving"]
    (np.float64(-2.0), [2.0, -6.0], [-6.0, 2.0], ['down', 'up'])
    """
    g = _f(f)
    h = lambda v: g(v[0], v[1])  # noqa: E731 - the one-vector form tg.hessian differentiates
    v = np.array(p, dtype=np.float64)
    value, grad = tg.value_and_grad(h)(v)
    H = np.asarray(tg.hessian(h)(v), dtype=np.float64).reshape(2, 2)
    if np.isfinite(H).all():
        lam, vec = np.linalg.eigh(H)
    else:
        lam, vec = np.full(2, np.nan), np.full((2, 2), np.nan)
    curving = ["up" if x > 0 else "down" if x < 0 else "flat" for x in lam]
    grad = np.asarray(grad, dtype=np.float64)
    stationary = bool(np.max(np.abs(grad)) <= TOL)  # the stopping rule's "gradient zero": no direction to draw
    return {"point": p, "value": value, "gradient": grad, "hessian": H, "eigenvalues": lam, "eigenvectors": vec,
            "curving": curving, "stationary": stationary}


def _start(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Place the start point (inside the map); the local picture there."""
    land = _land(state, limits)
    p = _inside(point(body, "start", bound=BOUND), land["domain"], "start")
    at = _local(land["f"], p)
    land["start"] = p
    state.pop("run", None)  # the path belonged to the old start
    return {"start": p, "at": at}


def _inspect(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The local picture at ``{index}`` (a point of the last path as sent) or at ``{point}``."""
    land = _land(state, limits)
    if body.get("index") is not None:
        run = state.get("run")
        if run is None:
            raise Refused("index: there is no path yet; press run first")
        i = integer(body, "index", lo=0, hi=len(run["path"]) - 1)
        p = tuple(float(c) for c in run["path"][i])
        return {"index": i, "iterate": int(run["iterates"][i]), "at": _local(land["f"], p)}
    p = point(body, "point", bound=math.inf)
    return {"at": _local(land["f"], (p[0], p[1]))}


# ----------------------------------------------------------------------------- runs

def _adam(f: Callable[[Any, Any], Any], start: tuple[float, float], lr: float, max_iter: int = MAX_ITER,
         tol: float = TOL) -> dict[str, Any]:
    """Adam from ``start`` with gradient_descent's stopping rule: ``{history, values, converged, message}``.

    ``p = tg.tensor(start, requires_grad=True)``, ``opt = tg.optim.Adam([p], lr=lr)``; at each iterate k the
    loss ``f(p[0], p[1])`` is backpropagated; converged once the gradient's max-norm is at most ``tol``, stopped
    after ``max_iter`` steps or when f or its gradient is not finite. ``history`` has n + 1 rows.

    >>> r = _adam(lambda x, y: x**2 + y**2, (1.0, -1.0), lr=0.1, max_iter=2)
    >>> r["history"].round(4).tolist(), r["converged"], r["message"]
    ([[1.0, -1.0], [0.9, -0.9], [0.8004, -0.8004]], False, 'did not converge in max_iter=2 iterations: |grad f| = 1.6')
    """
    p = tg.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = tg.optim.Adam([p], lr=lr)
    history, values = [p.data.copy()], []
    converged, message = False, ""
    for k in range(max_iter + 1):
        opt.zero_grad()
        loss = f(p[0], p[1])
        if loss.requires_grad:
            loss.backward()
        g = np.zeros(2) if p.grad is None else np.asarray(p.grad.data, dtype=np.float64)
        values.append(float(loss.data))
        size = float(np.max(np.abs(g)))
        if not (np.isfinite(values[-1]) and np.isfinite(size)):
            message = f"diverged: f or its gradient is not finite at iterate {k} (lr={lr:g} too large?)"
            break
        if size <= tol:
            converged, message = True, f"converged in {k} iterations: |grad f| = {size:.3g} <= tol"
            break
        if k == max_iter:
            message = f"did not converge in max_iter={max_iter} iterations: |grad f| = {size:.3g}"
            break
        opt.step()
        history.append(p.data.copy())
    return {"history": np.array(history), "values": np.array(values), "converged": converged, "message": message}


def _descend(f: Any, method: str, start: tuple[float, float], lr: float | None, limits: Limits) -> dict[str, Any]:
    """The run of ``method`` from ``start``, with the library's defaults (max_iter capped by max_steps)."""
    g = _f(f)
    cap = min(MAX_ITER, limits.max_steps)
    extra = {} if cap == MAX_ITER else {"max_iter": cap}
    if method == "adam":
        return {**_adam(g, start, lr, cap), "classification": ""}
    if method == "newton":
        r = tg.optimize.newton_minimize(g, start, **({} if cap >= 100 else {"max_iter": cap}))
    else:
        r = tg.optimize.gradient_descent(g, start, lr=lr, momentum=MOMENTUM if method == "momentum" else 0.0,
                                         **extra)
    return {"history": np.asarray(r.history, dtype=np.float64).reshape(-1, 2), "values": np.asarray(r.values),
            "converged": bool(r.converged), "message": r.message, "classification": r.classification}


def _thin(n_points: int, cap: int) -> np.ndarray:
    """Indices of at most ``cap`` points of a path of ``n_points``, spread evenly, first and last kept.

    >>> _thin(5, 10).tolist(), _thin(11, 3).tolist()
    ([0, 1, 2, 3, 4], [0, 5, 10])
    """
    if n_points <= cap:
        return np.arange(n_points)
    return np.unique(np.round(np.linspace(0, n_points - 1, max(cap, 2))).astype(int))


def _run(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Run ``{method, lr[, start]}`` on the current landscape; the path (thinned to max_path) and the end point."""
    land = _land(state, limits)
    method = choice(body, "method", METHODS)
    lr = None if method == "newton" else number(body, "lr", lo=0.0, hi=MAX_LR)  # Newton has no step size
    if lr is not None and lr <= 0:
        raise Refused(f"lr: the step size must be positive, got {lr!r}")
    start = _inside(point(body, "start", land["start"], bound=BOUND), land["domain"], "start")
    r = _descend(land["f"], method, start, lr, limits)
    history, values = r["history"], r["values"]
    n = len(history) - 1
    keep = _thin(n + 1, limits.max_path)
    end = (float(history[n][0]), float(history[n][1]))
    at = _local(land["f"], end)
    land["start"] = start
    state["run"] = {"path": history[keep], "iterates": keep}
    return {"method": method, "lr": lr, "start": start, "n": n, "position": end, "value": values[n],
            "converged": r["converged"], "message": r["message"], "classification": r["classification"],
            "path": history[keep], "iterates": keep, "values": values[keep], "thinned": len(keep) < n + 1,
            "at": at}


# ----------------------------------------------------------------------------- the game

def _global_minima(f: Any, domain: tuple[float, ...], grid: np.ndarray, tol: float) -> tuple[list, float]:
    """The lowest minima strictly inside ``domain``: newton_minimize (kept in the box) from the grid's dips."""
    g = _f(f)
    n = grid.shape[0]
    xs, ys = np.linspace(domain[0], domain[1], n), np.linspace(domain[2], domain[3], n)
    padded = np.pad(np.where(np.isfinite(grid), grid, np.inf), 1, constant_values=np.inf)
    neighbours = np.stack([padded[1 + di:n + 1 + di, 1 + dj:n + 1 + dj]
                           for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj])
    dips = np.argwhere(np.isfinite(grid) & (grid <= neighbours.min(axis=0)))
    dips = sorted(dips.tolist(), key=lambda ij: grid[ij[0], ij[1]])[:12]
    bounds = [(domain[0], domain[1]), (domain[2], domain[3])]
    found: list[tuple[float, tuple[float, float]]] = []
    for i, j in dips:
        r = tg.optimize.newton_minimize(g, (xs[j], ys[i]), bounds=bounds)
        if r.converged and r.classification == "minimum" and not r.bound_active and np.isfinite(r.fun):
            found.append((float(r.fun), (float(r.x[0]), float(r.x[1]))))
    if not found:
        raise Refused("game: this landscape has no minimum inside the map, so there is nothing to find; "
                      "try the pits, the bowl or Himmelblau")
    best = min(v for v, _ in found)
    minima: list[tuple[float, float]] = []
    for v, p in sorted(found):
        close = any(math.dist(p, q) < tol / 10 for q in minima)
        if v <= best + 1e-9 * max(1.0, abs(best)) and not close:
            minima.append(p)
    return minima, best


def _game(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """``{on}``: start a new game (the landscape hidden, the clicks counted) or end it."""
    on = flag(body, "on")
    land = _land(state, limits)
    xmin, xmax, ymin, ymax = land["domain"]
    tolerance = GAME_TOLERANCE * max(xmax - xmin, ymax - ymin)
    if not on:
        state.pop("game", None)
        return {"on": False, "clicks": 0, "tolerance": tolerance}
    minima, best = _global_minima(land["f"], land["domain"], land["grid"], tolerance)
    state["game"] = {"minima": minima, "value": best, "tolerance": tolerance, "dips": [], "won": False}
    return {"on": True, "clicks": 0, "tolerance": tolerance}


def _dip(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Dip at ``{point}``: f and ∇f there, the click count, and whether it is within tolerance of a minimum."""
    game = state.get("game")
    if game is None:
        raise Refused("dip: the game is not on; tick 'play: find the minimum' first")
    if game["won"]:
        raise Refused(f"dip: you already found the minimum in {len(game['dips'])} clicks; untick and tick "
                      f"'play' for a new game")
    if len(game["dips"]) >= limits.max_path:
        raise Refused(f"dip: {len(game['dips'])} dips is the cap max_path = {limits.max_path}; start a new game")
    land = _land(state, limits)
    p = _inside(point(body, "point", bound=BOUND), land["domain"], "point")
    value, grad = tg.value_and_grad(lambda v: _f(land["f"])(v[0], v[1]))(np.array(p))
    game["dips"].append(p)
    distance = min(math.dist(p, q) for q in game["minima"])
    game["won"] = distance <= game["tolerance"]
    answer = {"clicks": len(game["dips"]), "point": p, "value": value, "gradient": np.asarray(grad, dtype=float),
              "won": game["won"]}
    if game["won"]:
        answer.update(minima=game["minima"], minimum_value=game["value"])
    return answer


ACTIONS: dict[str, Callable[[dict[str, Any], dict[str, Any], Limits], dict[str, Any]]] = {
    "presets": _presets, "landscape": _landscape, "start": _start, "inspect": _inspect, "run": _run,
    "game": _game, "dip": _dip,
}
