"""The gradient field of a 2-D function: arrows of ∇f (or −∇f) over its filled contours (matplotlib, on call).

The gradient at every grid point comes from the engine in one reverse pass over the whole grid (the
grid stacked into one Tensor, ∇ of the sum of ``f`` over it), so a field of 400 arrows costs about one
evaluation of ``f`` on 400 points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..arguments import vector_function

__all__ = ["plot_gradient_field", "gradient_grid", "draw_field"]

ARROW_COLOR = "white"


def gradient_grid(f: Callable[..., Any], X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(∂f/∂x, ∂f/∂y)`` at every point of the grid ``(X, Y)``, each of ``X``'s shape.

    ``f`` takes one vector (``v[0]``, ``v[1]``). Written elementwise (as ``v[0] ** 2 + v[1]`` is), it is
    differentiated once on the stacked grid: the gradient of Σ f over the grid holds every point's
    gradient, since each term depends on its own point only. Otherwise point by point.

    >>> X, Y = np.meshgrid([0.0, 1.0], [2.0, 3.0])
    >>> gx, gy = gradient_grid(lambda v: v[0] ** 2 * v[1], X, Y)
    >>> gx.tolist(), gy.tolist()
    ([[0.0, 4.0], [0.0, 6.0]], [[0.0, 1.0], [0.0, 1.0]])
    """
    from ..tensor import Tensor
    from ..transforms import grad

    stacked = np.stack([np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)])
    with np.errstate(all="ignore"):
        try:
            from ..engine import no_grad

            with no_grad():
                probe = f(Tensor(stacked))
            if np.shape(getattr(probe, "data", probe)) == np.shape(X):
                G = np.asarray(grad(lambda V: f(V).sum())(stacked), dtype=np.float64)
                return G[0], G[1]
        except (ValueError, TypeError, IndexError):
            pass
        g = grad(f)
        flat = stacked.reshape(2, -1).T
        G = np.array([np.asarray(g(p), dtype=np.float64).reshape(2) for p in flat]).T
        return G[0].reshape(np.shape(X)), G[1].reshape(np.shape(X))


def draw_field(ax: Any, f: Callable[..., Any], xlim: Sequence[float], ylim: Sequence[float], density: int = 15,
               descent: bool = False, color: str = ARROW_COLOR, label: str | None = None) -> Any:
    """Draw the arrows of ∇f (``descent=True``: −∇f) on ``ax`` over ``xlim`` × ``ylim``; returns the Quiver.

    ``f`` takes one vector. ``density`` arrows along the longer side, as many along the other as keep
    them about evenly spaced. Lengths are proportional to |∇f| up to the 90th percentile of |∇f| on the
    grid, which gets 90 % of the spacing; longer arrows are cut to that length, their direction kept (a
    steep wall would otherwise flatten every other arrow to a dot). A legend entry (an arrow marker)
    says which field it is.
    """
    from matplotlib.lines import Line2D

    (x0, x1), (y0, y1) = (float(v) for v in xlim), (float(v) for v in ylim)
    density = int(density)
    if density < 2:
        raise ValueError(f"plot_gradient_field: density must be an int ≥ 2 (arrows along the longer side), "
                         f"got {density!r}")
    wide = (x1 - x0) >= (y1 - y0)
    long_n = density
    short_n = max(2, round(density * ((y1 - y0) / (x1 - x0) if wide else (x1 - x0) / (y1 - y0))))
    nx, ny = (long_n, short_n) if wide else (short_n, long_n)
    # arrows at the centres of nx × ny cells: none sits on the frame, where its head would be cut
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    X, Y = np.meshgrid(xs, ys)
    U, V = gradient_grid(f, X, Y)
    if descent:
        U, V = -U, -V
    # an arrow is (U, V)·c in data units, one c for all (angles="xy" keeps each direction true); its length
    # is measured in cells, as x and y may have different units
    size = np.hypot(U / ((x1 - x0) / nx), V / ((y1 - y0) / ny))
    finite = np.isfinite(size)
    top = float(np.percentile(size[finite], 90)) if finite.any() else 0.0
    factor = np.where(size > top, top / np.where(size > 0, size, 1.0), 1.0) * (0.9 / top if top > 0 else 0.0)
    U, V = np.where(finite, U * factor, np.nan), np.where(finite, V * factor, np.nan)
    q = ax.quiver(X, Y, U, V, angles="xy", scale_units="xy", scale=1.0, pivot="mid", color=color, edgecolor="black",
                  linewidth=0.4, width=0.004, headwidth=4.0, headlength=4.5, alpha=0.9, zorder=1.8)
    # pivot="mid": each arrow is centred on its point and stays inside its cell, none pokes out of the frame;
    # zorder 1.8: over the filled contours (1), under the paths and markers drawn on them (2)
    name = label or ("−∇f (downhill, steepest descent)" if descent else "∇f (uphill, steepest ascent)")
    ax.add_line(Line2D([], [], ls="none", marker=r"$\rightarrow$", ms=14, color="black", label=name))
    q.set_label(f"_{name}")  # the proxy above stands for the arrows in the legend
    return q


