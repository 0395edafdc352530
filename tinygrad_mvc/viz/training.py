"""Training figures: loss and metric curves, the decision boundary of a classifier, and a network's output curve
against its target at several moments of training (matplotlib on call)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["plot_history", "plot_decision_boundary", "plot_network_fit"]


def plot_history(history: Mapping[str, Sequence[float]] | Sequence[float], title: str | None = None,
                 log: bool | None = None) -> Any:
    """Plot training curves, one panel per series; returns the Figure.

    ``history`` is a sequence of losses or a dict such as ``{"loss": [...], "accuracy": [...]}``
    (one value per step). ``log=None`` puts a series on a log scale when its name contains
    "loss" and it is positive throughout, where the late, small improvements would otherwise be flat.

    >>> fig = plot_history({"loss": [1.0, 0.5, 0.25], "accuracy": [0.5, 0.75, 1.0]})
    >>> [ax.get_yscale() for ax in fig.axes]
    ['log', 'linear']
    """
    import matplotlib.pyplot as plt

    series = dict(history) if isinstance(history, Mapping) else {"loss": history}
    if not series:
        raise ValueError("plot_history: history is empty; give a list of losses or a dict of series")
    values = {}
    for name, seq in series.items():
        arr = np.asarray(seq, dtype=np.float64).ravel()
        if arr.size == 0:
            raise ValueError(f"plot_history: series {name!r} has no values")
        values[name] = arr
    fig, axes = plt.subplots(1, len(values), figsize=(4.8 * len(values), 3.6), squeeze=False)
    for ax, (name, arr) in zip(axes[0], values.items()):
        steps = np.arange(1, arr.size + 1)
        ax.plot(steps, arr, color="C0" if "loss" in name else "C2", lw=1.5)
        use_log = ("loss" in name and bool(np.all(arr[np.isfinite(arr)] > 0))) if log is None else log
        if use_log:
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.set_title(f"{name}: {arr[-1]:.4g} at step {arr.size}")
        ax.grid(True, which="both", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _scores(model: Callable[[Any], Any], points: np.ndarray, batch: int = 65536) -> np.ndarray:
    """The model's outputs on ``points`` under ``no_grad``, in batches, as a float array."""
    from ..engine import no_grad
    from ..tensor import Tensor

    parts = []
    with no_grad():
        for start in range(0, len(points), batch):
            out = model(Tensor(points[start:start + batch]))
            parts.append(np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64))
    return np.concatenate(parts)


def plot_decision_boundary(model: Callable[[Any], Any], X: Any, y: Any, resolution: int = 200,
                           padding: float = 0.5, threshold: float = 0.0, ax: Any = None,
                           title: str | None = None) -> Any:
    """The regions a 2-D classifier assigns to each class, with the data on top; returns the Figure.

    ``model`` maps ``(m, 2)`` points to scores: one per point (shape ``(m,)`` or ``(m, 1)``; class 1
    where the score exceeds ``threshold``, drawn with the score's contours) or one per class (shape
    ``(m, C)``; the class of the largest). ``X`` is ``(n, 2)`` and ``y`` its ``n`` labels.

    >>> import tinygrad_mvc as tg
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]]); y = np.array([0, 1])
    >>> fig = plot_decision_boundary(lambda p: p.sum(axis=1) - 1.0, X, y, resolution=20)
    >>> fig.axes[0].get_xlabel()
    'x₁'
    """
    import matplotlib.pyplot as plt

    X = np.asarray(X.data if hasattr(X, "data") else X, dtype=np.float64)
    y = np.asarray(y.data if hasattr(y, "data") else y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"plot_decision_boundary: X has {X.shape[0]} points but y has {y.shape[0]} labels")
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    scores = _scores(model, np.column_stack([gx.ravel(), gy.ravel()]))
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5))
    else:
        fig = ax.figure
    if scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1):
        s = scores.reshape(gx.shape)
        bound = max(float(np.percentile(np.abs(s - threshold), 98)), 1e-12)
        mesh = ax.contourf(gx, gy, s, levels=np.linspace(threshold - bound, threshold + bound, 21),
                           cmap="RdBu_r", alpha=0.55, extend="both")
        ax.contour(gx, gy, s, levels=[threshold], colors="k", linewidths=1.5)
        fig.colorbar(mesh, ax=ax, label="score", ticks=np.linspace(threshold - bound, threshold + bound, 5),
                     format="%.2g")
    elif scores.ndim == 2:
        labels = scores.argmax(axis=1).reshape(gx.shape)
        ax.contourf(gx, gy, labels, levels=np.arange(scores.shape[1] + 1) - 0.5, cmap="tab10", alpha=0.35,
                    vmin=0, vmax=9)
    else:
        raise ValueError(f"plot_decision_boundary: the model returned shape {scores.shape} for "
                         f"{len(gx.ravel())} points; expected (m,), (m, 1) or (m, classes)")
    markers = "os^vD<>"
    for i, c in enumerate(np.unique(y)):
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=22, marker=markers[i % len(markers)], edgecolors="k", linewidths=0.5,
                   label=f"class {c:g}" if np.issubdtype(type(c), np.number) else f"class {c}")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "decision boundary")
    fig.tight_layout()
    return fig


