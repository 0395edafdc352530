"""The course's calculus algorithms, driven by the engine's own derivatives: roots, minima, constrained extrema.

- :func:`newton_raphson` — a root of ``f(x) = 0``, scalar or vector (the Jacobian by autodiff), or by
  the derivative-free secant method (``method="secant"``, SciPy's ``newton`` without ``fprime``);
- :func:`gradient_descent` — plain or heavy-ball momentum steps down the gradient, to a tolerance or a
  fixed number of steps;
- :func:`newton_minimize` — Newton on the Hessian with the step rule of :mod:`.newton_step` (a shifted
  Hessian where it is not positive definite, a line search that grows or shrinks the step), or pure
  Newton steps to any stationary point (``modify_hessian=False``);
- :func:`lagrange_multipliers` — stationary points of ``f`` subject to equality constraints, by Newton
  on the gradient of the Lagrangian, classified from the bordered Hessian.

Every function is numpy in, numpy out: ``f`` is written with Tensor ops and is called with Tensors,
``x0`` is a float or an array. ``f`` may take one vector, ``f(v)``, or separate scalars the way the
course writes it, ``f(x, y)`` (:func:`tinygrad_mvc.arguments.vector_function`). ``bounds=[(lo, hi),
...]`` keeps the iterates in a box and ``max_step=`` caps the length of a step (see
:class:`.newton_step.Box`); the result counts the steps they shortened and says whether ``x`` ended on a
bound. Each returns an :class:`OptimizeResult` (:class:`LagrangeResult` for constrained problems) whose
``history`` holds every iterate from ``x0`` to ``x`` (``n_iter + 1`` rows), for plotting. A failure (a
zero derivative, a singular Jacobian, divergence, a cycle, the iteration limit) is ``converged=False``
with the reason in ``message``: never a hang and never a bare NumPy error.

>>> import tinygrad_mvc as tg
>>> r = tg.optimize.newton_raphson(lambda x: x ** 2 - 2, 1.0)
>>> r.converged, round(float(r.x), 12)
(True, 1.414213562373)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import ops
from .arguments import vector_function
from .engine import no_grad
from .newton_step import Box, newton_step
from .tensor import Tensor
from .transforms import grad, hessian, jacobian, value_and_grad

__all__ = ["OptimizeResult", "LagrangeResult", "newton_raphson", "gradient_descent", "newton_minimize",
           "lagrange_multipliers"]

DIVERGENCE_FACTOR = 1e12
"""An iterate farther than this times ``max(1, |x0|)`` from the origin counts as divergence."""


@dataclass
class OptimizeResult:
    """The outcome of an iterative method.

    ``x`` is the last iterate (the root or minimiser when ``converged``), ``fun`` the value of ``f``
    there, ``history`` every iterate (``n_iter + 1`` rows of ``x``'s shape), ``values`` the value of
    ``f`` at each of them, and ``message`` says why the iteration stopped.
    """

    x: np.ndarray
    converged: bool
    n_iter: int
    message: str
    history: np.ndarray
    fun: Any = None
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    n_fallback: int = 0
    """newton_minimize: how many steps did not use the plain Newton direction (Hessian not positive definite)."""
    classification: str = ""
    """Minimisers: ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"``, from the Hessian's
    eigenvalues at ``x``."""
    bound_active: bool = False
    """``x`` lies on a bound of ``bounds=``."""
    n_capped: int = 0
    """How many steps ``max_step=`` shortened."""
    n_clipped: int = 0
    """How many steps a bound cut short (the point was projected back onto the box)."""

    def __repr__(self) -> str:
        x = np.array2string(np.asarray(self.x), precision=8)
        kind = f", classification={self.classification!r}" if self.classification else ""
        return (f"{type(self).__name__}(converged={self.converged}, x={x}, n_iter={self.n_iter}, "
                f"message={self.message!r}{kind})")


@dataclass(repr=False)
class LagrangeResult(OptimizeResult):
    """An :class:`OptimizeResult` for a constrained stationary point, with the KKT information.

    ``multipliers`` satisfy ∇f = Σ λᵢ ∇gᵢ at ``x``; ``kkt_residual`` is the largest entry of the
    gradient of the Lagrangian (stationarity and feasibility together); ``classification`` is
    ``"minimum"``, ``"maximum"``, ``"saddle"``, ``"degenerate"`` (the second-order test is
    inconclusive) or ``"isolated"`` (as many independent constraints as unknowns), read from the
    inertia of ``bordered_hessian`` = [[0, J], [Jᵀ, ∇²L]].
    """

    multipliers: np.ndarray = field(default_factory=lambda: np.empty(0))
    kkt_residual: float = float("nan")
    bordered_hessian: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    constraint_values: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", multipliers={np.array2string(self.multipliers, precision=8)})"


# ----------------------------------------------------------------------------- shared helpers

def _as_point(name: str, x0: Any) -> np.ndarray:
    x = np.array(x0.data if isinstance(x0, Tensor) else x0, dtype=np.float64)
    if x.ndim > 1:
        raise ValueError(f"{name}: x0 must be a scalar or a 1-D array, got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name}: x0 is empty")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: x0 = {x} is not finite")
    return x


def _check_common(name: str, tol: float | None, max_iter: int, fixed_ok: bool = False) -> None:
    if fixed_ok and (tol is None or (isinstance(tol, (int, float, np.floating)) and tol == 0)):
        pass  # a fixed number of steps
    elif not (isinstance(tol, (int, float, np.floating)) and tol > 0):
        extra = " (or None / 0 for exactly max_iter steps)" if fixed_ok else ""
        raise ValueError(f"{name}: tol must be a positive number{extra}, got {tol!r}")
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 0):
        raise ValueError(f"{name}: max_iter must be a non-negative integer, got {max_iter!r}")


def _value(f: Callable[..., Any], x: np.ndarray) -> np.ndarray:
    """``f(x)`` as a float64 array, without recording a graph."""
    with no_grad():
        out = f(Tensor(x))
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)


def _scalar(name: str, out: Any) -> float:
    arr = np.asarray(out, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(f"{name}: f must return a scalar, got shape {arr.shape}")
    return float(arr.reshape(()))


def _norm(v: np.ndarray) -> float:
    return float(np.max(np.abs(v))) if np.size(v) else 0.0


def _too_far(x: np.ndarray, x0: np.ndarray) -> bool:
    return not np.all(np.isfinite(x)) or _norm(x) > DIVERGENCE_FACTOR * max(1.0, _norm(x0))


def _fmt(x: np.ndarray) -> str:
    x = np.asarray(x)
    return f"{float(x):.6g}" if x.size == 1 else np.array2string(x, precision=6)


def _function(name: str, f: Callable[..., Any], x: np.ndarray) -> Callable[[Any], Any]:
    """``f(v)`` as it is; ``f(x, y, ...)`` called with the entries of the point (one adapter for all)."""
    return vector_function(name, f, int(np.size(x)))[0]


def _box(name: str, bounds: Any, max_step: float | None, x: np.ndarray) -> Box:
    box = Box(name, bounds, int(np.size(x)), max_step)
    box.check_start(x)
    return box


def _with_note(message: str, box: Box, x: np.ndarray, n_capped: int, n_clipped: int) -> str:
    note = box.note(np.asarray(x), n_capped, n_clipped)
    return f"{message}; {note}" if note and message else message or note


CLASSIFY_MAX_SIZE = 500
"""Minimisers name the kind of point reached (from a dense Hessian) up to this many variables."""


def _kind(H: np.ndarray, held: np.ndarray | None = None) -> str:
    """"minimum", "maximum", "saddle" or "degenerate" from the signs of the Hessian's eigenvalues; an
    eigenvalue counts as zero below 1e-8 of the largest in size. Coordinates held at a bound (their
    gradient pushes out of the box) are left out: there, the point is judged within the box."""
    if held is not None and held.any():
        free = ~held
        if not free.any():
            return "minimum"  # a corner with every gradient entry pushing outwards
        H = H[np.ix_(free, free)]
    if not np.all(np.isfinite(H)):
        return ""
    w = np.linalg.eigvalsh(0.5 * (H + H.T))
    top = float(np.max(np.abs(w)))
    zero = 1e-8 * top
    if top == 0 or np.any(np.abs(w) <= zero):
        return "degenerate"
    return "minimum" if w[0] > 0 else "maximum" if w[-1] < 0 else "saddle"


def _classified(name: str, flat: Callable[[Tensor], Any], v: np.ndarray, g: np.ndarray, box: Box) -> str:
    """The kind of point at the flat vector ``v`` ("" above CLASSIFY_MAX_SIZE variables or off a finite value)."""
    if v.size > CLASSIFY_MAX_SIZE or not np.all(np.isfinite(g)):
        return ""
    with np.errstate(all="ignore"):
        H = np.asarray(hessian(flat, sparsity="auto" if v.size >= SPARSE_MIN_SIZE else None)(v),
                       dtype=np.float64).reshape(v.size, v.size)
    return _kind(H, box.held(v, g) if box.bounded else None)


# ----------------------------------------------------------------------------- Newton-Raphson

def newton_raphson(f: Callable[..., Any], x0: Any, tol: float = 1e-12, max_iter: int = 50, *,
                   method: str = "newton", bounds: Any = None, max_step: float | None = None) -> OptimizeResult:
    """A root of ``f(x) = 0`` by Newton-Raphson: ``x ← x − J(x)⁻¹ f(x)``, with J by autodiff.

    Scalar ``x0``: ``f`` maps a scalar to a scalar (``x ← x − f(x)/f'(x)``). A 1-D ``x0`` of size n:
    ``f`` returns n values (a vector, or a tuple of n scalars), and may be written ``f(v)`` or
    ``f(x, y, ...)``. Converged when a step is at most ``tol · max(1, |x|)`` (or ``f(x)`` is
    exactly 0). A zero derivative or singular Jacobian, divergence (an iterate that is not finite or
    runs off beyond ``1e12 · max(1, |x0|)``), a cycle (an iterate that repeats an earlier one) and the
    iteration limit each stop with ``converged=False`` and the reason in ``message``. ``values`` holds
    ``f`` at every iterate.

    ``method="secant"`` (scalar ``x0`` only) needs no derivative: it replaces ``f'`` by the slope
    through the last two iterates, from SciPy's second start ``x1 = x0·(1 + 10⁻⁴) ± 10⁻⁴`` (+ for
    ``x1 ≥ 0``), with SciPy's update, so it gives the iterates of ``scipy.optimize.newton(f, x0)``
    (no ``fprime``); ``history`` starts ``x0, x1``. Newton and the secant can converge to *different*
    roots from the same start. Where SciPy stops on small steps alone, a secant that stalls at a
    turning point of f away from 0 is reported as ``converged=False`` ("stalled, not a root"): the
    final point must pass one Newton correction f/f′ (f′ from the engine) within √tol.
    The stationary points of a function ``F`` are the roots of its gradient:
    ``newton_raphson(tg.grad(F), x0)`` walks to the nearest one, maximum, minimum or saddle.

    ``bounds=[(lo, hi), ...]`` (None for an open side) keeps every iterate in the box and
    ``max_step`` caps the length (Euclidean) of each step, before the bounds; ``n_capped`` and
    ``n_clipped`` count the steps they shortened, ``bound_active`` says ``x`` ended on a bound, and
    ``message`` says so too. A step that a bound cuts to nothing while the Newton step is not small
    stops with ``converged=False`` (the root lies outside the box along that path).

    >>> r = newton_raphson(lambda x: x ** 3 - 2 * x + 2, 0.0)     # the textbook cycle 0, 1, 0, ...
    >>> r.converged, r.history.tolist()
    (False, [0.0, 1.0, 0.0])
    >>> r.message
    'cycle: iterate 2 repeats iterate 0 (period 2); Newton-Raphson oscillates without converging'
    >>> s = newton_raphson(lambda x: x ** 2 - 2, 1.0, method="secant")
    >>> s.converged, round(float(s.x), 12), s.history[:2].tolist()
    (True, 1.414213562373, [1.0, 1.0002])
    """
    name = "newton_raphson"
    _check_common(name, tol, max_iter)
    if method not in ("newton", "secant"):
        raise ValueError(f"{name}: method must be 'newton' or 'secant', got {method!r}")
    x = _as_point(name, x0)
    f = _function(name, f, x)
    box = _box(name, bounds, max_step, x)
    if method == "secant":
        return _secant(name, f, x, tol, max_iter, box)
    start = x.copy()
    holder: dict[str, Any] = {}

    def traced(v: Tensor) -> Tensor:
        out = f(v)
        if isinstance(out, (list, tuple)):  # f(x, y) returning (equation 1, equation 2)
            out = _stacked_output(out)
        holder["out"] = out
        return out

    jac = jacobian(traced)

    def evaluate(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        J = np.asarray(jac(v), dtype=np.float64)
        out = holder["out"]
        fx = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)
        if fx.shape != x.shape:
            hint = (" (for tg.grad of f(x, y, ...) use tg.grad(f, argnums=(0, 1, ...)), or write f(v))"
                    if fx.size == 1 else "")
            raise ValueError(f"{name}: f maps x of shape {x.shape} to shape {fx.shape}; a root needs as many "
                             f"equations as unknowns (the same shape){hint}")
        return fx, J.reshape(fx.size, x.size)

    history, values = [x.copy()], []
    message, converged, capped, clipped = "", False, 0, 0
    with np.errstate(all="ignore"):
        fx, J = evaluate(x)
        values.append(fx)
        for k in range(max_iter + 1):
            if not np.all(np.isfinite(fx)):
                message = f"f(x) is not finite at x = {_fmt(x)} (iterate {k})"
                break
            if not np.any(fx):
                converged, message = True, f"converged: f(x) = 0 exactly after {k} iterations"
                break
            if k == max_iter:
                message = (f"did not converge in max_iter={max_iter} iterations (last step "
                           f"{_norm(history[-1] - history[-2]) if k else 0.0:.3g}, |f(x)| = {_norm(fx):.3g})")
                break
            step, why = _root_step(J, fx, x)
            if step is None:
                message = f"{why} at x = {_fmt(x)} (iterate {k}); Newton-Raphson cannot continue"
                break
            x_new, was_capped, was_clipped = box.move(x, -step.reshape(x.shape))
            capped, clipped = capped + was_capped, clipped + was_clipped
            if _too_far(x_new, start):
                message = f"diverged: iterate {k + 1} would be {_fmt(x_new)}, far from x0 = {_fmt(start)}"
                break
            small = _norm(x_new - x) <= tol * max(1.0, _norm(x_new))
            stuck = small and was_clipped and _norm(step) > tol * max(1.0, _norm(x_new))
            repeat = None if small else next(
                (j for j in range(len(history) - 1) if _norm(x_new - history[j]) <= tol * max(1.0, _norm(x_new))),
                None)
            x = x_new
            history.append(x.copy())
            fx, J = evaluate(x)
            values.append(fx)
            if stuck:
                message = (f"stopped at a bound after {k + 1} iterations: Newton's step points out of the box "
                           f"(|f(x)| = {_norm(fx):.3g}); no root inside the bounds along this path")
                break
            if small:
                converged = bool(np.all(np.isfinite(fx)))
                message = (f"converged in {k + 1} iterations: last step {_norm(history[-1] - history[-2]):.3g}, "
                           f"|f(x)| = {_norm(fx):.3g}") if converged else f"f(x) is not finite at x = {_fmt(x)}"
                break
            if repeat is not None:
                period = len(history) - 1 - repeat
                message = (f"cycle: iterate {len(history) - 1} repeats iterate {repeat} (period {period}); "
                           f"Newton-Raphson oscillates without converging")
                break
    return _root_result(x, converged, message, history, values, box, capped, clipped)


def _root_result(x: np.ndarray, converged: bool, message: str, history: list[Any], values: list[Any], box: Box,
                 capped: int, clipped: int) -> OptimizeResult:
    return OptimizeResult(x=_out(x), converged=converged, n_iter=len(history) - 1,
                          message=_with_note(message, box, x, capped, clipped), history=np.array(history),
                          fun=_out(values[-1]), values=np.array(values), bound_active=box.on_bound(np.asarray(x)),
                          n_capped=capped, n_clipped=clipped)


def _secant(name: str, f: Callable[..., Any], x: np.ndarray, tol: float, max_iter: int, box: Box) -> OptimizeResult:
    """The secant method exactly as ``scipy.optimize.newton`` runs it without ``fprime`` (same start, same
    update, same order of the first two points), with this module's stopping rule and reports."""
    if x.size != 1:
        raise ValueError(f"{name}: method='secant' solves one equation in one unknown, but x0 has {x.size} "
                         f"entries; use method='newton' for a system")
    shape = x.shape

    def value(p: float) -> float:
        return _scalar(name, _value(f, np.full(shape, p)))

    p0 = float(x.reshape(()))
    raw = p0 * (1 + 1e-4)
    raw += 1e-4 if raw >= 0 else -1e-4  # SciPy's second start
    p1 = float(np.clip(raw, box.lower[0], box.upper[0]))
    if p1 == p0:  # x0 sits on a bound: the second start goes the other way
        p1 = float(np.clip(2 * p0 - raw, box.lower[0], box.upper[0]))
    history, values = [p0, p1], []
    message, converged, capped, clipped = "", False, 0, 0
    with np.errstate(all="ignore"):
        q0, q1 = value(p0), value(p1)
        values += [q0, q1]
        if abs(q1) < abs(q0):
            p0, p1, q0, q1 = p1, p0, q1, q0
        for k in range(max_iter + 1):
            if not (np.isfinite(q0) and np.isfinite(q1)):
                message = f"f(x) is not finite at x = {history[-1]:.6g} (iterate {len(history) - 1})"
                break
            if q1 == 0:
                converged, message = True, f"converged: f(x) = 0 exactly after {len(history) - 1} iterations"
                break
            if k == max_iter:
                message = f"did not converge in max_iter={max_iter} iterations (|f(x)| = {abs(q1):.3g})"
                break
            if q1 == q0:
                message = (f"the secant is flat: f = {q1:.6g} at both x = {p0:.6g} and x = {p1:.6g} "
                           f"(iterate {len(history) - 1}); the secant method cannot continue")
                break
            if abs(q1) > abs(q0):
                p = (-q0 / q1 * p1 + p0) / (1 - q0 / q1)
            else:
                p = (-q1 / q0 * p0 + p1) / (1 - q1 / q0)
            new, was_capped, was_clipped = box.move(np.array([p1]), np.array([p - p1]))
            capped, clipped = capped + was_capped, clipped + was_clipped
            p_new = float(new[0])
            if _too_far(new, x):
                message = f"diverged: iterate {len(history)} would be {p_new:.6g}, far from x0 = {_fmt(x)}"
                break
            small = abs(p_new - p1) <= tol * max(1.0, abs(p_new))
            p0, q0, p1 = p1, q1, p_new
            q1 = value(p1)
            history.append(p1)
            values.append(q1)
            if small:
                converged = bool(np.isfinite(q1))
                message = (f"converged in {len(history) - 1} iterations (secant): last step {abs(p1 - p0):.3g}, "
                           f"|f(x)| = {abs(q1):.3g}") if converged else f"f(x) is not finite at x = {p1:.6g}"
                stalled = converged and _not_a_root(f, p1, q1, shape, tol)
                if stalled:
                    converged, message = False, (
                        f"stalled, not a root: the secant's steps shrank below tol at x = {p1:.6g} (iterate "
                        f"{len(history) - 1}) but f(x) = {q1:.6g} is not 0 ({stalled}); the chords have run "
                        f"into a turning point of f: try another x0 or method='newton'")
                break
    hist = np.array(history).reshape((-1, *shape))
    return _root_result(hist[-1], converged, message, list(hist), values, box, capped, clipped)


def _not_a_root(f: Callable[..., Any], x: float, fx: float, shape: tuple[int, ...], tol: float) -> str:
    """Why ``x``, where the secant's steps stalled, is not a root ("" if it is one).

    Small secant steps alone do not make a root: near a turning point of f that stays away from 0
    the chords pile up without f reaching 0 (SciPy then reports convergence). A root is where one
    Newton correction f/f′, with f′ from the engine, is within √tol of x's scale.
    """
    if fx == 0:
        return ""
    try:
        slope = float(np.asarray(grad(lambda v: f(v))(np.full(shape, x)), dtype=np.float64).reshape(()))
    except (TypeError, ValueError):  # f is not differentiable by the engine: no verdict beyond the step test
        return ""
    correction = abs(fx / slope) if slope != 0 else np.inf
    if correction <= np.sqrt(tol) * max(1.0, abs(x)):
        return ""
    return "f'(x) = 0 there" if slope == 0 else f"a Newton step from there would move x by {correction:.3g}"


def _root_step(J: np.ndarray, fx: np.ndarray, x: np.ndarray) -> tuple[np.ndarray | None, str]:
    """``J⁻¹ f`` or ``(None, reason)`` for a zero derivative or a singular Jacobian."""
    if not np.all(np.isfinite(J)):
        return None, "the derivative is not finite"
    if J.size == 1:
        d = float(J.reshape(()))
        if d == 0.0:
            return None, "zero derivative f'(x) = 0"
        step = fx.reshape(-1) / d
    else:
        s = np.linalg.svd(J, compute_uv=False)
        if s[0] == 0.0 or s[-1] <= s[0] * 1e-14:
            cond = np.inf if s[-1] == 0 else s[0] / s[-1]
            return None, f"singular Jacobian (condition number {cond:.3g})"
        step = np.linalg.solve(J, fx.reshape(-1))
    if not np.all(np.isfinite(step)):
        return None, "the Newton step is not finite (derivative too close to zero)"
    return step, ""


def _out(x: np.ndarray) -> Any:
    """A 0-d array as a NumPy scalar, like the transforms return."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


# ----------------------------------------------------------------------------- minimisation

def _structured(f: Callable[..., Any], x0: Any) -> tuple[Callable[..., Any], Any, Callable[[np.ndarray], Any] | None]:
    """A start point given as a structure (a dict of arrays, a tuple of arrays, nested), as JAX users
    write parameters: ``(f on one flat vector, that vector, a function putting a flat x back into the
    structure)``. A flat point (a number, an array, a list or tuple of numbers) is returned unchanged,
    with None for the third."""
    from . import pytree

    flat_numbers = isinstance(x0, (list, tuple)) and all(np.ndim(v) == 0 and not pytree.is_container(v)
                                                         for v in x0)
    if not pytree.is_container(x0) or flat_numbers:
        return f, x0, None
    leaves, treedef = pytree.flatten(x0)
    arrays = [np.array(v.data if isinstance(v, Tensor) else v, dtype=np.float64) for v in leaves]
    shapes = [a.shape for a in arrays]
    bounds = np.cumsum([0] + [a.size for a in arrays])

    def parts(v: Any, wrap: Callable[[Any, tuple[int, ...]], Any]) -> Any:
        return pytree.unflatten(treedef, [wrap(v[a:b], shape) for a, b, shape in zip(bounds, bounds[1:], shapes)])

    def f_flat(v: Tensor) -> Any:
        return f(parts(v, ops.reshape))

    return f_flat, np.concatenate([a.ravel() for a in arrays]), lambda x: parts(np.asarray(x), np.reshape)


def gradient_descent(f: Callable[..., Any], x0: Any, lr: float = 0.1, max_iter: int = 1000,
                     tol: float | None = 1e-8, momentum: float = 0.0, *, bounds: Any = None,
                     max_step: float | None = None) -> OptimizeResult:
    """Minimise a scalar ``f`` by gradient descent: ``v ← momentum·v − lr·∇f(x)``, ``x ← x + v``.

    ``momentum=0`` is plain gradient descent; ``0 < momentum < 1`` is Polyak's heavy ball. The
    stopping rule: converged when the largest entry of ∇f in absolute value (max-norm, not scaled by
    ``f`` or ``x``) is at most ``tol``. ``tol=None`` (or ``tol=0``) runs exactly ``max_iter`` steps, as
    the course's loops do: ``n_iter == max_iter``, ``history`` has ``max_iter + 1`` rows and
    ``converged`` is False with a message saying the fixed number of steps ran (a fixed run makes no
    claim to have converged). A value or gradient that stops being finite, or an iterate that runs
    off, is reported as divergence (try a smaller ``lr``); it ends a fixed run early too.

    ``f`` may be written ``f(v)`` or ``f(x, y, ...)``. ``bounds=[(lo, hi), ...]`` (None for an open
    side) projects each iterate onto the box and ``max_step`` caps the length (Euclidean) of each step
    ``v``, before the bounds; a step they shorten also shortens the momentum carried on. At a bound,
    the stopping rule reads the projected gradient (entries pushing out of the box count as 0), so a
    minimum on the boundary converges. ``classification`` names the kind of point at ``x`` from the
    Hessian's eigenvalues (``"minimum"``, ``"maximum"``, ``"saddle"``, ``"degenerate"``; judged
    within the box at a bound; not computed above ``CLASSIFY_MAX_SIZE`` variables).

    ``x0`` may also be a structure of arrays, as JAX users write parameters (a dict, a tuple, nested;
    as in JAX a list inside it is a container, so give vectors as arrays): ``f`` then gets the same
    structure of Tensors and ``x`` comes back in it; ``history`` holds the iterates flattened (the
    leaves in order, dicts in key order). A list or tuple of numbers is one vector, as before.

    >>> r = gradient_descent(lambda x: ((x - 3) ** 2).sum(), [0.0, 1.0], lr=0.25)
    >>> r.converged, r.x.round(6).tolist(), r.history.shape == (r.n_iter + 1, 2), r.classification
    (True, [3.0, 3.0], True, 'minimum')
    >>> loss = lambda p: ((p["w"] - 1) ** 2).sum() + (p["b"] + 2) ** 2
    >>> r = gradient_descent(loss, {"w": np.zeros(2), "b": 0.0}, lr=0.25)
    >>> r.x["w"].round(6).tolist(), float(r.x["b"].round(6))
    ([1.0, 1.0], -2.0)
    >>> r = gradient_descent(lambda x, y: x ** 2 + y ** 2, [1.0, 2.0], lr=0.1, tol=None, max_iter=3)
    >>> r.n_iter, r.converged, r.message
    (3, False, 'ran the fixed max_iter=3 steps (tol=None): |grad f| = 2.05')
    """
    name = "gradient_descent"
    _check_common(name, tol, max_iter, fixed_ok=True)
    fixed = tol is None or tol == 0
    f, x0, restore = _structured(f, x0)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"{name}: lr must be a positive number, got {lr!r}")
    if not (0.0 <= momentum < 1.0):
        raise ValueError(f"{name}: momentum must be in [0, 1), got {momentum!r}")
    x = _as_point(name, x0)
    f = f if restore is not None else _function(name, f, x)
    box = _box(name, bounds, max_step, x)
    start = x.copy()
    vg = value_and_grad(f)
    velocity = np.zeros_like(x)
    history, values = [x.copy()], []
    message, converged, capped, clipped = "", False, 0, 0
    with np.errstate(all="ignore"):
        for k in range(max_iter + 1):
            val, g = vg(x)
            val, g = _scalar(name, val), np.asarray(g, dtype=np.float64)
            values.append(val)
            size = _norm(box.projected_gradient(x, g)) if np.isfinite(val) else np.nan
            stop = _stop(k, max_iter, -1.0 if fixed else tol, size, "|grad f| =",
                         f"diverged: f or its gradient is not finite at iterate {k} (lr={lr:g} too large?)")
            if stop:
                converged, message = stop
                if fixed and np.isfinite(size):
                    message = f"ran the fixed max_iter={max_iter} steps (tol={tol!r}): |grad f| = {size:.3g}"
                break
            velocity = momentum * velocity - lr * g
            x_new, was_capped, was_clipped = box.move(x, velocity)
            if was_capped or was_clipped:
                velocity = x_new - x  # the momentum carries on the step actually taken
            capped, clipped = capped + was_capped, clipped + was_clipped
            if _too_far(x_new, start):
                message = f"diverged: iterate {k + 1} would be {_fmt(x_new)} (lr={lr:g} too large?)"
                break
            x = x_new
            history.append(x.copy())
    shape = x.shape
    return _minimiser_result(name, lambda v: f(ops.reshape(v, shape)), x, restore, converged, message, history,
                             values, g, box, capped, clipped)


_KIND_WORDS = {"minimum": "a minimum", "maximum": "a maximum", "saddle": "a saddle point",
               "degenerate": "degenerate Hessian: the second-order test is inconclusive"}


def _minimiser_result(name: str, flat: Callable[[Tensor], Any], x: np.ndarray,
                      restore: Callable[[np.ndarray], Any] | None, converged: bool, message: str,
                      history: list[np.ndarray], values: list[float], g: np.ndarray, box: Box, capped: int,
                      clipped: int, fallbacks: int = 0) -> OptimizeResult:
    """The result of a minimiser at its last point ``x``: classified, with the box's note in the message."""
    v = np.asarray(x, dtype=np.float64).reshape(-1)
    kind = _classified(name, flat, v, np.asarray(g, dtype=np.float64).reshape(-1), box)
    if converged and kind:
        message = f"{message}; {_KIND_WORDS[kind]}"
    n = len(history)
    return OptimizeResult(x=_out(x) if restore is None else restore(v), converged=converged, n_iter=n - 1,
                          message=_with_note(message, box, x, capped, clipped), history=np.array(history),
                          fun=values[n - 1], values=np.array(values[:n]), n_fallback=fallbacks, classification=kind,
                          bound_active=box.on_bound(v), n_capped=capped, n_clipped=clipped)


