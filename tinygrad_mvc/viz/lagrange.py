"""Lagrange multipliers as a picture: contours of f, the constraint curve g = 0, and ∇f, ∇g at the
stationary points, where the two arrows are parallel (∇f = λ∇g) — matplotlib, imported on call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..arguments import vector_function

__all__ = ["plot_lagrange", "ARROW_SHARE"]

ARROW_SHARE = 0.16
"""The longest arrow of each kind (∇f, ∇g) is this share of the smaller axis range."""

GRAD_F, GRAD_G = "crimson", "white"
CONSTRAINT_COLORS = ("gold", "deepskyblue", "orange")
ARROW = r"$\rightarrow$"
MARKERS = {"maximum": "^", "minimum": "v", "saddle": "D", "isolated": "s", "degenerate": "X"}


def _points(given: Any) -> tuple[np.ndarray, list[str]]:
    """``(points (k, 2), classifications)`` from a LagrangeResult, a list of them, or an array of points."""
    if given is None:
        return np.zeros((0, 2)), []
    items = [given] if hasattr(given, "x") else list(given) if not isinstance(given, np.ndarray) else None
    if items is not None and all(hasattr(r, "x") for r in items):
        pts = np.array([np.asarray(r.x, dtype=np.float64).reshape(-1) for r in items]).reshape(len(items), -1)
        kinds = [str(getattr(r, "classification", "") or "") for r in items]
    else:
        pts = np.asarray(given, dtype=np.float64)
        if pts.ndim == 1 and pts.size == 2:
            pts = pts.reshape(1, 2)
        kinds = [""] * len(pts)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"plot_lagrange: the points must be LagrangeResults of 2 unknowns or an array of shape "
                         f"(k, 2), got shape {pts.shape}")
    return pts, kinds


def _scale(vectors: np.ndarray, length: float) -> np.ndarray:
    """Vectors on one common scale, the longest ``length`` long; those under 30 % of it lengthened to 30 %
    (a short arrow must still show its direction). Vectors under 1e-8 of the longest (zero up
    to the solver's tolerance) become zero: no arrow."""
    norms = np.hypot(vectors[:, 0], vectors[:, 1])
    top = float(norms.max()) if norms.size else 0.0
    if not top > 0:
        return np.zeros_like(vectors)
    scaled = vectors * (length / top)
    short = (norms > 1e-8 * top) & (norms < 0.3 * top)  # below 1e-8: zero up to the solver's tolerance
    scaled[short] *= (0.3 * top / norms[short])[:, None]
    scaled[norms <= 1e-8 * top] = 0.0
    return scaled


def plot_lagrange(f: Callable[..., Any], g: Callable[..., Any] | Sequence[Callable[..., Any]],
                  points: Any = None, xlim: Sequence[float] | None = None, ylim: Sequence[float] | None = None,
                  levels: int | Sequence[float] = 30, ax: Any = None, labels: Sequence[str] | None = None,
                  title: str | None = None, resolution: int = 200) -> Any:
    """Contours of ``f``, the constraint curve g = 0, and ∇f and ∇g at each stationary point; returns the Figure.

    ``f`` and ``g`` are written ``f(v)`` of one 2-vector or ``f(x, y)``; ``g`` may be a list of
    constraints (one curve each). ``points``: a :class:`~tinygrad_mvc.optimize.LagrangeResult`, a list of
    them (from ``tg.optimize.lagrange_multipliers``), or an array of shape (k, 2). At each point the
    arrows ∇f (red) and ∇g (white, wide) come from the engine; at a constrained stationary point they
    are parallel. Each kind of arrow is on one common scale, its longest :data:`ARROW_SHARE` of the
    smaller axis range (arrows under 30 % of that are lengthened to 30 %, directions exact; a zero
    gradient has none). A result's classification (maximum ▲, minimum ▼, saddle ◆) sets the point's
    marker and its legend entry. ``xlim``/``ylim`` default to the points' extent with a margin (−2..2
    without points); one unit is as long on both axes (∇g must look perpendicular to the curve). The
    legend sits below the axes; ``labels`` name the axes (default: the parameter names of ``f(x, y)``).

    >>> import tinygrad_mvc as tg
    >>> f = lambda x, y: x ** 2 * y
    >>> g = lambda x, y: x ** 2 + y ** 2 - 3
    >>> r = tg.optimize.lagrange_multipliers(lambda v: f(v[0], v[1]), lambda v: g(v[0], v[1]), [1.0, 1.5])
    >>> fig = plot_lagrange(f, g, r, resolution=60)
    >>> sorted(t.get_text() for t in fig.axes[0].get_legend().get_texts())[:2]
    ['constraint g = 0', 'maximum']
    """
    from matplotlib.lines import Line2D

    from ..transforms import grad
    from .descent import _limits, contour_panel, evaluate_grid, finish_axes, labels_for, legend_under, panel_axes

    fv, names = vector_function("plot_lagrange", f, 2)
    constraints = list(g) if isinstance(g, (list, tuple)) else [g]
    if not constraints:
        raise ValueError("plot_lagrange: no constraint given; give g, a function with g = 0 on the curve")
    gs = [vector_function("plot_lagrange", c, 2)[0] for c in constraints]
    pts, kinds = _points(points)
    xlim = _limits(xlim, pts[:, 0] if pts.size else None, "xlim")
    ylim = _limits(ylim, pts[:, 1] if pts.size else None, "ylim")
    fig, ax, equal = panel_axes(ax, xlim, ylim)
    contour_panel(ax, fv, xlim, ylim, levels, False, resolution, cmap="RdBu_r")
    X, Y = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    for i, gi in enumerate(gs):
        color = CONSTRAINT_COLORS[i % len(CONSTRAINT_COLORS)]
        G = evaluate_grid(gi, X, Y)
        ax.contour(X, Y, G, levels=[0.0], colors=color, linewidths=3.0, zorder=2)
        ax.add_line(Line2D([], [], color=color, lw=3.0,
                           label="constraint g = 0" if len(gs) == 1 else f"constraint g{i + 1} = 0"))
    if pts.size:
        length = ARROW_SHARE * min(xlim[1] - xlim[0], ylim[1] - ylim[0])
        with np.errstate(all="ignore"):
            df = np.array([np.asarray(grad(fv)(p), dtype=np.float64).reshape(2) for p in pts])
            dgs = [np.array([np.asarray(grad(gi)(p), dtype=np.float64).reshape(2) for p in pts]) for gi in gs]
        for k, dg in enumerate(dgs):  # wide and pale underneath: where ∇f lies on it, both stay visible
            s = _scale(dg, length)
            ax.quiver(pts[:, 0], pts[:, 1], s[:, 0], s[:, 1], angles="xy", scale_units="xy", scale=1.0,
                      color=GRAD_G, edgecolor="black", linewidth=0.8, width=0.013, zorder=4,
                      label="_nolegend_")
            ax.add_line(Line2D([], [], ls="none", marker=ARROW, ms=16, mfc=GRAD_G, mec="black", mew=0.8,
                               label="∇g" if len(dgs) == 1 else f"∇g{k + 1}"))
        s = _scale(df, length)
        ax.quiver(pts[:, 0], pts[:, 1], s[:, 0], s[:, 1], angles="xy", scale_units="xy", scale=1.0,
                  color=GRAD_F, width=0.006, zorder=5, label="_nolegend_")
        ax.add_line(Line2D([], [], ls="none", marker=ARROW, ms=16, color=GRAD_F, label="∇f"))
        seen: set[str] = set()
        for p, kind in zip(pts, kinds, strict=True):
            name = kind or "stationary point"
            ax.plot(*p, MARKERS.get(kind, "o"), color="black", mfc="gold", ms=10, zorder=6,
                    label=name if name not in seen else "_nolegend_")
            seen.add(name)
    finish_axes(ax, xlim, ylim, equal)
    xlabel, ylabel = labels_for("plot_lagrange", labels, names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "contours of f, the constraint g = 0, and ∇f ∥ ∇g at the stationary points")
    legend_under(ax)
    return fig