def plot_gradient_field(f: Callable[..., Any], xlim: Sequence[float] | None = None,
                        ylim: Sequence[float] | None = None, descent: bool = False, density: int = 15,
                        ax: Any = None, levels: int | Sequence[float] = 30, log: bool | None = None,
                        labels: Sequence[str] | None = None, title: str | None = None, resolution: int = 200) -> Any:
    """Arrows of ∇f (or −∇f with ``descent=True``) over the filled contours of ``f``; returns the Figure.

    ``f`` is written ``f(v)`` of one 2-vector or ``f(x, y)`` of two numbers. ``density`` arrows along the
    longer side, each centred on its point; arrow lengths as described for :func:`draw_field`. ``levels``
    and ``log`` as for :func:`~tinygrad_mvc.viz.plot_descent`. The title and the legend (below the
    axes) say which field is drawn. With ``ax`` holding a picture already (say a
    :func:`~tinygrad_mvc.viz.plot_descent` figure's axes), only the arrows are added, over its limits
    unless ``xlim``/``ylim`` are given, and the legend is redrawn with them; otherwise the limits default
    to −2..2. ``labels`` name the axes
    (default: ``f``'s parameter names when it is written ``f(x, y)``, else x and y).

    >>> fig = plot_gradient_field(lambda x, y: x ** 2 + 3 * y ** 2, descent=True, density=8, resolution=40)
    >>> fig.axes[0].get_title()
    'contours of f and −∇f (downhill)'
    """
    import matplotlib.pyplot as plt

    from .descent import contour_panel, labels_for, legend_under

    g, names = vector_function("plot_gradient_field", f, 2)
    decorate = ax is not None and bool(ax.collections or ax.lines)  # arrows on the picture already there
    given = (xlim, ylim)
    xlim, ylim = ((ax.get_xlim() if decorate else (-2.0, 2.0)) if xlim is None else xlim,
                  (ax.get_ylim() if decorate else (-2.0, 2.0)) if ylim is None else ylim)
    for name, lim, asked in (("xlim", xlim, given[0]), ("ylim", ylim, given[1])):
        if len(lim) != 2 or not float(lim[0]) < float(lim[1]):
            raise ValueError(f"plot_gradient_field: {name} must be (low, high) with low < high, got {asked!r}")
    if decorate:
        draw_field(ax, g, xlim, ylim, density, descent)
        legend_under(ax)
        return ax.figure
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.2, 6.4), layout="constrained")
    else:
        fig = ax.figure
    contour_panel(ax, g, (float(xlim[0]), float(xlim[1])), (float(ylim[0]), float(ylim[1])), levels, log,
                  resolution)
    draw_field(ax, g, xlim, ylim, density, descent)
    xlabel, ylabel = labels_for("plot_gradient_field", labels, names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or ("contours of f and −∇f (downhill)" if descent else "contours of f and ∇f (uphill)"))
    legend_under(ax)
    return fig
