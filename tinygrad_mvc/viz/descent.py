"""Optimisation paths on the contours of a 2-D function (matplotlib, imported on call)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..arguments import vector_function

__all__ = ["plot_descent", "evaluate_grid", "MAX_ASPECT"]

MAX_ASPECT = 6.0
"""Equal axis scales when one range is at most this many times the other; beyond that, each axis its own scale."""

_COLORS = ("crimson", "darkorange", "royalblue", "seagreen", "purple", "saddlebrown")


def evaluate_grid(f: Callable[..., Any], X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``f`` at every point of the grid ``(X, Y)``; one call on the stacked grid when ``f`` allows it.

    ``f`` takes a Tensor of shape (2,) (``v[0]``, ``v[1]``). Written elementwise, it also accepts
    shape (2, *grid) and is evaluated in one go; otherwise point by point.

    >>> X, Y = np.meshgrid([0.0, 1.0], [0.0, 2.0])
    >>> evaluate_grid(lambda v: v[0] + 10 * v[1], X, Y)
    array([[ 0.,  1.],
           [20., 21.]])
    """
    from ..engine import no_grad
    from ..tensor import Tensor

    def call(v: np.ndarray) -> np.ndarray:
        out = f(Tensor(v))
        return np.asarray(getattr(out, "data", out), dtype=np.float64)

    with no_grad(), np.errstate(all="ignore"):
        try:
            Z = call(np.stack([X, Y]))
            if Z.shape == X.shape:
                return Z
        except (ValueError, TypeError, IndexError):
            pass
        flat = np.stack([X.ravel(), Y.ravel()], axis=1)
        return np.array([call(p).item() for p in flat]).reshape(X.shape)


def _as_path(p: Any) -> np.ndarray:
    path = np.asarray(getattr(p, "history", p), dtype=np.float64)
    if path.ndim != 2 or path.shape[1] != 2:
        raise ValueError(f"plot_descent: a path must be a result with .history or an array of shape (k, 2), "
                         f"got shape {path.shape}")
    return path


def plot_descent(f: Callable[..., Any], paths: Any = None, xlim: Sequence[float] | None = None,
                 ylim: Sequence[float] | None = None, levels: int | Sequence[float] = 30, log: bool | None = None,
                 ax: Any = None, title: str | None = None, resolution: int = 200,
                 labels: Sequence[str] | None = None, field: bool = False) -> Any:
    """Contours of a 2-D function ``f`` with optimisation paths drawn on them; returns the Figure.

    ``f`` is written ``f(v)`` of one 2-vector or ``f(x, y)`` of two numbers (as the course writes
    ``f(mu, sigma)``). ``paths``: one path or a mapping ``{label: path}``, each path an
    :class:`~tinygrad_mvc.optimize.OptimizeResult` (its ``history``) or an array of shape (k, 2). The
    start of each path is a circle, its end a star. ``xlim``/``ylim`` default to the paths' extent with
    a margin; one unit has the same length on both axes (so an elongated bowl looks elongated) unless
    one range is over :data:`MAX_ASPECT` times the other; the legend sits below the axes. ``log``
    spaces the contour levels logarithmically (the default when the values span more than three
    decades, as Rosenbrock's do). ``labels`` name the axes, e.g. ``("μ", "σ")``; by default ``f``'s
    parameter names when it is written ``f(x, y)`` (Greek names as letters: ``mu`` is drawn μ), else
    x and y. ``field=True`` adds the arrows of −∇f, the direction a descent step takes
    (see :func:`~tinygrad_mvc.viz.plot_gradient_field`).

    >>> import tinygrad_mvc as tg
    >>> bowl = lambda v: v[0] ** 2 + 4 * v[1] ** 2
    >>> r = tg.optimize.gradient_descent(bowl, [2.0, 1.0], lr=0.1)
    >>> fig = plot_descent(bowl, {"gradient descent": r})
    >>> [line.get_label() for line in fig.axes[0].lines][:1]
    ['gradient descent']
    >>> fig = plot_descent(lambda mu, sigma: (mu - 1) ** 2 + sigma ** 2, r, resolution=20)
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('μ', 'σ')
    """
    g, names = vector_function("plot_descent", f, 2)
    xlabel, ylabel = labels_for("plot_descent", labels, names)
    if paths is None:
        named: dict[str, np.ndarray] = {}
    elif isinstance(paths, Mapping):
        named = {str(k): _as_path(v) for k, v in paths.items()}
    else:
        named = {"path": _as_path(paths)}
    points = np.concatenate(list(named.values())) if named else np.zeros((0, 2))
    finite = points[np.all(np.isfinite(points), axis=1)]
    xlim = _limits(xlim, finite[:, 0] if finite.size else None, "xlim")
    ylim = _limits(ylim, finite[:, 1] if finite.size else None, "ylim")
    fig, ax, equal = panel_axes(ax, xlim, ylim)
    contour_panel(ax, g, xlim, ylim, levels, log, resolution)
    if field:
        from .field import draw_field

        draw_field(ax, g, xlim, ylim, descent=True)
    for (label, path), color in zip(named.items(), _cycle(len(named)), strict=True):
        ax.plot(path[:, 0], path[:, 1], ".-", color=color, lw=1.4, ms=4, label=label)
        ax.plot(*path[0], "o", color=color, ms=8, mec="black")
        ax.plot(*path[-1], "*", color=color, ms=14, mec="black")
    finish_axes(ax, xlim, ylim, equal)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "contours of f and the optimisation paths")
    legend_under(ax)
    return fig


