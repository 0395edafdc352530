"""Taylor-approximation figures: a function beside its Taylor polynomials (matplotlib, imported on call)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["plot_taylor"]


def _evaluate(f: Callable[..., Any], xs: np.ndarray) -> np.ndarray:
    """``f`` on an array of points, elementwise if ``f`` accepts arrays, else point by point."""
    from ..engine import no_grad
    from ..tensor import Tensor

    def call(x: Any) -> np.ndarray:
        out = f(Tensor(x))
        return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)

    with no_grad(), np.errstate(all="ignore"):
        try:
            ys = call(xs)
            if ys.shape == xs.shape:
                return ys
        except (ValueError, TypeError, IndexError):
            pass
        return np.array([call(x) for x in xs])


def plot_taylor(f: Callable[..., Any], x0: Any, orders: Sequence[int] = (1, 2, 3), xs: Any = None,
                ax: Any = None, title: str | None = None) -> Any:
    """Plot ``f`` and its Taylor approximations of each order in ``orders`` around ``x0``; returns the Figure.

    Scalar ``x0``: curves over ``xs`` (default ``x0 ± 3``), the y-range set by ``f`` so that
    diverging polynomials do not flatten the picture, the legend right of the axes (a figure of
    several panels wants ``layout="constrained"`` to make room for it). A 2-vector ``x0``: contour panels of ``f`` and
    of each model (orders ≤ 2), over ``xs`` = ``(x_values, y_values)`` (default ``x0 ± 2``).

    >>> import tinygrad_mvc as tg
    >>> fig = tg.viz.plot_taylor(tg.cos, 0.0, orders=(2, 4))
    >>> len(fig.axes[0].lines)            # f and two approximations (and the x0 marker)
    4
    """
    from ..taylor import taylor

    point = np.asarray(x0.data if hasattr(x0, "data") else x0, dtype=np.float64)
    orders = [int(k) for k in orders]
    if not orders:
        raise ValueError("plot_taylor: orders is empty; give at least one order, e.g. orders=(1, 2)")
    if point.ndim == 0:
        return _plot_curves(f, point, orders, xs, ax, title, taylor)
    if point.shape == (2,):
        return _plot_contours(f, point, orders, xs, title, taylor)
    raise ValueError(f"plot_taylor: x0 must be a scalar or a 2-vector to draw, got shape {point.shape}")


def _plot_curves(f: Any, x0: np.ndarray, orders: list[int], xs: Any, ax: Any, title: str | None,
                 taylor: Any) -> Any:
    import matplotlib.pyplot as plt

    xs = np.linspace(float(x0) - 3, float(x0) + 3, 400) if xs is None else np.asarray(xs, dtype=np.float64)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.4, 4.2), layout="constrained")  # constrained: room for the legend
    else:
        fig = ax.figure
    ys = _evaluate(f, xs)
    name = getattr(f, "__name__", "f")
    ax.plot(xs, ys, color="black", lw=2.4, label=f"{name}(x)" if name != "<lambda>" else "f(x)")
    colors = plt.get_cmap("viridis")(np.linspace(0.1, 0.9, len(orders)))
    full = taylor(f, x0, max(orders))  # lower orders are its truncations
    for k, color in zip(orders, colors, strict=True):
        approx = type(full)(f, x0, k, full.coefficients[:k + 1])
        ax.plot(xs, approx(xs), color=color, lw=1.5, ls="--", label=f"order {k}")
    ax.plot([float(x0)], [float(_evaluate(f, x0.reshape(1))[0])], "o", color="crimson", label="x₀")
    finite = ys[np.isfinite(ys)]
    if finite.size:
        lo, hi = finite.min(), finite.max()
        pad = 0.25 * (hi - lo) + 1e-9
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(xs.min(), xs.max())
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or f"Taylor approximations around x₀ = {float(x0):g}")
    ax.grid(alpha=0.3)
    # outside the axes, right of them: the diverging polynomials fill every corner at some order
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return fig


def _plot_contours(f: Any, x0: np.ndarray, orders: list[int], xs: Any, title: str | None, taylor: Any) -> Any:
    import matplotlib.pyplot as plt

    if any(k > 2 for k in orders):
        raise ValueError(f"plot_taylor: orders {orders} at a vector x0: the model stops at order 2")
    if xs is None:
        gx = np.linspace(x0[0] - 2, x0[0] + 2, 121)
        gy = np.linspace(x0[1] - 2, x0[1] + 2, 121)
    else:
        gx, gy = (np.asarray(v, dtype=np.float64) for v in xs)
    X, Y = np.meshgrid(gx, gy)
    points = np.stack([X, Y], axis=-1)
    Z = _evaluate_grid(f, points)
    levels = np.linspace(np.nanmin(Z), np.nanmax(Z), 15)
    fig, axes = plt.subplots(1, 1 + len(orders), figsize=(4.4 * (1 + len(orders)), 4.2), squeeze=False,
                             layout="constrained")
    panels = [("f", Z)] + [(f"order {k} model", taylor(f, x0, k)(points)) for k in orders]
    names = {0: "constant", 1: "linearisation", 2: "quadratic model"}
    for axis, (label, values) in zip(axes[0], panels, strict=True):
        cs = axis.contourf(X, Y, values, levels=levels, cmap="viridis", extend="both")
        axis.contour(X, Y, Z, levels=levels, colors="white", linewidths=0.5, alpha=0.6)
        axis.plot(*x0, "o", color="crimson")
        k = label.split()[1] if label != "f" else None
        axis.set_title("f (white lines: f)" if k is None else f"{names.get(int(k), label)} (order {k})")
        axis.set_xlabel("x")
        axis.set_ylabel("y")
    fig.colorbar(cs, ax=axes[0].tolist(), shrink=0.9, label="value")
    fig.suptitle(title or f"Taylor models around x₀ = ({x0[0]:g}, {x0[1]:g})")
    return fig


def _evaluate_grid(f: Any, points: np.ndarray) -> np.ndarray:
    """``f`` at every point of a grid (points along the last axis), vectorised when ``f`` allows it."""
    from ..engine import no_grad
    from ..tensor import Tensor

    with no_grad(), np.errstate(all="ignore"):
        flat = points.reshape(-1, points.shape[-1])
        return np.array([np.asarray(getattr(v := f(Tensor(p)), "data", v), dtype=np.float64).item()
                         for p in flat]).reshape(points.shape[:-1])
