"""A histogram with a fitted curve, as the course draws its heights: bars, the curve, and the gap between
each bar's top and the curve coloured by whether the curve overshoots or undershoots it (matplotlib, on call)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..arguments import spread_model

__all__ = ["plot_histogram_fit", "OVERSHOOT", "UNDERSHOOT"]

OVERSHOOT = "tab:red"
"""The colour of the gap where the curve lies above the bar."""
UNDERSHOOT = "tab:blue"
"""The colour of the gap where the curve lies below the bar."""


def _edges(name: str, bins: Any, n: int, width: float | None) -> np.ndarray:
    """The ``n + 1`` bin edges from ``n + 1`` edges, or from ``n`` left edges (with ``width``, else their spacing)."""
    b = np.asarray(getattr(bins, "data", bins), dtype=np.float64).reshape(-1)
    if b.size == n + 1 and width is None:
        edges = b
    elif b.size == n:
        if width is None:
            if n < 2:
                raise ValueError(f"{name}: one bin start and no width; give width=, or the {n + 1} bin edges")
            steps = np.diff(b)
            if not np.allclose(steps, steps[0], rtol=1e-6):
                raise ValueError(f"{name}: the bin starts are unevenly spaced ({steps.min():g} to {steps.max():g}); "
                                 f"give the {n + 1} bin edges instead, or width=")
            width = float(steps[0])
        edges = np.append(b, b[-1] + float(width))
    else:
        raise ValueError(f"{name}: {b.size} bins for {n} frequencies; give {n} bin starts (the left edges) or "
                         f"{n + 1} bin edges")
    if not np.all(np.isfinite(edges)) or not np.all(np.diff(edges) > 0):
        raise ValueError(f"{name}: the bin edges must be finite and increasing, got {edges}")
    return edges


def _curve(name: str, model: Any, params: Any) -> tuple[Callable[[np.ndarray], np.ndarray] | None, str]:
    """``(curve(x) → array, its label)`` from a FitResult, ``model(x, params)``, ``model(x, a, b, ...)`` with
    ``params``, or a curve ``f(x)`` without; None without a model."""
    from ..engine import no_grad
    from ..tensor import Tensor

    def values(out: Any, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(getattr(out, "data", out), dtype=np.float64), x.shape)

    if model is None:
        if params is not None:
            raise ValueError(f"{name}: params given without a model; give model=, e.g. the model of the fit")
        return None, ""
    if hasattr(model, "predict") and hasattr(model, "params"):  # a FitResult from tg.fit
        if params is not None:
            raise ValueError(f"{name}: a fit result carries its parameters; give params only with a model function")
        return (lambda x: np.asarray(model.predict(x), dtype=np.float64)), "fitted curve"
    if not callable(model):
        raise TypeError(f"{name}: model must be a fit result, model(x, params) or a curve f(x); "
                        f"got {type(model).__name__}")
    if params is None:
        def curve(x: np.ndarray) -> np.ndarray:
            with no_grad(), np.errstate(all="ignore"):
                return values(model(Tensor(x)), x)

        return curve, "curve"
    p = np.asarray(getattr(params, "data", params), dtype=np.float64).reshape(-1)
    m, _ = spread_model(name, model, p.size)

    def fitted(x: np.ndarray) -> np.ndarray:
        with no_grad(), np.errstate(all="ignore"):
            return values(m(Tensor(x), Tensor(p)), x)

    return fitted, "model"


def plot_histogram_fit(bins: Any, frequencies: Any, model: Any = None, params: Any = None,
                       width: float | None = None, ax: Any = None, xlabel: str = "x", ylabel: str = "frequency",
                       title: str | None = None, curve_label: str | None = None) -> Any:
    """Bars of a histogram, a curve over them, and the gaps between bar tops and curve coloured; returns the Figure.

    ``bins``: the left edges of the bars (their spacing is the width unless ``width`` is given) or all
    ``len(frequencies) + 1`` edges. ``model``: a :class:`~tinygrad_mvc.fit.FitResult` (its fitted curve),
    a model ``model(x, params)`` or ``model(x, a, b, ...)`` with ``params``, a curve ``f(x)`` without
    them, or None (bars only). Over each bar the region between its top and the curve is red where
    the curve lies above the bar (the model overshoots the data) and blue where it lies below
    (undershoots); the legend, below the axes, says which is which. The curve is drawn over the bars'
    range on a fine grid (Tensor ops or NumPy ops both work).

    >>> import tinygrad_mvc as tg
    >>> starts, freq = [0.0, 1.0, 2.0], [0.2, 0.5, 0.3]
    >>> bell = lambda x, mu, s: tg.exp(-(x - mu) ** 2 / (2 * s ** 2)) / (s * np.sqrt(2 * np.pi))
    >>> fig = plot_histogram_fit(starts, freq, bell, params=[1.5, 0.8], xlabel="height (cm)")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][2:]
    ['curve above the bar (overshoot)', 'curve below the bar (undershoot)']
    """
    import matplotlib.pyplot as plt

    name = "plot_histogram_fit"
    freq = np.asarray(getattr(frequencies, "data", frequencies), dtype=np.float64).reshape(-1)
    if freq.size == 0 or not np.all(np.isfinite(freq)):
        raise ValueError(f"{name}: frequencies must be a non-empty list of finite numbers, got {freq}")
    edges = _edges(name, bins, freq.size, width)
    curve, default_label = _curve(name, model, params)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.6, 4.8), layout="constrained")
    else:
        fig = ax.figure
    ax.bar(edges[:-1], freq, width=np.diff(edges), align="edge", color="0.82", edgecolor="0.35", linewidth=0.8,
           label="data", zorder=1)
    top = float(freq.max())
    if curve is not None:
        # per bar a fine grid from its left to its right edge, the bar's height held constant over it: the
        # gaps are then exactly the regions between a flat top and the curve
        per = 24
        xs = np.concatenate([np.linspace(a, b, per) for a, b in zip(edges[:-1], edges[1:], strict=True)])
        heights = np.repeat(freq, per)
        ys = curve(xs)
        over, under = ys > heights, ys < heights
        ax.fill_between(xs, heights, ys, where=over, interpolate=True, color=OVERSHOOT, alpha=0.45, lw=0,
                        label="curve above the bar (overshoot)", zorder=2)
        ax.fill_between(xs, heights, ys, where=under, interpolate=True, color=UNDERSHOOT, alpha=0.45, lw=0,
                        label="curve below the bar (undershoot)", zorder=2)
        fine = np.linspace(edges[0], edges[-1], 400)
        ax.plot(fine, curve(fine), color="black", lw=2.0, label=curve_label or default_label, zorder=3)
        finite = ys[np.isfinite(ys)]
        top = max(top, float(finite.max()) if finite.size else top)
        # the legend order a reader wants: data, curve, then the two gaps
        handles, labels = ax.get_legend_handles_labels()
        order = [labels.index(k) for k in ("data", curve_label or default_label,
                                           "curve above the bar (overshoot)", "curve below the bar (undershoot)")]
        handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    else:
        handles, labels = ax.get_legend_handles_labels()
    pad = 0.02 * (edges[-1] - edges[0])
    ax.set_xlim(edges[0] - pad, edges[-1] + pad)
    ax.set_ylim(min(0.0, float(freq.min())), 1.08 * top if top > 0 else 1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or ("the histogram and the fitted curve" if curve is not None else "the histogram"))
    ax.grid(axis="y", alpha=0.3)
    from matplotlib.transforms import offset_copy

    ax.legend(handles, labels, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=2,
              frameon=False, bbox_transform=offset_copy(ax.transAxes, fig=fig, y=-40, units="points"))
    return fig
