"""A function of two variables as a 3-D surface beside its Taylor models at a point: the tangent plane
(order 1) and the quadratic model (order 2), from the engine's gradient and Hessian (matplotlib, on call)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..arguments import vector_function

__all__ = ["plot_taylor_surface", "MODEL_COLORS"]

MODEL_COLORS = {1: "darkorange", 2: "crimson"}
"""The colour of each Taylor model's wireframe, by order."""
MODEL_NAMES = {1: "order 1: tangent plane", 2: "order 2: quadratic model"}


def plot_taylor_surface(f: Callable[..., Any], x0: Any, orders: Sequence[int] = (1, 2), radius: float = 1.0,
                        panels: bool = True, resolution: int = 31, labels: Sequence[str] | None = None,
                        title: str | None = None, ax: Any = None) -> Any:
    """The surface z = f(x, y) near ``x0`` with its Taylor models of the given ``orders``; returns the Figure.

    ``f`` is written ``f(v)`` of one 2-vector or ``f(x, y)``; ``x0`` is the point (2 numbers). The grid is
    ``x0 ± radius`` in both directions (``resolution`` points a side). ``f`` is a coloured surface, each
    model a wireframe (order 1 orange, order 2 red; :data:`MODEL_COLORS`), the point a black dot at
    f(x₀); a legend names them. The models are f(x₀) + ∇f(x₀)·d and that + ½ dᵀH(x₀)d with
    d = (x, y) − x₀, their coefficients from :func:`tinygrad_mvc.taylor` (the engine's gradient and
    Hessian). ``panels=True`` (the default) draws one panel per order, each beside f, so the wireframes
    do not hide each other; ``panels=False`` (or ``ax``, a 3-D axes) draws all in one. ``labels`` name
    the axes (default: ``f``'s parameter names when written ``f(x, y)``, else x and y).

    >>> import tinygrad_mvc as tg
    >>> fig = plot_taylor_surface(lambda x, y: tg.sin(x) * tg.cos(y), (0.5, 0.3), resolution=9)
    >>> [a.get_title() for a in fig.axes]
    ['order 1: tangent plane', 'order 2: quadratic model']
    >>> len(plot_taylor_surface(lambda v: (v ** 2).sum(), [1.0, 0.0], panels=False, resolution=9).axes)
    1
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    from ..taylor import taylor
    from .descent import evaluate_grid, labels_for

    name = "plot_taylor_surface"
    point = np.asarray(getattr(x0, "data", x0), dtype=np.float64).reshape(-1)
    if point.shape != (2,) or not np.all(np.isfinite(point)):
        raise ValueError(f"{name}: x0 must be a point of 2 finite numbers (x, y), got {x0!r}")
    orders = [int(k) for k in orders]
    if not orders or any(k not in (1, 2) for k in orders):
        raise ValueError(f"{name}: orders must be taken from (1, 2) (a surface has models up to order 2), "
                         f"got {orders}")
    if not (isinstance(radius, (int, float, np.floating)) and radius > 0):
        raise ValueError(f"{name}: radius must be a positive number, got {radius!r}")
    g, names = vector_function(name, f, 2)
    xlabel, ylabel = labels_for(name, labels, names)
    full = taylor(g, point, max(orders))
    n = int(resolution)
    X, Y = np.meshgrid(np.linspace(point[0] - radius, point[0] + radius, n),
                       np.linspace(point[1] - radius, point[1] + radius, n))
    Z = evaluate_grid(g, X, Y)
    grid = np.stack([X, Y], axis=-1)
    models = {k: type(full)(g, point, k, full.coefficients[:k + 1])(grid) for k in orders}
    f0 = float(full.coefficients[0])
    groups = [[k] for k in orders] if panels and ax is None else [orders]
    if ax is None:
        fig = plt.figure(figsize=(5.6 * len(groups) + (0.8 if len(groups) == 1 else 0.0), 5.2),
                         layout="constrained")
        # computed_zorder=False: artists stack in the order of their zorder, so the point stays on top of f
        axes = [fig.add_subplot(1, len(groups), i + 1, projection="3d", computed_zorder=False)
                for i in range(len(groups))]
    else:
        if not hasattr(ax, "plot_surface"):
            raise ValueError(f"{name}: ax must be a 3-D axes (projection='3d'), got {type(ax).__name__}")
        fig, axes = ax.figure, [ax]
    values = [Z, *models.values()]
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    zlo, zhi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    zpad = 0.05 * (zhi - zlo) + 1e-9
    wires = min(n, 9)  # nine wires a side at most: a finer mesh seen edge-on turns into a solid
    for axis, group in zip(axes, groups, strict=True):
        axis.plot_surface(X, Y, Z, cmap="viridis", alpha=0.7, linewidth=0, antialiased=True, zorder=1)
        for k in group:
            axis.plot_wireframe(X, Y, models[k], color=MODEL_COLORS[k], linewidth=1.1, rcount=wires,
                                ccount=wires, zorder=2)
        axis.plot([point[0]] * 2, [point[1]] * 2, [zlo - zpad, f0], color="black", lw=1.0, ls=":", zorder=4)
        axis.scatter([point[0]], [point[1]], [f0], color="black", edgecolor="white", s=50, depthshade=False,
                     zorder=5)
        axis.set_zlim(zlo - zpad, zhi + zpad)
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        axis.set_zlabel(f"f({xlabel}, {ylabel})")
        if len(groups) > 1:
            axis.set_title(MODEL_NAMES[group[0]])
        for which in (axis.xaxis, axis.yaxis, axis.zaxis):  # a few ticks: 3-D axes crowd their tick labels
            which.set_major_locator(MaxNLocator(nbins=5))
        axis.set_box_aspect(None, zoom=0.9)  # room for the z label: 3-D axes cut it off at the default zoom
        axis.view_init(elev=24, azim=-58)
    handles = [Patch(facecolor=plt.get_cmap("viridis")(0.6), alpha=0.7, label="f")]
    handles += [Line2D([], [], color=MODEL_COLORS[k], lw=1.6, label=MODEL_NAMES[k]) for k in orders]
    handles += [Line2D([], [], ls="none", marker="o", color="black",
                       label=f"x₀ = ({point[0]:g}, {point[1]:g}), f(x₀) = {f0:.4g}")]
    fig.legend(handles=handles, loc="outside lower center",
               ncols=len(handles) if len(groups) > 1 else 2, fontsize="small", frameon=False)
    if ax is None:
        fig.suptitle(title or f"f near x₀ = ({point[0]:g}, {point[1]:g}) and its Taylor models")
    else:
        ax.set_title(title or f"f near x₀ = ({point[0]:g}, {point[1]:g}) and its Taylor models")
    return fig
