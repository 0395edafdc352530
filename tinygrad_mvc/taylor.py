"""Taylor series: polynomial approximations of a function around a point, from exact derivatives.

For a scalar point the coefficients are f⁽ᵏ⁾(x₀)/k! to any order, by differentiating the recorded
derivative again and again (each order costs a few times the one before, so high orders of a
long formula get slow). For a vector point the model stops at second order:
f(x₀) + ∇f(x₀)·d + dᵀ (½ H(x₀)) d, with d = x − x₀ — the linearisation and the quadratic model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import engine
from .tensor import Tensor
from .transforms import _Call, _fresh, _trace, grad, hessian

__all__ = ["taylor", "TaylorApproximation"]


class TaylorApproximation:
    """The Taylor polynomial of ``f`` of a given order around ``x0``; call it like ``f``.

    ``coefficients`` is an array ``[f(x₀), f'(x₀), f''(x₀)/2!, ...]`` for a scalar ``x0``, and the
    tuple ``(f(x₀), ∇f(x₀), ½ H(x₀))`` (up to ``order``) for a vector ``x0``. Calling it on ``x``
    evaluates the polynomial; for a vector ``x0``, ``x`` may hold many points along leading axes.

    >>> import tinygrad_mvc as tg
    >>> p = tg.taylor(tg.exp, 0.0, 3)
    >>> p.coefficients                    # 1, 1, 1/2, 1/6
    array([1.        , 1.        , 0.5       , 0.16666667])
    >>> float(p(0.1))
    1.1051666666666666
    """

    def __init__(self, f: Callable[..., Any], x0: np.ndarray, order: int, coefficients: Any) -> None:
        self.f = f
        self.x0 = x0
        self.order = order
        self.coefficients = coefficients

    @property
    def is_scalar(self) -> bool:
        return self.x0.ndim == 0

    def __call__(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            x = x.data
        d = np.asarray(x, dtype=np.result_type(self.x0, np.float64)) - self.x0
        if self.is_scalar:
            result = np.zeros_like(d)
            for c in self.coefficients[::-1]:  # Horner's rule
                result = result * d + c
            return result
        n = self.x0.ndim
        if d.shape[d.ndim - n:] != self.x0.shape:
            raise ValueError(f"taylor: points must end with x0's shape {self.x0.shape}, got shape {np.shape(x)}")
        axes = tuple(range(-n, 0))
        result = np.broadcast_to(self.coefficients[0], d.shape[:d.ndim - n]).astype(d.dtype)
        if self.order >= 1:
            result = result + np.sum(d * self.coefficients[1], axis=axes)
        if self.order >= 2:
            flat = d.reshape(d.shape[:d.ndim - n] + (-1,))
            half_h = self.coefficients[2].reshape(flat.shape[-1], flat.shape[-1])
            result = result + np.einsum("...i,ij,...j->...", flat, half_h, flat)
        return result

    def plot(self, xs: Any = None, ax: Any = None) -> Any:
        """Draw ``f`` and this approximation (matplotlib); returns the Figure. See :func:`tg.viz.plot_taylor`."""
        from .viz import plot_taylor

        return plot_taylor(self.f, self.x0, orders=(self.order,), xs=xs, ax=ax)

    def __repr__(self) -> str:
        where = float(self.x0) if self.is_scalar else f"shape {self.x0.shape}"
        return f"TaylorApproximation(order={self.order}, x0={where})"


def taylor(f: Callable[..., Any], x0: Any, order: int = 2) -> TaylorApproximation:
    """The Taylor approximation of order ``order`` of a scalar-valued ``f`` around ``x0``.

    Scalar ``x0``: any order, coefficients f⁽ᵏ⁾(x₀)/k!. Vector ``x0``: order ≤ 2, coefficients
    ``(f(x₀), ∇f(x₀), ½ H(x₀))``.

    >>> import tinygrad_mvc as tg
    >>> tg.taylor(lambda x: tg.log(1 + x), 0.0, 4).coefficients     # (-1)^(k+1) / k
    array([ 0.        ,  1.        , -0.5       ,  0.33333333, -0.25      ])
    """
    if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or order < 0:
        raise ValueError(f"taylor: order must be a non-negative int, got {order!r}")
    point = np.array(x0.data if isinstance(x0, Tensor) else x0, dtype=np.float64)
    if point.ndim == 0:
        return TaylorApproximation(f, point, int(order), _scalar_coefficients(f, point, int(order)))
    if order > 2:
        raise ValueError(f"taylor: order {order} at a vector x0 (shape {point.shape}) would need a tensor of "
                         f"order-{order} derivatives; use order ≤ 2 there, or a scalar x0 for any order")
    value = _value(f, point)
    coefficients: tuple[Any, ...] = (value,)
    if order >= 1:
        coefficients += (np.asarray(grad(f)(point)),)
    if order >= 2:
        coefficients += (0.5 * np.asarray(hessian(f)(point)),)
    return TaylorApproximation(f, point, int(order), coefficients)


def _value(f: Callable[..., Any], point: np.ndarray) -> np.ndarray:
    with engine.no_grad():
        out = f(Tensor(point))
    value = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)
    if value.size != 1:
        raise ValueError(f"taylor: f must return a scalar, got shape {value.shape}")
    return value.reshape(())


def _scalar_coefficients(f: Callable[..., Any], point: np.ndarray, order: int) -> np.ndarray:
    """f⁽ᵏ⁾(x₀)/k! for k = 0..order, each derivative taken of the recorded previous one."""
    x = _fresh(point)
    out = _trace("taylor", f, _Call([x], [x], True, True), {})
    if out.data.size != 1:
        raise ValueError(f"taylor: f must return a scalar, got shape {out.data.shape}")
    coefficients = np.zeros(order + 1)
    coefficients[0] = out.data.item()
    d = out
    for k in range(1, order + 1):
        if not d.requires_grad:
            break  # a polynomial of lower degree: the remaining derivatives are zero
        (d,) = engine.gradients(d, [x], create_graph=k < order)
        coefficients[k] = d.data.item() / math.factorial(k)
    return coefficients