def _stop(k: int, max_iter: int, tol: float, size: float, what: str, not_finite: str) -> tuple[bool, str] | None:
    """``(converged, message)`` if iterate ``k`` ends the loop (``size`` ≤ tol, not finite, or the last), else None."""
    if not np.isfinite(size):
        return False, not_finite
    if size <= tol:
        return True, f"converged in {k} iterations: {what} {size:.3g} <= tol"
    if k == max_iter:
        return False, f"did not converge in max_iter={max_iter} iterations: {what} {size:.3g}"
    return None


SPARSE_MIN_SIZE = 64
"""sparse18: newton_minimize asks for a sparse Hessian (``sparsity="auto"``) from this many variables."""


def newton_minimize(f: Callable[..., Any], x0: Any, tol: float = 1e-8, max_iter: int = 100,
                    line_search: bool = True, *, modify_hessian: bool = True, bounds: Any = None,
                    max_step: float | None = None) -> OptimizeResult:
    """Minimise a scalar ``f`` by Newton steps on the autodiff Hessian, with the shared step rule.

    Each step solves ``H d = −∇f`` (:func:`tinygrad_mvc.newton_step.newton_step`, the rule
    ``tg.optim.Newton`` uses too). Where ``H`` is not positive definite the step uses ``H + τI`` with
    τ just large enough to make it so (a Levenberg shift, between Newton and gradient descent), so
    the step always goes downhill; ``n_fallback`` counts those steps. The step length comes from a
    line search that tries ``t = 1``, doubles while Armijo's condition holds and ``f`` keeps falling
    (up to 1024), and halves otherwise, so ``f`` decreases at every iterate and a tiny step across flat
    ground grows. ``line_search=False`` takes every (shifted) step whole. Converged when the largest
    entry of ∇f in absolute value (the projected gradient at a bound) is at most ``tol``.

    ``modify_hessian=False`` takes pure Newton steps ``x ← x − H⁻¹∇f`` (no shift, no line search): from
    nearby they walk to the closest stationary point, a maximum or a saddle as readily as a minimum,
    and ``classification`` (from the Hessian's eigenvalues at ``x``, as for :func:`gradient_descent`)
    says which; a singular Hessian stops it.

    ``f`` may be written ``f(v)`` or ``f(x, y, ...)``; ``x0`` may be a structure of arrays, as for
    :func:`gradient_descent`. ``bounds=[(lo, hi), ...]`` keeps every trial point in the box (a
    coordinate on a bound with the gradient pushing out is held there and the step is taken in the
    others) and ``max_step`` caps the step length (Euclidean, before the bounds): the line search
    starts at the capped length and grows at most to it. ``n_capped``, ``n_clipped``, ``bound_active``
    and ``message`` report them.

    >>> rosen = lambda v: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2
    >>> r = newton_minimize(rosen, [-1.2, 1.0])
    >>> r.converged, r.x.round(8).tolist(), r.classification
    (True, [1.0, 1.0], 'minimum')
    >>> r = newton_minimize(lambda x, y: -(x ** 2 + y ** 2) + x ** 4, [0.2, 0.3], modify_hessian=False)
    >>> bool(np.abs(r.x).max() < 1e-9), r.classification, r.n_iter     # pure Newton climbs to the maximum at 0
    (True, 'maximum', 3)
    """
    name = "newton_minimize"
    _check_common(name, tol, max_iter)
    f, x0, restore = _structured(f, x0)
    x = _as_point(name, x0)
    f = f if restore is not None else _function(name, f, x)
    box = _box(name, bounds, max_step, x)
    shape, start = x.shape, x.copy()
    flat = lambda v: f(ops.reshape(v, shape))  # Newton works on a flat vector; f sees x0's shape
    vg = value_and_grad(flat)
    hess = hessian(flat, sparsity="auto" if x.size >= SPARSE_MIN_SIZE else None)  # sparse18: few HVPs when sparse
    value_at = lambda trial: _scalar(name, _value(flat, trial))
    history, values = [x.copy()], []
    message, converged, fallbacks, capped, clipped = "", False, 0, 0, 0
    v = x.reshape(-1)
    with np.errstate(all="ignore"):
        val, g = vg(v)
        val, g = _scalar(name, val), np.asarray(g, dtype=np.float64).reshape(-1)
        for k in range(max_iter + 1):
            values.append(val)
            stop = _stop(k, max_iter, tol, _norm(box.projected_gradient(v, g)) if np.isfinite(val) else np.nan,
                         "|grad f| =", f"f or its gradient is not finite at iterate {k}")
            if stop:
                converged, message = stop
                break
            H = np.asarray(hess(v), dtype=np.float64).reshape(v.size, v.size)
            step, kind = newton_step(value_at, v, val, g, H, modify=modify_hessian, line_search=line_search, box=box)
            if step is None:
                message = (f"{kind} at iterate {k}: the pure Newton step is undefined (|grad f| = {_norm(g):.3g}); "
                           f"try modify_hessian=True") if not modify_hessian else (
                    f"line search failed at iterate {k}: no step along the {'shifted ' if kind != 'newton' else ''}"
                    f"Newton direction decreases f (|grad f| = {_norm(g):.3g})")
                break
            fallbacks += step.kind in ("shifted", "gradient")
            capped, clipped = capped + step.capped, clipped + step.clipped
            if _too_far(step.x, start):
                message = f"diverged: iterate {k + 1} would be {_fmt(step.x.reshape(shape))}"
                break
            v = step.x
            history.append(v.reshape(shape).copy())
            val, g = vg(v)
            val, g = _scalar(name, val), np.asarray(g, dtype=np.float64).reshape(-1)
    return _minimiser_result(name, flat, v.reshape(shape), restore, converged, message, history, values, g, box,
                             capped, clipped, fallbacks)


