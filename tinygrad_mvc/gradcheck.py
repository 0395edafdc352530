"""``gradcheck``: the engine's derivatives against finite differences.

For a function of Tensors it draws a random cotangent ``u`` and compares, entry by entry, the
autodiff gradient of ``<u, f(x)>`` with central differences in float64, then checks the
inner-product identity ``<J^T u, v> = <u, J v>`` along a random direction ``v``. With
``order=2`` it also compares Hessian-vector products with differences of the gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .finite_diff import directional, numerical_grad, numerical_jacobian
from .tensor import Tensor

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Autodiff and finite differences disagree; the message names input, index and both values."""


def gradcheck(f: Callable[..., Any], *inputs: Any, atol: float = 1e-5, rtol: float = 1e-3, order: int = 1,
              rng: Any = 0) -> bool:
    """Check the derivatives of ``f`` at ``inputs``; return True or raise :class:`GradcheckError`.

    Every floating input is checked; other inputs are passed as they are. Inputs are checked in
    float64 (float32 ones are converted: differences in float32 are too coarse to be a test).

    >>> import tinygrad_mvc as tg
    >>> gradcheck(lambda x: tg.sin(x) * x, np.array([0.5, 1.5]))
    True
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order}")
    gen = np.random.default_rng(rng)
    values = [_as_input(x) for x in inputs]
    diff = [i for i, x in enumerate(values) if isinstance(x, np.ndarray) and x.dtype.kind == "f"]
    if not diff:
        raise ValueError("gradcheck: no floating-point input to check")
    out = _call(f, values)
    # A scalar output is checked as it is, so a failure reports the derivative itself; a larger output is
    # contracted with a random u, and a failure then reports the Jacobian entry behind it (_jacobian_entry).
    u = np.ones(out.shape) if out.size == 1 else gen.standard_normal(out.shape)

    def phi(vals: list[Any]) -> float:
        return float(np.sum(u * _call(f, vals).data))

    def grad_at(vals: list[Any], create_graph: bool = False) -> tuple[list[Tensor], list[np.ndarray]]:
        leaves = [Tensor(v, requires_grad=True) if i in diff else v for i, v in enumerate(vals)]
        y = _call(f, leaves)
        if y.shape != out.shape:
            raise GradcheckError(f"gradcheck: f returned shape {y.shape} here but {out.shape} before")
        if y.requires_grad:
            (y * u).sum().backward(create_graph=create_graph)
        grads = [leaves[i].grad for i in diff]
        arrays = [np.zeros_like(vals[i]) if g is None else np.asarray(g.data, dtype=float)
                  for i, g in zip(diff, grads)]
        return [leaves[i] for i in diff], arrays

    leaves, analytic = grad_at(values, create_graph=order == 2)
    for k, i in enumerate(diff):
        numeric = numerical_grad(lambda z, i=i: phi(_replace(values, i, z)), values[i])
        failure = _compare(analytic[k], numeric, atol, rtol, f"gradient of input {i}")
        if failure is not None and out.size != 1:
            failure = _jacobian_entry(f, values, i, failure)
        if failure is not None:
            raise GradcheckError(failure.message())

    # Inner-product test along one random direction through all inputs at once.
    v = [gen.standard_normal(values[i].shape) for i in diff]
    lhs = float(sum(np.sum(a * d) for a, d in zip(analytic, v)))
    rhs = float(directional(lambda t: np.asarray(phi(_shift(values, diff, v, t))), np.zeros(()), np.ones(())))
    scale = sum(float(np.sum(np.abs(a * d))) for a, d in zip(analytic, v))
    if abs(lhs - rhs) > atol * max(1.0, scale) + rtol * abs(rhs):
        raise GradcheckError(f"gradcheck: inner-product test failed: <J^T u, v> = {lhs!r} by autodiff (analytic) "
                             f"but <u, J v> = {rhs!r} by differences (numerical)")

    if order == 2:
        _check_hvp(leaves, analytic, values, diff, grad_at, gen, atol, rtol)
    return True


def _check_hvp(leaves: list[Tensor], analytic: list[np.ndarray], values: list[Any], diff: list[int],
               grad_at: Callable[..., Any], gen: np.random.Generator, atol: float, rtol: float) -> None:
    w = [gen.standard_normal(values[i].shape) for i in diff]
    grads = [leaf.grad for leaf in leaves]
    pieces = [(g * wk).sum() for g, wk in zip(grads, w) if g is not None and g.requires_grad]
    hv = [np.zeros_like(values[i]) for i in diff]
    if pieces:
        total = pieces[0]
        for p in pieces[1:]:
            total = total + p
        for leaf in leaves:
            leaf.grad = None
        total.backward()
        hv = [np.zeros_like(values[i]) if leaf.grad is None else leaf.grad.data for i, leaf in
              zip(diff, leaves)]

    def grads_along(t: float) -> list[np.ndarray]:
        return grad_at(_shift(values, diff, w, t))[1]

    h = 1e-5 * max(1.0, max(float(np.max(np.abs(values[i]), initial=0.0)) for i in diff))
    plus, minus = grads_along(h), grads_along(-h)
    for k, i in enumerate(diff):
        numeric = (plus[k] - minus[k]) / (2 * h)
        failure = _compare(hv[k], numeric, atol * 10, rtol * 10, f"Hessian-vector product for input {i}")
        if failure is not None:
            raise GradcheckError(failure.message())


def _as_input(x: Any) -> Any:
    if isinstance(x, Tensor):
        x = x.data
    if isinstance(x, (float, int, list, np.floating, np.integer)) and not isinstance(x, bool):
        x = np.asarray(x, dtype=float)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(np.float64)
    return x


def _call(f: Callable[..., Any], vals: list[Any]) -> Tensor:
    args = [Tensor(v) if isinstance(v, (np.ndarray, np.floating)) else v for v in vals]
    out = f(*args)
    if not isinstance(out, Tensor):
        out = Tensor(np.asarray(out, dtype=float))
    return out


def _replace(values: list[Any], i: int, z: np.ndarray) -> list[Any]:
    vals = list(values)
    vals[i] = z
    return vals


def _shift(values: list[Any], diff: list[int], direction: list[np.ndarray], t: Any) -> list[Any]:
    vals = list(values)
    for i, d in zip(diff, direction):
        vals[i] = np.asarray(values[i] + float(t) * d)
    return vals


@dataclass
class _Failure:
    where: str  # "gradient of input 0 is wrong at index (2,)"
    index: tuple[int, ...]
    analytic: float
    numerical: float
    allowed: float
    detail: str = ""

    def message(self) -> str:
        a, n = self.analytic, self.numerical
        return (f"gradcheck: {self.where}: analytic {a!r}, numerical {n!r} "
                f"(|difference| {abs(a - n):.3g} > atol + rtol*|numerical| = {self.allowed:.3g}){self.detail}")


def _compare(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float, what: str) -> _Failure | None:
    """The worst entry where ``analytic`` and ``numeric`` disagree beyond the tolerance, or None."""
    analytic = np.asarray(analytic, dtype=float)
    numeric = np.asarray(numeric, dtype=float)
    if analytic.shape != numeric.shape:
        raise GradcheckError(f"gradcheck: {what} has shape {analytic.shape}, expected {numeric.shape}")
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    excess = np.where(np.isnan(excess), np.inf, excess)  # a NaN on either side is a failure
    if excess.size == 0 or not np.any(excess > 0):
        return None
    idx = np.unravel_index(int(np.argmax(excess)), excess.shape)
    n = float(numeric[idx])
    index = tuple(int(j) for j in idx)
    return _Failure(f"{what} is wrong at index {index}", index, float(analytic[idx]), n, atol + rtol * abs(n))


def _jacobian_entry(f: Callable[..., Any], values: list[Any], i: int, failure: _Failure) -> _Failure:
    """Restate a failure of the projected gradient ``uᵀJ`` as the worst entry of J's column at that input entry.

    The projection's numbers depend on the random ``u``; a user recognises ∂out[j]/∂x[k] instead.
    """
    from .transforms import jacobian

    def fn(z: Any) -> Tensor:
        return _call(f, _replace(values, i, z))

    k = failure.index
    column = np.asarray(jacobian(fn, mode="fwd")(values[i]), dtype=float)[(...,) + k]
    numeric = numerical_jacobian(lambda z: fn(z).data, values[i])[(...,) + k]
    entry = _compare(column, numeric, 0.0, 0.0, "")
    if entry is None:  # the column agrees entry by entry: keep the projection's figures
        return failure
    j = entry.index
    a, n = column[j], numeric[j]
    detail = (f"; as the projection uᵀJ of the output with a random u (gradcheck's test): analytic "
              f"{failure.analytic!r}, numerical {failure.numerical!r}")
    where = f"{failure.where}, in the Jacobian entry d out{list(j)} / d x{list(k)}"
    return _Failure(where, k, float(a), float(n), failure.allowed, detail)