GREEK = {name: chr(code) for name, code in (
    ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4), ("epsilon", 0x3B5), ("zeta", 0x3B6),
    ("eta", 0x3B7), ("theta", 0x3B8), ("kappa", 0x3BA), ("lambda_", 0x3BB), ("lam", 0x3BB), ("mu", 0x3BC),
    ("nu", 0x3BD), ("xi", 0x3BE), ("rho", 0x3C1), ("sigma", 0x3C3), ("tau", 0x3C4), ("phi", 0x3C6),
    ("chi", 0x3C7), ("psi", 0x3C8), ("omega", 0x3C9))}
"""Parameter names drawn as their Greek letter on an axis (``mu`` → μ); ``lambda`` is a Python keyword."""


def labels_for(name: str, labels: Sequence[str] | None, names: Sequence[str] | None) -> tuple[str, str]:
    """The two axis labels: ``labels`` as given, else the parameter names (Greek ones as letters), else x, y.

    >>> labels_for("plot", None, ("mu", "sigma")), labels_for("plot", None, None)
    (('μ', 'σ'), ('x', 'y'))
    """
    if labels is not None:
        if isinstance(labels, str) or len(labels) != 2:
            raise ValueError(f"{name}: labels must be two axis labels such as ('μ', 'σ'), got {labels!r}")
        return str(labels[0]), str(labels[1])
    if names is not None and len(names) == 2:
        return GREEK.get(names[0], names[0]), GREEK.get(names[1], names[1])
    return "x", "y"


def panel_axes(ax: Any, xlim: tuple[float, float], ylim: tuple[float, float]) -> tuple[Any, Any, bool]:
    """``(figure, axes, equal)``: ``ax`` or new axes sized for the ranges; ``equal`` when one unit should be
    as long on both axes (the shape of the level sets is the point) — unless that would make a sliver."""
    import matplotlib.pyplot as plt

    spans = (xlim[1] - xlim[0], ylim[1] - ylim[0])
    equal = max(spans) <= MAX_ASPECT * min(spans)
    if ax is not None:
        return ax.figure, ax, equal
    ratio = spans[1] / spans[0] if equal else 0.8
    width = 7.2
    fig, ax = plt.subplots(figsize=(width, min(max(0.78 * width * ratio + 1.9, 3.6), 9.0)), layout="constrained")
    return fig, ax, equal


def finish_axes(ax: Any, xlim: tuple[float, float], ylim: tuple[float, float], equal: bool) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if equal:
        ax.set_aspect("equal", adjustable="box")


