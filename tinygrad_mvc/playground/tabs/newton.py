"""The Newton-Raphson tab: one run of ``tg.optimize.newton_raphson``, shown one iterate per step.

``start`` runs ``tg.optimize.newton_raphson(f, x0)`` once — with its defaults (tol 1e-12, max_iter 50), or
``method="secant"`` — and keeps its ``history`` and ``message``; ``step`` reveals the next iterate, ``finish``
all of them, ``view`` answers the picture again. So the iterates shown are newton_raphson's own, bit for bit.

Actions (``POST /api/newton/NAME``; a field left out keeps its last accepted value, a refused request changes
nothing):

- ``start``: ``expr`` (f of x), ``x0``, ``method`` (``"newton"`` or ``"secant"``); restarts at x₀, status running.
- ``step``: one iterate more; once newton_raphson has stopped, a step changes nothing (``"stopped": true``).
- ``finish``: every remaining iterate at once; ``view``: the current picture, with ``close`` (true or false)
  choosing the whole run or a close-up of the current step.

The status (``newton-status``) is ``running`` while iterates remain to be shown, then newton_raphson's message,
led by the word its outcome maps to (:func:`verdict`): ``converged``; ``cycle``; ``zero derivative`` (f′ = 0, or
a step that is not finite because f′ is too close to 0; for the secant, a flat chord, or chords stalled at a
turning point of f); ``diverged`` for every other stop — an iterate running off to infinity, f not finite, a
derivative that is not finite, and the iteration limit (newton_raphson's "did not converge in max_iter=50
iterations": it did not settle, which is the word's sense here). When newton_raphson stops at x₀ itself (f(x₀) = 0
or f′(x₀) = 0) the status after a restart is still ``running``, and the first step reveals the verdict without
moving.

Each answer carries the picture: f over a window holding every iterate shown (never more than ``_FAR`` from
x₀; or, in the close-up, three steps wide around the current iterate), the tangents (or the secant's chords)
already used, and the one at the current iterate with the point where it meets the axis: the next iterate.

The page's test ids, beyond the contract's ``newton-expr``, ``newton-x0``, ``newton-step``, ``newton-x`` and
``newton-status``: ``newton-preset`` (select writing f into ``newton-expr``), ``newton-secant`` (checkbox: the
secant method), ``newton-finish`` (button: run to the end), ``newton-iteration`` (text: the iterate's index k),
``newton-fx`` (text: f at the iterate), ``newton-close`` (checkbox: the close-up), ``newton-restart`` (button),
``newton-plot`` (canvas with ``data-domain``; a click sets x₀), ``newton-history`` (table, one row per iterate
shown).

>>> from tinygrad_mvc.playground.limits import Limits
>>> state = {}
>>> start(state, {"expr": "x**3 - 2*x + 2", "x0": 0.0}, Limits())["status"]
'running'
>>> [step(state, {}, Limits())["x"] for _ in range(2)]
[1.0, 0.0]
>>> view(state, {}, Limits())["status"]
'cycle: iterate 2 repeats iterate 0 (period 2); Newton-Raphson oscillates without converging'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...expr import parse
from ...optimize import OptimizeResult, newton_raphson
from ...transforms import grad
from ..limits import Limits
from ..protocol import choice, expression, flag, jsonable, number
from .taylor import BOUND, _of_x, _samples, _y_range

METHODS = ("newton", "secant")
_DEFAULT = {"expr": "x**3 - 2*x - 5", "x0": 2.0, "method": "newton", "close": False}
_SAMPLES = 321
_CLOSE_FLOOR = 1e-10  # the close-up's smallest half-width, relative to |x|: below it f is rounding noise only
_FAR = 1e3  # iterates further than this from x0 are listed, not drawn (the curve would be flat)
_ZERO_DERIVATIVE = ("zero derivative", "the Newton step is not finite", "the secant is flat", "stalled")


def verdict(result: OptimizeResult) -> str:
    """The status word for newton_raphson's outcome: converged, cycle, zero derivative or diverged.

    >>> verdict(newton_raphson(lambda x: x ** 2 + 1, 0.0))
    'zero derivative'
    >>> verdict(newton_raphson(lambda x: x ** 2 + 1, 0.5))        # "did not converge in max_iter=50 ..."
    'diverged'
    """
    if result.converged:
        return "converged"
    if result.message.startswith("cycle"):
        return "cycle"
    if result.message.startswith(_ZERO_DERIVATIVE):
        return "zero derivative"
    return "diverged"


def start(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Run newton_raphson from x₀ and show iterate 0 (status running).

    >>> start({}, {"expr": "x**2 - 2", "x0": 1.0}, Limits())["x"]
    1.0
    """
    new = {**_DEFAULT, **{k: state[k] for k in _DEFAULT if k in state}}
    if "expr" in body:
        new["expr"] = expression(body, "expr", ("x",), max_length=limits.max_expression).text
    if "x0" in body:
        new["x0"] = number(body, "x0", lo=-BOUND, hi=BOUND)
    if "method" in body:
        new["method"] = choice(body, "method", METHODS)
    if "close" in body:
        new["close"] = flag(body, "close")
    f = _of_x(parse(new["expr"]))
    result = newton_raphson(f, new["x0"]) if new["method"] == "newton" else \
        newton_raphson(f, new["x0"], method="secant")
    word = verdict(result)
    run = {"history": [float(v) for v in result.history.reshape(-1)],
           "values": [float(v) for v in np.asarray(result.values).reshape(-1)],
           "word": word, "status": result.message if result.message.startswith(word) else f"{word}: {result.message}",
           "shown": 0}
    view = _view({**new, **run})
    state.clear()
    state.update(new, **run)
    return view


