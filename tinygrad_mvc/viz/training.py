"""Training figures: loss and metric curves, and the decision boundary of a classifier (matplotlib on call)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["plot_history", "plot_decision_boundary"]


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