# ----------------------------------------------------------------------------- Lagrange multipliers

def lagrange_multipliers(f: Callable[[Tensor], Tensor],
                         constraints: Callable[[Tensor], Tensor] | Sequence[Callable[[Tensor], Tensor]],
                         x0: Any, multipliers0: Any = None, tol: float = 1e-10,
                         max_iter: int = 50) -> LagrangeResult:
    """A stationary point of ``f`` subject to ``g_i(x) = 0``, by Newton on the gradient of the Lagrangian.

    ``constraints`` is one function (returning a scalar, or a vector or tuple of m constraint values)
    or a list of scalar functions; ``f`` and every constraint may be written ``f(v)`` or
    ``f(x, y, ...)``. With ``L(x, λ) = f(x) − λ·g(x)``, Newton's method solves ∇L = 0
    (∇f = Σ λᵢ∇gᵢ and g(x) = 0) using the Hessian of L over (x, λ) from the engine: the KKT matrix
    [[∇²ₓL, −Jᵀ], [−J, 0]]. ``multipliers0`` defaults to the least-squares λ at ``x0``. Converged
    when the largest entry of ∇L is at most ``tol``. The point is then classified from the inertia
    of the bordered Hessian [[0, J], [Jᵀ, ∇²ₓL]] (see :class:`LagrangeResult`).

    >>> import tinygrad_mvc as tg
    >>> r = lagrange_multipliers(lambda v: v[0] ** 2 * v[1], lambda v: (v ** 2).sum() - 3, [1.0, 1.5])
    >>> r.x.round(10).tolist(), r.multipliers.round(10).tolist(), r.classification
    ([1.4142135624, 1.0], [1.0], 'maximum')
    >>> lagrange_multipliers(lambda x, y: x ** 2 * y, lambda x, y: x ** 2 + y ** 2 - 3, [1.0, 1.5]).x.round(10).tolist()
    [1.4142135624, 1.0]
    """
    name = "lagrange_multipliers"
    _check_common(name, tol, max_iter)
    x = _as_point(name, x0)
    if x.ndim != 1:
        raise ValueError(f"{name}: x0 must be a 1-D array of the unknowns, got shape {x.shape}")
    n = x.size
    f = _function(name, f, x)
    g_all = _constraint_vector(name, constraints, n)
    g0 = _value(g_all, x)
    m = g0.size
    if m == 0:
        raise ValueError(f"{name}: no constraints given")
    if m > n:
        raise ValueError(f"{name}: {m} constraints but only {n} unknowns")

    def lagrangian(z: Tensor) -> Tensor:
        xs, lam = z[:n], z[n:]
        return f(xs) - (lam * g_all(xs)).sum()

    grad_L, hess_L = grad(lagrangian), hessian(lagrangian)
    if multipliers0 is None:
        with np.errstate(all="ignore"):
            J0 = np.asarray(jacobian(g_all)(x), dtype=np.float64).reshape(m, n)
            gf = np.asarray(grad(f)(x), dtype=np.float64).reshape(n)
            lam = np.linalg.lstsq(J0.T, gf, rcond=None)[0] if np.all(np.isfinite(J0)) and np.all(
                np.isfinite(gf)) else np.zeros(m)
    else:
        lam = np.array(multipliers0, dtype=np.float64).reshape(-1)
        if lam.size != m:
            raise ValueError(f"{name}: multipliers0 has {lam.size} entries but there are {m} constraints")
    z = np.concatenate([x, lam])
    history = [x.copy()]
    message, converged = "", False
    with np.errstate(all="ignore"):
        for k in range(max_iter + 1):
            r = np.asarray(grad_L(z), dtype=np.float64)
            stop = _stop(k, max_iter, tol, _norm(r), "KKT residual",
                         f"the gradient of the Lagrangian is not finite at iterate {k}")
            if stop:
                converged, message = stop
                break
            K = np.asarray(hess_L(z), dtype=np.float64)
            step, why = _root_step(K, r, z)
            if step is None:
                why = why.replace("Jacobian", "KKT matrix")
                message = (f"{why} at iterate {k}: the constraint gradients are linearly dependent or the "
                           f"Lagrangian is degenerate there; try another x0")
                break
            z_new = z - step
            if _too_far(z_new[:n], x):
                message = f"diverged: iterate {k + 1} would be {_fmt(z_new[:n])}"
                break
            z = z_new
            history.append(z[:n].copy())
        xs, lam = z[:n], z[n:]
        K = np.asarray(hess_L(z), dtype=np.float64)
        res = _norm(np.asarray(grad_L(z), dtype=np.float64))
        fval = _scalar(name, _value(f, xs))
        gval = _value(g_all, xs)
    H, J = K[:n, :n], -K[n:, :n]
    bordered = np.block([[np.zeros((m, m)), J], [J.T, H]])
    return LagrangeResult(x=xs.copy(), converged=converged, n_iter=len(history) - 1, message=message,
                          history=np.array(history), fun=fval, values=np.array([_scalar(name, _value(f, h))
                                                                                  for h in history]),
                          multipliers=lam.copy(), kkt_residual=res,
                          classification=_classify(bordered, J, m, n) if np.all(np.isfinite(bordered)) else "",
                          bordered_hessian=bordered, constraint_values=gval)


