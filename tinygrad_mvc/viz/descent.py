"""Optimisation paths on the contours of a 2-D function (matplotlib, imported on call)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["plot_descent", "evaluate_grid"]

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
                 ax: Any = None, title: str | None = None, resolution: int = 200) -> Any:
    """Contours of a 2-D function ``f`` with optimisation paths drawn on them; returns the Figure.

    ``paths``: one path or a mapping ``{label: path}``, each path an :class:`~tinygrad_mvc.optimize.OptimizeResult`
    (its ``history``) or an array of shape (k, 2). The start of each path is a circle, its end a star.
    ``xlim``/``ylim`` default to the paths' extent with a margin. ``log`` spaces the contour levels
    logarithmically (the default when the values span more than three decades, as Rosenbrock's do).

    >>> import tinygrad_mvc as tg
    >>> bowl = lambda v: v[0] ** 2 + 4 * v[1] ** 2
    >>> r = tg.optimize.gradient_descent(bowl, [2.0, 1.0], lr=0.1)
    >>> fig = plot_descent(bowl, {"gradient descent": r})
    >>> [line.get_label() for line in fig.axes[0].lines][:1]
    ['gradient descent']
    """
    import matplotlib.pyplot as plt

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
    X, Y = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    Z = evaluate_grid(f, X, Y)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 5.2))
    else:
        fig = ax.figure
    zf = Z[np.isfinite(Z)]
    lo, hi = (float(zf.min()), float(zf.max())) if zf.size else (0.0, 1.0)
    if log is None:
        log = lo >= 0 and hi > 1e3 * max(lo, 1e-12) and hi - lo > 0
    if isinstance(levels, int):
        if log:
            floor = max(lo, 1e-6 * hi)
            levels = np.geomspace(floor, hi, levels)
        else:
            levels = np.linspace(lo, hi, levels)
    cs = ax.contourf(X, Y, np.maximum(Z, levels[0]) if log else Z, levels=levels, cmap="viridis", alpha=0.85,
                     norm=_log_norm(levels) if log else None)
    ax.contour(X, Y, Z, levels=levels, colors="white", linewidths=0.4, alpha=0.5)
    if log:  # ticks at the powers of ten: matplotlib's log ticks on contour levels are unreadable
        powers = 10.0 ** np.arange(np.ceil(np.log10(levels[0])), np.floor(np.log10(levels[-1])) + 1)
        fig.colorbar(cs, ax=ax, label="f (log scale)", ticks=powers, format="%.0e")
    else:
        fig.colorbar(cs, ax=ax, label="f")
    for (label, path), color in zip(named.items(), _cycle(len(named)), strict=True):
        ax.plot(path[:, 0], path[:, 1], ".-", color=color, lw=1.4, ms=4, label=label)
        ax.plot(*path[0], "o", color=color, ms=8, mec="black")
        ax.plot(*path[-1], "*", color=color, ms=14, mec="black")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or "contours of f and the optimisation paths")
    if named:
        ax.legend(loc="best", fontsize="small")
    return fig


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