def contour_panel(ax: Any, f: Callable[..., Any], xlim: tuple[float, float], ylim: tuple[float, float],
                  levels: int | Sequence[float] = 30, log: bool | None = None, resolution: int = 200,
                  cmap: str = "viridis", label: str = "f") -> Any:
    """Filled contours of ``f`` (one vector argument) over ``xlim`` × ``ylim`` with thin level lines and a
    colourbar right of the axes (labelled ``label``); returns the filled ContourSet. Levels at round values, or
    logarithmic (``log``; the default when the values span more than three decades)."""
    X, Y = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    Z = evaluate_grid(f, X, Y)
    fig = ax.figure
    zf = Z[np.isfinite(Z)]
    lo, hi = (float(zf.min()), float(zf.max())) if zf.size else (0.0, 1.0)
    if log is None:
        log = lo >= 0 and hi > 1e3 * max(lo, 1e-12) and hi - lo > 0
    if isinstance(levels, int):
        if log:
            floor = max(lo, 1e-6 * hi)
            levels = np.geomspace(floor, hi, levels)
        else:  # round values (0, 2.5, 5, ...): the colourbar ticks then read as numbers, not 56.88
            levels = _nice_levels(lo, hi, levels)
    cs = ax.contourf(X, Y, np.maximum(Z, levels[0]) if log else Z, levels=levels, cmap=cmap, alpha=0.85,
                     norm=_log_norm(levels) if log else None)
    ax.contour(X, Y, Z, levels=levels, colors="white", linewidths=0.4, alpha=0.5)
    if log:  # ticks at the powers of ten: matplotlib's log ticks on contour levels are unreadable
        powers = 10.0 ** np.arange(np.ceil(np.log10(levels[0])), np.floor(np.log10(levels[-1])) + 1)
        fig.colorbar(cs, cax=_bar_axes(ax), label=f"{label} (log scale)", ticks=powers, format="%.0e")
    else:
        from matplotlib.ticker import MaxNLocator

        fig.colorbar(cs, cax=_bar_axes(ax), label=label, ticks=MaxNLocator(nbins=6))
    return cs


def legend_under(ax: Any) -> Any:
    """The legend of every labelled artist of ``ax``, below the axes (on a contour map every corner is data);
    one column when a label is long. None when nothing is labelled."""
    from .fd_error import legend_below

    handles, texts = ax.get_legend_handles_labels()
    if not texts:
        return None
    long = max(len(k) for k in texts) > 28
    return legend_below(ax, ncols=1 if long else min(len(texts), 3), drop=40, fontsize="small")


def _bar_axes(ax: Any) -> Any:
    """Axes for the colourbar, right of ``ax`` and as tall (an equal-aspect box is often shorter than its cell)."""
    return ax.inset_axes((1.04, 0.0, 0.04, 1.0))


def _nice_levels(lo: float, hi: float, n: int) -> np.ndarray:
    """About ``n`` contour levels at round values covering ``[lo, hi]``."""
    from matplotlib.ticker import MaxNLocator

    if not hi > lo:
        return np.linspace(lo, lo + 1.0, max(n, 2))
    return MaxNLocator(nbins=max(n - 1, 1), steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)  # covers [lo, hi]


def _cycle(n: int) -> list[str]:
    return [_COLORS[i % len(_COLORS)] for i in range(n)]


def _log_norm(levels: Any) -> Any:
    from matplotlib.colors import LogNorm

    return LogNorm(vmin=levels[0], vmax=levels[-1])


def _limits(given: Sequence[float] | None, values: np.ndarray | None, name: str) -> tuple[float, float]:
    if given is not None:
        lo, hi = (float(v) for v in given)
        if not lo < hi:
            raise ValueError(f"plot_descent: {name} must be (low, high) with low < high, got {given!r}")
        return lo, hi
    if values is None or values.size == 0:
        return -2.0, 2.0
    lo, hi = float(values.min()), float(values.max())
    pad = 0.15 * (hi - lo) + 0.5
    return lo - pad, hi + pad