def step(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """One iterate more (nothing once newton_raphson has stopped).

    >>> state = {}
    >>> _ = start(state, {"expr": "x**2 - 2", "x0": 1.0}, Limits())
    >>> step(state, {}, Limits())["x"]
    1.5
    """
    s = _started(state, limits)
    return _show(s, min(s["shown"] + 1, _presses(s)))


def finish(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Every remaining iterate: where newton_raphson stops, and why.

    >>> finish({}, {}, Limits())["status"][:12]                 # the default, x**3 - 2*x - 5 from 2
    'converged in'
    """
    s = _started(state, limits)
    return _show(s, _presses(s))


def view(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The current picture (a first call starts the default run); ``close`` (a flag, optional) switches between
    the whole run and a close-up of the current step.

    >>> [round(x, 12) for x in view({}, {"close": True}, Limits())["window"]]   # x0 = 2, the next iterate 2.1
    [1.7, 2.3]
    """
    s = _started(state, limits)
    close = flag(body, "close", s["close"])
    answer = _view({**s, "close": close})
    s["close"] = close
    return answer


def _started(state: dict[str, Any], limits: Limits) -> dict[str, Any]:
    if "history" not in state:
        start(state, {}, limits)
    return state


def _show(s: dict[str, Any], shown: int) -> dict[str, Any]:
    answer = _view({**s, "shown": shown})
    s["shown"] = shown  # only once the picture is drawn: a failure changes nothing
    return answer


def _presses(s: dict[str, Any]) -> int:
    """Steps until newton_raphson has stopped: one per iterate, or one to reveal a stop at x0 itself."""
    return max(len(s["history"]) - 1, 1)


def _view(s: dict[str, Any]) -> dict[str, Any]:
    history, values = s["history"], s["values"]
    k = min(s["shown"], len(history) - 1)
    stopped = s["shown"] >= _presses(s)
    following = history[k + 1] if k + 1 < len(history) else None
    f = _of_x(parse(s["expr"]))
    window = _close_up(history, k) if s["close"] else \
        _window(history, history[:k + 1] + ([following] if following is not None else []))
    xs = np.linspace(*window, _SAMPLES)
    ys = _samples(f, xs)
    used = [_secant_pair(history, values, j) if s["method"] == "secant" else (j - 1,) for j in range(1, k + 1)]
    return jsonable({
        "expr": s["expr"], "x0": s["x0"], "method": s["method"], "k": k, "x": history[k], "fx": values[k],
        "status": s["status"] if stopped else "running", "word": s["word"] if stopped else "running",
        "stopped": stopped, "close": s["close"],
        "history": history[:k + 1], "values": values[:k + 1], "next": None if stopped else following,
        "window": window, "xs": xs, "ys": ys, "ylim": _y_range(ys, [0.0]),
        "used": [_segment(history, values, pair, j) for j, pair in zip(range(1, k + 1), used) if pair],
        "current": _current_line(s, f, k, window),
    })


def _window(history: list[float], shown: list[float]) -> list[float]:
    """Around x0, twice as wide as the first steps go (at least ±1), widened to hold the iterates shown (those
    within ``_FAR`` of x0) with a margin: the run so far, in one picture."""
    x0 = history[0]
    first = max([abs(x - x0) for x in history[1:3] if abs(x - x0) <= _FAR] or [0.0])
    half = max(1.0, 2 * first)
    near = [x for x in shown if abs(x - x0) <= _FAR]
    lo, hi = min([x0 - half, *near]), max([x0 + half, *near])
    margin = 0.08 * (hi - lo)
    return [lo - margin if lo < x0 - half else lo, hi + margin if hi > x0 + half else hi]


def _close_up(history: list[float], k: int) -> list[float]:
    """Around iterate k, three times as wide as its step (the next one, or the last one taken): every step of a
    converging run then looks alike, however small it is."""
    x = history[k]
    other = history[k + 1] if k + 1 < len(history) else history[k - 1] if k else x
    half = max(3 * abs(other - x), _CLOSE_FLOOR * max(1.0, abs(x)))
    half = min(half, _FAR)
    return [x - half, x + half]


def _secant_pair(history: list[float], values: list[float], j: int) -> tuple[int, ...]:
    """The two iterates whose chord gives iterate j of the secant method (none for j = 1, SciPy's second start).

    SciPy's secant swaps its two starts when f is smaller at the second, so iterate 3 comes from the chord
    through iterates 0 and 2 then, not 1 and 2.
    """
    if j < 2:
        return ()
    if j == 3 and abs(values[1]) < abs(values[0]):
        return (0, 2)
    return (j - 2, j - 1)


def _segment(history: list[float], values: list[float], pair: tuple[int, ...], j: int) -> dict[str, Any]:
    """The line that gave iterate j: from f at the iterates it used down to (x_j, 0)."""
    points = [[history[i], values[i]] for i in pair] + [[history[j], 0.0]]
    return {"points": points, "drops": [[[history[i], 0.0], [history[i], values[i]]] for i in pair], "to": j}


def _current_line(s: dict[str, Any], f: Any, k: int, window: list[float]) -> dict[str, Any] | None:
    """The tangent at iterate k (the chord for the secant) across the window: it meets the axis at the next
    iterate. Its slope is the engine's f′ (for the secant, the chord's)."""
    history, values = s["history"], s["values"]
    if s["method"] == "secant":
        pair = _secant_pair(history, values, k + 1)
        if not pair:
            return None
        (xa, xb), (ya, yb) = [history[i] for i in pair], [values[i] for i in pair]
        slope = (yb - ya) / (xb - xa) if xb != xa else float("nan")
    else:
        slope = float(np.asarray(grad(f)(history[k])))
    x, y = history[k], values[k]
    a, b = window
    return {"points": [[a, y + slope * (a - x)], [b, y + slope * (b - x)]], "at": [x, y], "slope": slope,
            "kind": "chord" if s["method"] == "secant" else "tangent"}


ACTIONS = {"start": start, "step": step, "finish": finish, "view": view}
