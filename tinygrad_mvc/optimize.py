"""The course's calculus algorithms, driven by the engine's own derivatives: roots, minima, constrained extrema.

- :func:`newton_raphson` — a root of ``f(x) = 0``, scalar or vector (the Jacobian by autodiff);
- :func:`gradient_descent` — plain or heavy-ball momentum steps down the gradient;
- :func:`newton_minimize` — damped Newton on the Hessian, with a shifted Hessian where it is not
  positive definite and a backtracking line search;
- :func:`lagrange_multipliers` — stationary points of ``f`` subject to equality constraints, by Newton
  on the gradient of the Lagrangian, classified from the bordered Hessian.

Every function is numpy in, numpy out: ``f`` is written with Tensor ops and is called with Tensors,
``x0`` is a float or an array. Each returns an :class:`OptimizeResult` (:class:`LagrangeResult` for
constrained problems) whose ``history`` holds every iterate from ``x0`` to ``x`` (``n_iter + 1``
rows), for plotting. A failure (a zero derivative, a singular Jacobian, divergence, a cycle, the
iteration limit) is ``converged=False`` with the reason in ``message``: never a hang and never a bare
NumPy error.

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
from .engine import no_grad
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

    def __repr__(self) -> str:
        x = np.array2string(np.asarray(self.x), precision=8)
        return (f"{type(self).__name__}(converged={self.converged}, x={x}, n_iter={self.n_iter}, "
                f"message={self.message!r})")


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
    classification: str = ""
    bordered_hessian: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    constraint_values: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + (f", multipliers={np.array2string(self.multipliers, precision=8)}, "
                                          f"classification={self.classification!r})")


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


def _check_common(name: str, tol: float, max_iter: int) -> None:
    if not (isinstance(tol, (int, float, np.floating)) and tol > 0):
        raise ValueError(f"{name}: tol must be a positive number, got {tol!r}")
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


# ----------------------------------------------------------------------------- Newton-Raphson

def newton_raphson(f: Callable[[Tensor], Tensor], x0: Any, tol: float = 1e-12, max_iter: int = 50) -> OptimizeResult:
    """A root of ``f(x) = 0`` by Newton-Raphson: ``x ← x − J(x)⁻¹ f(x)``, with J by autodiff.

    Scalar ``x0``: ``f`` maps a scalar to a scalar (``x ← x − f(x)/f'(x)``). A 1-D ``x0`` of size n:
    ``f`` returns n values. Converged when a step is at most ``tol · max(1, |x|)`` (or ``f(x)`` is
    exactly 0). A zero derivative or singular Jacobian, divergence (an iterate that is not finite or
    runs off beyond ``1e12 · max(1, |x0|)``), a cycle (an iterate that repeats an earlier one) and the
    iteration limit each stop with ``converged=False`` and the reason in ``message``. ``values`` holds
    ``f`` at every iterate.

    >>> r = newton_raphson(lambda x: x ** 3 - 2 * x + 2, 0.0)     # the textbook cycle 0, 1, 0, ...
    >>> r.converged, r.history.tolist()
    (False, [0.0, 1.0, 0.0])
    >>> r.message
    'cycle: iterate 2 repeats iterate 0 (period 2); Newton-Raphson oscillates without converging'
    """
    name = "newton_raphson"
    _check_common(name, tol, max_iter)
    x = _as_point(name, x0)
    start = x.copy()
    holder: dict[str, Any] = {}

    def traced(v: Tensor) -> Tensor:
        out = f(v)
        holder["out"] = out
        return out

    jac = jacobian(traced)

    def evaluate(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        J = np.asarray(jac(v), dtype=np.float64)
        out = holder["out"]
        fx = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)
        if fx.shape != x.shape:
            raise ValueError(f"{name}: f maps x of shape {x.shape} to shape {fx.shape}; a root needs as many "
                             f"equations as unknowns (the same shape)")
        return fx, J.reshape(fx.size, x.size)

    history, values = [x.copy()], []
    message, converged = "", False
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
            step, why = _newton_step(J, fx, x)
            if step is None:
                message = f"{why} at x = {_fmt(x)} (iterate {k}); Newton-Raphson cannot continue"
                break
            x_new = x - step.reshape(x.shape)
            if _too_far(x_new, start):
                message = f"diverged: iterate {k + 1} would be {_fmt(x_new)}, far from x0 = {_fmt(start)}"
                break
            small = _norm(x_new - x) <= tol * max(1.0, _norm(x_new))
            repeat = None if small else next(
                (j for j in range(len(history) - 1) if _norm(x_new - history[j]) <= tol * max(1.0, _norm(x_new))),
                None)
            x = x_new
            history.append(x.copy())
            fx, J = evaluate(x)
            values.append(fx)
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
    hist = np.array(history)
    return OptimizeResult(x=_out(x), converged=converged, n_iter=len(history) - 1, message=message, history=hist,
                          fun=_out(values[-1]), values=np.array(values))


def _newton_step(J: np.ndarray, fx: np.ndarray, x: np.ndarray) -> tuple[np.ndarray | None, str]:
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


def gradient_descent(f: Callable[[Tensor], Tensor], x0: Any, lr: float = 0.1, max_iter: int = 1000,
                     tol: float = 1e-8, momentum: float = 0.0) -> OptimizeResult:
    """Minimise a scalar ``f`` by gradient descent: ``v ← momentum·v − lr·∇f(x)``, ``x ← x + v``.

    ``momentum=0`` is plain gradient descent; ``0 < momentum < 1`` is Polyak's heavy ball. Converged
    when the largest entry of ∇f is at most ``tol``. A value or gradient that stops being finite, or
    an iterate that runs off, is reported as divergence (try a smaller ``lr``).

    ``x0`` may also be a structure of arrays, as JAX users write parameters (a dict, a tuple, nested;
    as in JAX a list inside it is a container, so give vectors as arrays): ``f`` then gets the same
    structure of Tensors and ``x`` comes back in it; ``history`` holds the iterates flattened (the
    leaves in order, dicts in key order). A list or tuple of numbers is one vector, as before.

    >>> r = gradient_descent(lambda x: ((x - 3) ** 2).sum(), [0.0, 1.0], lr=0.25)
    >>> r.converged, r.x.round(6).tolist(), r.history.shape == (r.n_iter + 1, 2)
    (True, [3.0, 3.0], True)
    >>> loss = lambda p: ((p["w"] - 1) ** 2).sum() + (p["b"] + 2) ** 2
    >>> r = gradient_descent(loss, {"w": np.zeros(2), "b": 0.0}, lr=0.25)
    >>> r.x["w"].round(6).tolist(), float(r.x["b"].round(6))
    ([1.0, 1.0], -2.0)
    """
    name = "gradient_descent"
    _check_common(name, tol, max_iter)
    f, x0, restore = _structured(f, x0)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"{name}: lr must be a positive number, got {lr!r}")
    if not (0.0 <= momentum < 1.0):
        raise ValueError(f"{name}: momentum must be in [0, 1), got {momentum!r}")
    x = _as_point(name, x0)
    start = x.copy()
    vg = value_and_grad(f)
    velocity = np.zeros_like(x)
    history, values = [x.copy()], []
    message, converged = "", False
    with np.errstate(all="ignore"):
        for k in range(max_iter + 1):
            val, g = vg(x)
            val, g = _scalar(name, val), np.asarray(g, dtype=np.float64)
            values.append(val)
            stop = _stop(k, max_iter, tol, _norm(g) if np.isfinite(val) else np.nan, "|grad f| =",
                         f"diverged: f or its gradient is not finite at iterate {k} (lr={lr:g} too large?)")
            if stop:
                converged, message = stop
                break
            velocity = momentum * velocity - lr * g
            x_new = x + velocity
            if _too_far(x_new, start):
                message = f"diverged: iterate {k + 1} would be {_fmt(x_new)} (lr={lr:g} too large?)"
                break
            x = x_new
            history.append(x.copy())
    return OptimizeResult(x=_out(x) if restore is None else restore(x), converged=converged,
                          n_iter=len(history) - 1, message=message, history=np.array(history),
                          fun=values[len(history) - 1], values=np.array(values[:len(history)]))


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


def newton_minimize(f: Callable[[Tensor], Tensor], x0: Any, tol: float = 1e-8, max_iter: int = 100,
                    line_search: bool = True) -> OptimizeResult:
    """Minimise a scalar ``f`` by damped Newton steps on the autodiff Hessian.

    Each step solves ``H d = −∇f``. Where ``H`` is not positive definite the step uses
    ``H + τI`` with τ just large enough to make it so (a Levenberg shift, between Newton and
    gradient descent), so the step always goes downhill; ``n_fallback`` counts those steps. The step
    length comes from a backtracking (Armijo) line search, so ``f`` decreases at every iterate.
    Converged when the largest entry of ∇f is at most ``tol``. ``x0`` may be a structure of arrays, as
    for :func:`gradient_descent`.

    >>> rosen = lambda v: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2
    >>> r = newton_minimize(rosen, [-1.2, 1.0])
    >>> r.converged, r.x.round(8).tolist()
    (True, [1.0, 1.0])
    """
    name = "newton_minimize"
    _check_common(name, tol, max_iter)
    f, x0, restore = _structured(f, x0)
    x = _as_point(name, x0)
    shape, start = x.shape, x.copy()
    flat = lambda v: f(ops.reshape(v, shape))  # Newton works on a flat vector; f sees x0's shape
    vg = value_and_grad(flat)
    hess = hessian(flat, sparsity="auto" if x.size >= SPARSE_MIN_SIZE else None)  # sparse18: few HVPs when sparse
    history, values = [x.copy()], []
    message, converged, fallbacks = "", False, 0
    v = x.reshape(-1)
    with np.errstate(all="ignore"):
        val, g = vg(v)
        val, g = _scalar(name, val), np.asarray(g, dtype=np.float64).reshape(-1)
        for k in range(max_iter + 1):
            values.append(val)
            stop = _stop(k, max_iter, tol, _norm(g) if np.isfinite(val) else np.nan, "|grad f| =",
                         f"f or its gradient is not finite at iterate {k}")
            if stop:
                converged, message = stop
                break
            H = np.asarray(hess(v), dtype=np.float64).reshape(v.size, v.size)
            d, shifted = _descent_direction(H, g)
            fallbacks += shifted
            alpha, new = 1.0, None
            slope = float(g @ d)
            for _ in range(60 if line_search else 1):
                trial = v + alpha * d
                tval = _scalar(name, _value(flat, trial))
                if np.isfinite(tval) and (not line_search or tval <= val + 1e-4 * alpha * slope):
                    new = trial
                    break
                alpha *= 0.5
            if new is None:
                message = (f"line search failed at iterate {k}: no step along the "
                           f"{'shifted ' if shifted else ''}Newton direction decreases f (|grad f| = {_norm(g):.3g})")
                break
            if _too_far(new, start):
                message = f"diverged: iterate {k + 1} would be {_fmt(new)}"
                break
            v = new
            history.append(v.reshape(shape).copy())
            val, g = vg(v)
            val, g = _scalar(name, val), np.asarray(g, dtype=np.float64).reshape(-1)
    return OptimizeResult(x=_out(v.reshape(shape)) if restore is None else restore(v), converged=converged,
                          n_iter=len(history) - 1, message=message, history=np.array(history), fun=values[-1],
                          values=np.array(values), n_fallback=fallbacks)


def _descent_direction(H: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, bool]:
    """``−H⁻¹g`` if H is positive definite, else ``−(H + τI)⁻¹g`` with the smallest safe shift τ."""
    if not np.all(np.isfinite(H)):
        return -g, True
    H = 0.5 * (H + H.T)
    try:
        return -np.linalg.solve(H, g) if _is_pd(H) else _shifted(H, g), not _is_pd(H)
    except np.linalg.LinAlgError:
        return -g, True


def _is_pd(H: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        return False
    w = np.linalg.eigvalsh(H)
    return bool(w[0] > 1e-12 * max(1.0, w[-1]))


def _shifted(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    w = np.linalg.eigvalsh(H)
    scale = max(1.0, float(np.max(np.abs(w))))
    tau = -w[0] + 1e-3 * scale  # eigenvalues of H + τI are at least 1e-3 of the largest: safely positive
    return -np.linalg.solve(H + tau * np.eye(H.shape[0]), g)


# ----------------------------------------------------------------------------- Lagrange multipliers

def lagrange_multipliers(f: Callable[[Tensor], Tensor],
                         constraints: Callable[[Tensor], Tensor] | Sequence[Callable[[Tensor], Tensor]],
                         x0: Any, multipliers0: Any = None, tol: float = 1e-10,
                         max_iter: int = 50) -> LagrangeResult:
    """A stationary point of ``f`` subject to ``g_i(x) = 0``, by Newton on the gradient of the Lagrangian.

    ``constraints`` is one function (returning a scalar, or a vector of m constraint values) or a
    list of scalar functions. With ``L(x, λ) = f(x) − λ·g(x)``, Newton's method solves ∇L = 0
    (∇f = Σ λᵢ∇gᵢ and g(x) = 0) using the Hessian of L over (x, λ) from the engine: the KKT matrix
    [[∇²ₓL, −Jᵀ], [−J, 0]]. ``multipliers0`` defaults to the least-squares λ at ``x0``. Converged
    when the largest entry of ∇L is at most ``tol``. The point is then classified from the inertia
    of the bordered Hessian [[0, J], [Jᵀ, ∇²ₓL]] (see :class:`LagrangeResult`).

    >>> import tinygrad_mvc as tg
    >>> r = lagrange_multipliers(lambda v: v[0] ** 2 * v[1], lambda v: (v ** 2).sum() - 3, [1.0, 1.5])
    >>> r.x.round(10).tolist(), r.multipliers.round(10).tolist(), r.classification
    ([1.4142135624, 1.0], [1.0], 'maximum')
    """
    name = "lagrange_multipliers"
    _check_common(name, tol, max_iter)
    x = _as_point(name, x0)
    if x.ndim != 1:
        raise ValueError(f"{name}: x0 must be a 1-D array of the unknowns, got shape {x.shape}")
    n = x.size
    g_all = _constraint_vector(name, constraints)
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
            step, why = _newton_step(K, r, z)
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


def _constraint_vector(name: str, constraints: Any) -> Callable[[Tensor], Tensor]:
    """One function returning the 1-D vector of every constraint's value."""
    if callable(constraints):
        return lambda v: ops.reshape(_lift(constraints(v)), (-1,))
    cs = list(constraints)
    if not cs or not all(callable(c) for c in cs):
        raise TypeError(f"{name}: constraints must be a function or a list of functions, got {constraints!r}")

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