DISCRETE_STEPS = 12
"""Up to this many snapshots, each gets its own evenly spaced colour and a labelled band of the colourbar."""


def _as_values(name: str, what: str, values: Any, n: int) -> np.ndarray:
    """``values`` as a 1-D float array of ``n`` entries ((n,), (n, 1) or (1, n); a Tensor or array-like)."""
    arr = np.asarray(getattr(values, "data", values), dtype=np.float64)
    if arr.size != n or (arr.ndim == 2 and 1 not in arr.shape) or arr.ndim > 2:
        raise ValueError(f"{name}: {what} has shape {arr.shape} but x has {n} points; give one output per point, "
                         f"shape ({n},) or ({n}, 1)")
    return arr.reshape(n)


def _as_points(name: str, what: str, values: Any, n: int) -> np.ndarray:
    """``values`` as ``n`` points of the plane, shape (n, 2) (a Tensor or array-like)."""
    arr = np.asarray(getattr(values, "data", values), dtype=np.float64)
    if arr.shape != (n, 2):
        raise ValueError(f"{name}: {what} has shape {arr.shape}; with a target of {n} points in the plane (shape "
                         f"({n}, 2)) each output must be ({n}, 2) too")
    return arr


def plot_network_fit(x: Any, target: Any, snapshots: Mapping[int, Any] | Sequence[tuple[int, Any]],
                     ax: Any = None, cmap: str = "viridis", xlabel: str = "x", ylabel: str = "y",
                     title: str | None = None) -> Any:
    """A network's output curve against its target at several moments of training; returns the Figure.

    The picture of the course's backpropagation assignment, a network fitting a 1-D curve: ``x`` the
    inputs (``(n,)`` or ``(n, 1)``), ``target`` the values to fit (black), ``snapshots`` the network's
    outputs on ``x`` at chosen steps, a mapping ``{step: outputs}`` or a list of ``(step, outputs)``
    (each Tensor or array of ``n`` values). Each snapshot is a line coloured along the sequential
    ``cmap`` from the first step (dark) to the last (bright; its pale end is left out so it stays visible
    on white). Up to :data:`DISCRETE_STEPS` snapshots get evenly spaced colours and the colourbar right
    of the axes one labelled band each (steps 0, 50 and 150 stay apart beside 2000); more snapshots
    are coloured in proportion to their step. The final snapshot is drawn thicker and named in the
    legend, below the axes. Points are joined in the order of ``x``.

    Two outputs, as the assignment has (a target of shape ``(n, 2)``): each output is a point of the
    plane and the network draws a parametric curve (a₁(x), a₂(x)); the curves are drawn in the plane
    against the target curve, with one unit as long on both axes (``xlabel``, ``ylabel`` then name the
    two outputs).

    >>> import tinygrad_mvc as tg
    >>> xs = np.linspace(-1, 1, 5)
    >>> fig = plot_network_fit(xs, xs ** 2, {0: np.zeros(5), 100: xs ** 2 - 0.1})
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['target', '_step 0', 'output at step 100']
    >>> circle = np.stack([np.cos(np.pi * xs), np.sin(np.pi * xs)], axis=1)
    >>> fig = plot_network_fit(xs, circle, {0: circle * 0.5, 10: circle}, xlabel="a₁", ylabel="a₂")
    >>> fig.axes[0].get_aspect(), fig.axes[0].lines[0].get_xydata().shape
    (1.0, (5, 2))
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize
    from matplotlib.ticker import MaxNLocator

    name = "plot_network_fit"
    xs = np.asarray(getattr(x, "data", x), dtype=np.float64)
    if xs.ndim == 2 and xs.shape[1] == 1:
        xs = xs[:, 0]
    if xs.ndim != 1 or xs.size == 0:
        raise ValueError(f"{name}: x must be 1-D inputs of shape (n,) or (n, 1), got shape {xs.shape}")
    n = xs.size
    planar = np.shape(getattr(target, "data", target)) == (n, 2)  # two outputs: a curve in the plane
    read = _as_points if planar else _as_values
    ys = read(name, "target", target, n)
    items = list(snapshots.items()) if isinstance(snapshots, Mapping) else list(snapshots)
    if not items:
        raise ValueError(f"{name}: no snapshots; give {{step: outputs}} for at least one step of training")
    try:
        steps = [int(step) for step, _ in items]
    except (TypeError, ValueError):
        raise ValueError(f"{name}: snapshots must be {{step: outputs}} or a list of (step, outputs) with integer "
                         f"steps") from None
    outputs = [read(name, f"the output at step {s}", out, n) for s, (_, out) in zip(steps, items, strict=True)]
    order = np.argsort(xs, kind="stable")

    def xy(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # what one curve draws, in the order of x
        return (values[order, 0], values[order, 1]) if planar else (xs[order], values[order])

    ranked = sorted(zip(steps, outputs, strict=True), key=lambda pair: pair[0])
    lo, hi = ranked[0][0], ranked[-1][0]
    k = len(ranked)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.6, 6.2) if planar else (7.4, 4.8), layout="constrained")
    else:
        fig = ax.figure
    ax.plot(*xy(ys), color="black", lw=3.0, label="target", zorder=3)
    if k <= DISCRETE_STEPS:  # one colour per snapshot, evenly spaced: steps 0, 50, 150 stay apart even beside 2000
        palette = plt.get_cmap(cmap)(np.linspace(0.0, 0.85, k))
        colours = [palette[i] for i in range(k)]
        mappable = plt.cm.ScalarMappable(norm=BoundaryNorm(np.arange(k + 1) - 0.5, k),
                                         cmap=ListedColormap(palette))
    else:  # many snapshots: the colour is proportional to the step
        shades = ListedColormap(plt.get_cmap(cmap)(np.linspace(0.0, 0.85, 256)))
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
        colours = [shades(norm(step)) for step, _ in ranked]
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=shades)
    for i, ((step, out), colour) in enumerate(zip(ranked, colours, strict=True)):
        last = i == k - 1
        ax.plot(*xy(out), color=colour, lw=2.2 if last else 1.4, alpha=0.95,
                label=f"output at step {step}" if last else f"_step {step}", zorder=4 if last else 2)
    # in the plane (equal scales) the axes are shorter than their cell: a bar of the axes' own height beside them
    bar = (fig.colorbar(mappable, cax=ax.inset_axes((1.04, 0.0, 0.04, 1.0)), label="training step") if planar
           else fig.colorbar(mappable, ax=ax, label="training step", pad=0.02))
    if k <= DISCRETE_STEPS:
        bar.set_ticks(np.arange(k), labels=[str(step) for step, _ in ranked])
        bar.ax.tick_params(length=0)
        bar.minorticks_off()
    else:
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
    if planar:  # the plane: both axes fit every curve, one unit as long on both
        points = np.concatenate([ys, *outputs])
        points = points[np.all(np.isfinite(points), axis=1)]
        if points.size:
            lo_xy, hi_xy = points.min(axis=0), points.max(axis=0)
            pad = 0.06 * float((hi_xy - lo_xy).max()) + 1e-9
            ax.set_xlim(lo_xy[0] - pad, hi_xy[0] + pad)
            ax.set_ylim(lo_xy[1] - pad, hi_xy[1] + pad)
        ax.set_aspect("equal")
    else:
        values = np.concatenate([ys, *outputs])
        finite = values[np.isfinite(values)]
        if finite.size:
            pad = 0.06 * (finite.max() - finite.min()) + 1e-9
            ax.set_ylim(finite.min() - pad, finite.max() + pad)
        ax.set_xlim(xs.min(), xs.max())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"the network's output during training (steps {lo} to {hi})")
    ax.grid(alpha=0.3)
    from .fd_error import legend_below

    legend_below(ax, ncols=2, drop=40, fontsize="small")
    return fig
