"""Derivatives by finite differences, the independent check on the engine.

``f`` takes and returns NumPy arrays. Methods: ``"forward"`` (error O(h)), ``"backward"`` (O(h)),
``"central"`` (O(h^2)) and ``"complex"`` (complex step: ``Im f(x + ih) / h``, no subtractive
cancellation, so h can be tiny; ``f`` must accept complex input and be real-analytic).
``h=None`` picks the step that balances truncation and round-off for the method and the dtype.

The step rule (the same in every function here; :func:`steps` returns the steps themselves): entry
``i`` is moved by ``s_i = h·max(1, |x_i|)`` (relative to ``x_i`` once ``|x_i| > 1``, so that
``x_i ± s_i`` differs from ``x_i`` in many digits), rounded so that ``(x_i + s_i) − x_i == s_i``
exactly. The complex step is not scaled (``s_i = h``): it has no subtraction, so a tiny step costs
nothing. With float64 and ``h=None``, ``h`` is ``eps**(1/3) ≈ 6.1e-6`` (central), ``eps**(1/2) ≈
1.5e-8`` (forward, backward) and ``1e-20`` (complex); second derivatives use ``eps**(1/4) ≈ 1.2e-4``
(central) and ``eps**(1/3)`` (one-sided). The price of the relative step: at ``x = 1e8`` the central
step is about 600, far longer than the period of ``sin``, so differences there measure nothing; use
``method="complex"`` or an explicit ``h`` at such points. (:func:`directional` scales by
``max(1, max_i |x_i|)`` instead, one step for the whole direction.)

>>> import numpy as np
>>> numerical_grad(lambda x: np.sum(x ** 2), np.array([1.0, 2.0]))
array([2., 4.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["default_step", "steps", "numerical_grad", "numerical_jacobian", "numerical_hessian", "directional"]

METHODS = ("forward", "backward", "central", "complex")
Fn = Callable[[np.ndarray], np.ndarray]


def default_step(method: str, dtype: Any = np.float64, order: int = 1) -> float:
    """The step that minimises truncation plus round-off error, before scaling by ``max(1, |x|)``.

    With machine epsilon ``eps``: ``eps**(1/2)`` for one-sided differences, ``eps**(1/3)`` for
    central ones (``eps**(1/3)`` and ``eps**(1/4)`` for second derivatives), and a tiny step for the
    complex method, whose error has no round-off term.
    """
    _check_method(method)
    eps = float(np.finfo(np.dtype(dtype)).eps)
    if method == "complex":
        return 1e-20 if eps < 1e-10 else 1e-10
    if order == 1:
        return eps ** (1 / 3) if method == "central" else eps ** 0.5
    return eps ** 0.25 if method == "central" else eps ** (1 / 3)


def steps(x: Any, h: float | None = None, method: str = "central", order: int = 1) -> np.ndarray:
    """The step each entry of ``x`` is moved by (order 1: :func:`numerical_jacobian`; 2: :func:`numerical_hessian`).

    ``h·max(1, |x_i|)``, rounded so that ``(x_i + s_i) − x_i == s_i``, with ``h=None`` meaning
    ``default_step(method, dtype, order)``; ``h`` unscaled for the complex step. Shape ``x.shape``.
    For the complex Hessian these are the imaginary steps; its real steps are the central ones of order 1.

    >>> steps([0.5, 1e8]).round(10).tolist()
    [6.0555e-06, 605.5454452336]
    """
    _check_method(method)
    x = _as_float(x)
    if h is None:
        h = default_step(method, _real_dtype(x), order=order)
    if method == "complex":
        return np.full(x.shape, h, dtype=_real_dtype(x))
    return _basis_steps(np.real(x), h)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"finite_diff: method must be one of {METHODS}, got {method!r}")


def _as_float(x: np.ndarray) -> np.ndarray:
    x = np.array(x, dtype=float if np.asarray(x).dtype.kind not in "fc" else None)
    return x


def _real_dtype(x: np.ndarray) -> np.dtype:
    return np.finfo(x.dtype).dtype


def directional(f: Fn, x: np.ndarray, v: np.ndarray, h: float | None = None,
                method: str = "central") -> np.ndarray:
    """The derivative of ``f`` at ``x`` along ``v`` (``J v``), shape of ``f(x)``."""
    _check_method(method)
    x = _as_float(x)
    v = np.asarray(v, dtype=x.dtype)
    if h is None:
        h = default_step(method, _real_dtype(x))
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    if vmax == 0.0:
        return np.zeros_like(np.asarray(f(x)), dtype=float)
    # Scale the step to the size of x, and make it exactly representable along each entry.
    step = h * max(1.0, float(np.max(np.abs(x)))) / vmax
    if method == "complex":
        return np.imag(f(x + 1j * step * v)) / step
    if method == "forward":
        return (np.asarray(f(x + step * v)) - np.asarray(f(x))) / step
    if method == "backward":
        return (np.asarray(f(x)) - np.asarray(f(x - step * v))) / step
    return (np.asarray(f(x + step * v)) - np.asarray(f(x - step * v))) / (2 * step)


def _basis_steps(x: np.ndarray, h: float) -> np.ndarray:
    """Per-entry steps ``h * max(1, |x_i|)``, rounded so that ``(x + s) - x == s`` exactly."""
    s = h * np.maximum(1.0, np.abs(x))
    return (x + s) - x


def numerical_jacobian(f: Fn, x: np.ndarray, h: float | None = None, method: str = "central") -> np.ndarray:
    """The Jacobian of ``f`` at ``x`` by differences, shape ``f(x).shape + x.shape``.

    >>> numerical_jacobian(lambda x: x ** 2, np.array([3.0])).round(6)
    array([[6.]])
    """
    _check_method(method)
    x = _as_float(x)
    if h is None:
        h = default_step(method, _real_dtype(x))
    flat = x.reshape(-1)
    f0 = np.asarray(f(x))
    out_shape = f0.shape
    cols = np.empty((flat.size,) + out_shape, dtype=np.result_type(f0.real, x.real, float))
    steps = _basis_steps(flat, h) if method != "complex" else np.full(flat.size, h)
    for i in range(flat.size):
        s = steps[i]
        if method == "complex":
            xp = flat.astype(complex)
            xp[i] += 1j * s
            cols[i] = np.imag(f(xp.reshape(x.shape))) / s
            continue
        xp, xm = flat.copy(), flat.copy()
        if method in ("forward", "central"):
            xp[i] += s
        if method in ("backward", "central"):
            xm[i] -= s
        fp = f0 if method == "backward" else np.asarray(f(xp.reshape(x.shape)))
        fm = f0 if method == "forward" else np.asarray(f(xm.reshape(x.shape)))
        cols[i] = (fp - fm) / (2 * s if method == "central" else s)
    # cols is indexed [input, *output]: move the input axes last.
    return np.moveaxis(cols, 0, -1).reshape(out_shape + x.shape)


def numerical_grad(f: Fn, x: np.ndarray, h: float | None = None, method: str = "central") -> np.ndarray:
    """The gradient of a scalar ``f`` at ``x`` by differences, shape ``x.shape``.

    The step rule: entry ``i`` is moved by ``s_i = h·max(1, |x_i|)`` (``h`` itself for ``"complex"``;
    see :func:`steps`), and ``h=None`` picks :func:`default_step` for the method and dtype (float64
    central: ``h = eps**(1/3) ≈ 6.1e-6``, so ``s = 606`` at ``x = 1e8``). ``"central"`` is
    ``(f(x + s_i e_i) − f(x − s_i e_i)) / (2 s_i)``, with error about ``s_i² |f'''| / 6 + eps |f| / s_i``
    (truncation + round-off); ``"forward"``/``"backward"`` about ``s_i |f''| / 2 + 2 eps |f| / s_i``;
    ``"complex"`` is ``Im f(x + i h e_i) / h``, with error about ``h² |f'''| / 6``.

    >>> numerical_grad(lambda x: np.sum(x ** 3), np.array([2.0])).round(6)
    array([12.])
    """
    x = _as_float(x)
    f0 = np.asarray(f(x))
    if f0.size != 1:
        raise ValueError(f"numerical_grad: f must return a scalar, got shape {f0.shape}; "
                         f"use numerical_jacobian")
    return numerical_jacobian(lambda z: np.asarray(f(z)).reshape(()), x, h, method)


def numerical_hessian(f: Fn, x: np.ndarray, h: float | None = None, method: str = "central") -> np.ndarray:
    """The Hessian of a scalar ``f`` at ``x`` by second differences, shape ``x.shape + x.shape``.

    ``"central"`` uses the four-point formula (error O(h^2)), ``"forward"``/``"backward"``
    one-sided ones (O(h)), and ``"complex"`` a complex step in one direction and a central
    difference in the other.
    """
    _check_method(method)
    x = _as_float(x)
    if h is None:
        h = default_step(method, _real_dtype(x), order=2)
    flat = x.reshape(-1)
    n = flat.size

    def F(z: np.ndarray) -> float:
        return np.asarray(f(z.reshape(x.shape))).reshape(())[()]

    H = np.empty((n, n))
    if method == "complex":
        hr = default_step("central", _real_dtype(x), order=1)
        real_steps = _basis_steps(flat, hr)
        for i in range(n):
            for j in range(n):
                zp = flat.astype(complex)
                zp[i] += 1j * h
                zm = zp.copy()
                zp[j] += real_steps[j]
                zm[j] -= real_steps[j]
                H[i, j] = np.imag(F(zp) - F(zm)) / (2 * h * real_steps[j])
        H = (H + H.T) / 2
        return H.reshape(x.shape + x.shape)
    steps = _basis_steps(flat, h)
    sign = {"central": None, "forward": 1.0, "backward": -1.0}[method]

    def at(*moves: tuple[int, float]) -> float:
        z = flat.copy()
        for i, d in moves:
            z[i] += d
        return F(z)

    for i in range(n):
        for j in range(i, n):
            si, sj = steps[i], steps[j]
            if sign is None:
                val = (at((i, si), (j, sj)) - at((i, si), (j, -sj))
                       - at((i, -si), (j, sj)) + at((i, -si), (j, -sj))) / (4 * si * sj)
            else:
                si, sj = sign * si, sign * sj
                val = (at((i, si), (j, sj)) - at((i, si)) - at((j, sj)) + at()) / (si * sj)
            H[i, j] = H[j, i] = val
    return H.reshape(x.shape + x.shape)