def _constraint_vector(name: str, constraints: Any, n: int) -> Callable[[Tensor], Tensor]:
    """One function returning the 1-D vector of every constraint's value (each written g(v) or g(x, y, ...))."""
    if callable(constraints):
        g = vector_function(f"{name} (constraints)", constraints, n)[0]
        return lambda v: ops.reshape(_stacked_output(g(v)), (-1,))
    cs = list(constraints)
    if not cs or not all(callable(c) for c in cs):
        raise TypeError(f"{name}: constraints must be a function or a list of functions, got {constraints!r}")
    cs = [vector_function(f"{name} (constraint {i})", c, n)[0] for i, c in enumerate(cs)]

    def stacked(v: Tensor) -> Tensor:
        parts = []
        for i, c in enumerate(cs):
            out = _lift(c(v))
            if out.data.size != 1:
                raise ValueError(f"{name}: constraint {i} returned shape {out.data.shape}; each function in the "
                                 f"list must return a scalar")
            parts.append(ops.reshape(out, ()))
        return ops.stack(parts)

    return stacked


def _stacked_output(out: Any) -> Tensor:
    """A function's output as a Tensor; a tuple or list of scalars (``return g1, g2``) is stacked."""
    if isinstance(out, (list, tuple)):
        return ops.stack([ops.reshape(_lift(o), ()) for o in out])
    return _lift(out)


def _lift(out: Any) -> Tensor:
    return out if isinstance(out, Tensor) else Tensor(np.asarray(out, dtype=np.float64))


def _classify(bordered: np.ndarray, J: np.ndarray, m: int, n: int) -> str:
    """From the inertia of the bordered Hessian: m of its eigenvalues come from the constraints' border
    (m positive and m negative); the remaining n − m have the signs of ∇²L on the tangent space of the
    constraints (Haynsworth). So n positive means a minimum, n negative a maximum."""
    if np.linalg.matrix_rank(J) < m:
        return "degenerate"
    w = np.linalg.eigvalsh(0.5 * (bordered + bordered.T))
    zero = 1e-8 * max(1.0, float(np.max(np.abs(w))))
    pos, neg = int(np.sum(w > zero)), int(np.sum(w < -zero))
    if pos + neg < m + n:
        return "degenerate"
    if n == m:
        return "isolated"
    if neg == m and pos == n:
        return "minimum"
    if pos == m and neg == n:
        return "maximum"
    return "saddle"
