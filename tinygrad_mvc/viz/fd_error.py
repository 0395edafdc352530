"""Finite-difference error against the step size: the V-shaped curves, next to autodiff (matplotlib, imported on call).

A difference quotient trades two errors. Truncation shrinks with the step (``O(h)`` for forward
differences, ``O(h^2)`` for central ones); round-off grows as ``eps |f| / h``, because ``f(x + h) - f(x)``
cancels the leading digits. Their sum is a V on log-log axes, with its bottom near ``h = eps**(1/2)``
(forward, error ~1e-8) or ``eps**(1/3)`` (central, ~1e-10). The complex step ``Im f(x + ih) / h``
subtracts nothing, so its error falls with ``h^2`` to the round-off of ``f'`` itself and stays there.
Reverse-mode autodiff has no step at all: its error is that round-off, ~1e-16.

:func:`fd_error_curves` computes the curves; :func:`plot_fd_error` draws them (from a function
and a point, or from precomputed :class:`FDErrorCurves`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FDErrorCurves", "fd_error_curves", "plot_fd_error", "summary_rows", "DEFAULT_STEPS", "FLOOR"]

DEFAULT_STEPS = np.logspace(-1, -14, 53)
"""Steps from 1e-1 down to 1e-14, four per decade."""

FLOOR = 1e-17
"""Errors of exactly 0 are drawn here (a log axis has no 0)."""

ORDERS = {"forward": 1, "backward": 1, "central": 2, "complex": 2}
"""Order of the truncation error of each method: the slope of its right arm on log-log axes."""

COLORS = {"forward": "tab:orange", "backward": "tab:purple", "central": "tab:blue", "complex": "tab:green"}


@dataclass
class FDErrorCurves:
    """Relative gradient errors of finite differences per method and step, and of autodiff.

    ``errors[method][k]`` is ``max |g_fd - g_ref| / max |g_ref|`` at ``steps[k]``; ``autodiff`` is the
    same for the reverse-mode gradient (``None`` when autodiff is itself the reference). Build one
    by hand to plot errors measured elsewhere:

    >>> c = FDErrorCurves(np.array([1e-2, 1e-4, 1e-6]), {"central": np.array([1e-5, 1e-9, 1e-10])})
    >>> c.best("central")
    (1e-06, 1e-10)
    >>> round(c.slope("central", 1e-4, 1e-2), 2)
    2.0
    """

    steps: np.ndarray
    errors: dict[str, np.ndarray]
    autodiff: float | None = None
    reference: str = "exact gradient"
    label: str = "f"
    skipped: dict[str, str] = field(default_factory=dict)

    def best(self, method: str) -> tuple[float, float]:
        """``(h, error)`` at the smallest error of ``method`` (the bottom of its V)."""
        err = np.asarray(self.errors[method])
        k = int(np.nanargmin(err))
        return float(self.steps[k]), float(err[k])

    def slope(self, method: str, lo: float, hi: float) -> float:
        """Least-squares slope of log10(error) against log10(h) over the steps in ``[lo, hi]``."""
        h = np.asarray(self.steps, dtype=float)
        err = np.maximum(np.asarray(self.errors[method], dtype=float), FLOOR)
        sel = (h >= lo * (1 - 1e-12)) & (h <= hi * (1 + 1e-12))
        if sel.sum() < 2:
            raise ValueError(f"FDErrorCurves.slope: fewer than two steps in [{lo:g}, {hi:g}]")
        return float(np.polyfit(np.log10(h[sel]), np.log10(err[sel]), 1)[0])


def _numpy_out(out: Any) -> np.ndarray:
    return np.asarray(out.data if hasattr(out, "data") and not isinstance(out, np.ndarray) else out)


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    err = float(np.max(np.abs(np.asarray(got, dtype=float) - want))) if want.size else 0.0
    return err / scale if scale > 0 else err


def fd_error_curves(f: Callable[..., Any], x: Any, exact: Any = None,
                    methods: Sequence[str] = ("forward", "central", "complex"),
                    steps: Sequence[float] | None = None, label: str | None = None) -> FDErrorCurves:
    """The relative error of each difference method at each step, and of reverse-mode autodiff.

    ``f`` maps an array to a scalar and is written with operators and NumPy functions
    (``np.exp(x) * np.sin(x)``), so the same code runs on NumPy arrays (the differences), complex ones
    (the complex step) and Tensors (autodiff). ``exact`` is the true gradient (an array, or a function
    of ``x``); without it the autodiff gradient is the reference and has no error of its own to show.
    A method ``f`` cannot run (a complex step through code that drops imaginary parts) is left out and
    named in ``skipped``.

    >>> import numpy as np
    >>> c = fd_error_curves(lambda x: np.exp(x) * np.sin(x), 1.0, exact=lambda x: np.exp(x) * (np.sin(x) + np.cos(x)))
    >>> h, err = c.best("central")
    >>> 1e-7 < h < 1e-3 and err < 1e-9 and c.autodiff < 1e-15
    True
    """
    from ..finite_diff import METHODS, numerical_grad
    from ..transforms import grad

    point = np.asarray(x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else x, dtype=np.float64)
    hs = np.asarray(DEFAULT_STEPS if steps is None else steps, dtype=np.float64)
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ValueError(f"fd_error_curves: unknown method(s) {bad}; choose from {METHODS}")
    if hs.ndim != 1 or hs.size == 0 or np.any(hs <= 0):
        raise ValueError(f"fd_error_curves: steps must be a non-empty 1-D sequence of positive numbers, got {hs!r}")
    try:
        auto = np.asarray(grad(f)(point.copy()), dtype=np.float64)
    except Exception as e:
        raise TypeError(f"fd_error_curves: autodiff of f failed ({type(e).__name__}: {e}); write f with operators "
                        f"and NumPy or tg functions so that it runs on Tensors") from e
    if exact is None:
        reference, ref_name, auto_err = auto, "autodiff", None
    else:
        reference = np.asarray(exact(point.copy()) if callable(exact) else exact, dtype=np.float64)
        if reference.shape != point.shape:
            raise ValueError(f"fd_error_curves: exact gradient has shape {reference.shape}, x has {point.shape}")
        ref_name, auto_err = "exact gradient", _relative_error(auto, reference)

    def f_np(z: np.ndarray) -> np.ndarray:
        return _numpy_out(f(z))

    errors: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    for method in methods:
        if method == "complex":
            probe = f_np(point.astype(complex) + 1e-30j)
            if not np.iscomplexobj(probe) or np.imag(probe).sum() == 0:
                skipped[method] = "f drops the imaginary part of a complex input (write it with NumPy functions)"
                continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # tiny steps overflow nothing, but 0/0 may warn for h near eps
            errors[method] = np.array([_relative_error(numerical_grad(f_np, point, h=float(h), method=method),
                                                       reference) for h in hs])
    if label is None:
        name = getattr(f, "__name__", "f")
        label = "f" if name == "<lambda>" else name
    return FDErrorCurves(hs, errors, auto_err, ref_name, label, skipped)


def _regions(c: FDErrorCurves, method: str) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """Step ranges ``(lo, hi)`` of the truncation arm (right of the V) and the round-off arm (left)."""
    h_best, e_best = c.best(method)
    err = np.maximum(np.asarray(c.errors[method], dtype=float), FLOOR)
    h = np.asarray(c.steps)
    # The right arm: steps well above the best one whose error is well above the bottom.
    right = (h >= 30 * h_best) & (err >= 1e3 * max(e_best, FLOOR))
    left = h <= h_best / 30
    trunc = (float(h[right].min()), float(h[right].max())) if right.sum() >= 3 else None
    roff = (float(h[left].min()), float(h[left].max())) if left.sum() >= 3 else None
    return trunc, roff


def plot_fd_error(f: Callable[..., Any] | FDErrorCurves, x: Any = None, exact: Any = None,
                  methods: Sequence[str] = ("forward", "central", "complex"), steps: Sequence[float] | None = None,
                  ax: Any = None, title: str | None = None, annotate: bool = True) -> Any:
    """Plot the gradient error of finite differences against the step size, log-log; returns the Figure.

    ``f`` and ``x`` as in :func:`fd_error_curves` (``exact`` the true gradient, optional), or ``f`` a
    precomputed :class:`FDErrorCurves`. One curve per method, the best step of each marked, the
    autodiff error as a horizontal line, machine epsilon dotted, and the measured slopes of the
    truncation arm (1 forward, 2 central) and the round-off arm (−1) written on the curves. Errors of
    exactly 0 are drawn at :data:`FLOOR`.

    >>> import numpy as np, tinygrad_mvc as tg
    >>> fig = tg.viz.plot_fd_error(lambda x: x ** 1.5, 0.5, exact=lambda x: 1.5 * x ** 0.5)
    >>> ax = fig.axes[0]
    >>> ax.get_xscale(), ax.get_yscale(), [line.get_label() for line in ax.lines][:3]
    ('log', 'log', ['forward, O(h)', 'central, O(h²)', 'complex step, O(h²)'])
    """
    import matplotlib.pyplot as plt

    if isinstance(f, FDErrorCurves):
        curves = f
    else:
        if x is None:
            raise ValueError("plot_fd_error: give the point x at which to differentiate f (or FDErrorCurves)")
        curves = fd_error_curves(f, x, exact=exact, methods=methods, steps=steps)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.8, 4.8), layout="constrained")
    else:
        fig = ax.figure
    h = np.asarray(curves.steps, dtype=float)
    names = {"forward": "forward, O(h)", "backward": "backward, O(h)", "central": "central, O(h²)",
             "complex": "complex step, O(h²)"}
    for method, err in curves.errors.items():
        ax.plot(h, np.maximum(np.asarray(err, dtype=float), FLOOR), "o-", ms=3, lw=1.4,
                color=COLORS.get(method), label=names.get(method, method))
    for method in curves.errors:
        hb, eb = curves.best(method)
        ax.plot([hb], [max(eb, FLOOR)], "*", ms=11, color=COLORS.get(method), markeredgecolor="black", zorder=5)
    eps = float(np.finfo(np.float64).eps)
    if curves.autodiff is not None:
        shown = max(curves.autodiff, FLOOR)
        text = f"autodiff (reverse mode): {curves.autodiff:.1e}" if curves.autodiff > 0 else \
            f"autodiff (reverse mode): exact, drawn at {FLOOR:g}"
        ax.axhline(shown, color="crimson", lw=2, ls="--", label=text)
    ax.axhline(eps, color="gray", lw=0.8, ls=":", label="machine ε")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.invert_xaxis()  # the step shrinks from left to right, as one reads an experiment
    ax.set_xlabel("step h")
    ax.set_ylabel(f"relative error of the gradient (vs {curves.reference})")
    ax.set_title(title or f"Finite differences of {curves.label}: error against step")
    ax.grid(alpha=0.3, which="major")
    if annotate:
        _annotate(ax, curves)
    if curves.skipped:
        ax.text(0.01, 0.01, "; ".join(f"{m} skipped: {why}" for m, why in curves.skipped.items()),
                transform=ax.transAxes, fontsize="x-small", va="bottom")
    legend_below(ax, ncols=2)  # the V, the floor and the autodiff line leave no corner free
    return fig


def legend_below(ax: Any, ncols: int = 1, drop: float = 34.0, fontsize: str = "x-small") -> Any:
    """The legend of ``ax`` under the axes, ``drop`` points below their bottom (clear of the tick labels and
    the x label), in ``ncols`` columns: never on the data. Needs ``layout="constrained"`` or
    ``bbox_inches="tight"`` to stay inside the saved picture."""
    from matplotlib.transforms import offset_copy

    return ax.legend(fontsize=fontsize, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=ncols, frameon=False,
                     bbox_transform=offset_copy(ax.transAxes, fig=ax.figure, y=-drop, units="points"))


def _annotate(ax: Any, curves: FDErrorCurves) -> None:
    """Write the measured slopes of the truncation arms (one note per order) and of the round-off arm.

    Notes that would overprint one another are moved apart afterwards (:func:`_separate`).
    """
    notes: list[Any] = []
    trunc_slopes: dict[int, list[str]] = {}
    trunc_anchor: dict[int, tuple[float, float]] = {}
    roundoff: list[str] = []
    roff_anchor: tuple[float, float] | None = None

    def point_at(h: float, errs: np.ndarray) -> tuple[float, float]:
        k = int(np.argmin(np.abs(np.log(curves.steps / h))))
        return float(curves.steps[k]), float(errs[k])

    for method, err in curves.errors.items():
        trunc, roff = _regions(curves, method)
        errs = np.maximum(np.asarray(err, dtype=float), FLOOR)
        if trunc is not None:
            order = ORDERS.get(method, 0)
            trunc_slopes.setdefault(order, []).append(f"{method} {curves.slope(method, *trunc):.2f}")
            # central and complex steps share the truncation term f'''h^2/6: their arms overlap, one note
            trunc_anchor.setdefault(order, point_at(float(np.sqrt(trunc[0] * trunc[1])), errs))
        if roff is not None:
            s = curves.slope(method, *roff)
            if abs(s) < 0.35:  # complex step: no cancellation, a flat floor instead of a left arm
                notes.append(ax.annotate(f"no cancellation: flat, slope {s:.2f}", point_at(roff[0], errs),
                                         xytext=(-150, 16), textcoords="offset points", fontsize="x-small",
                                         color=COLORS.get(method)))
            else:
                roundoff.append(f"{method} {s:.2f}")
                roff_anchor = roff_anchor or point_at(float(np.sqrt(roff[0] * roff[1])), errs)
    for order, slopes in trunc_slopes.items():
        above = order == 1  # the O(h) arm lies above the O(h^2) ones: its note goes above, theirs below
        notes.append(ax.annotate(f"truncation ∝ h{'²' if order == 2 else ''}: slope " + ", ".join(slopes),
                                 trunc_anchor[order], xytext=(10, 12) if above else (12, -26),
                                 textcoords="offset points", fontsize="x-small",
                                 color=COLORS.get(slopes[0].split()[0])))
    if roundoff and roff_anchor is not None:
        notes.append(ax.annotate("round-off ∝ ε|f|/h:\nslope " + ", ".join(roundoff) + " (theory −1)", roff_anchor,
                                 xytext=(-175, 22), textcoords="offset points", fontsize="x-small", color="black"))
    # every panel of the figure again: a panel added later changes the layout, and so the earlier panels' gaps
    panels = ax.figure.__dict__.setdefault("_tg_fd_notes", [])
    panels.append(notes)
    for note in notes:  # readable where a note crosses a curve
        note.set_bbox({"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    for group in panels:
        _separate(group)


def _separate(notes: list[Any], pad: float = 3.0) -> None:
    """Move annotations apart vertically (in offset points) until no two boxes overlap on the canvas.

    Measured after a layout pass, so it holds for the figure as saved; each note keeps its anchor and
    its horizontal offset, and a note moved down is moved by exactly the overlap (plus ``pad``).
    """
    if len(notes) < 2:
        return
    fig = notes[0].figure
    fig.draw_without_rendering()  # positions after constrained layout, as savefig will see them
    renderer = fig._get_renderer()  # the figure's own (any canvas), as get_window_extent() would take
    to_points = 72.0 / fig.dpi
    placed: list[Any] = []
    for note in sorted(notes, key=lambda n: -n.get_window_extent(renderer).y1):  # top to bottom
        for _ in range(len(notes)):
            box = note.get_window_extent(renderer)
            hits = [b for b in placed if box.overlaps(b)]
            if not hits:
                break
            x, y = note.xyann
            note.xyann = (x, y - (box.y1 - min(b.y0 for b in hits)) * to_points - pad)
        placed.append(note.get_window_extent(renderer))


def summary_rows(curves: Mapping[str, FDErrorCurves]) -> list[str]:
    """Markdown rows ``function | method | best h | best error | slopes`` for several curves."""
    lines = ["| function | method | best h | error there | truncation slope | round-off slope |",
             "|---|---|---|---|---|---|"]
    for name, c in curves.items():
        for method in c.errors:
            hb, eb = c.best(method)
            trunc, roff = _regions(c, method)
            ts = f"{c.slope(method, *trunc):.2f}" if trunc else "—"
            rs = f"{c.slope(method, *roff):.2f}" if roff else "—"
            lines.append(f"| {name} | {method} | {hb:.1e} | {eb:.1e} | {ts} | {rs} |")
        if c.autodiff is not None:
            lines.append(f"| {name} | autodiff (reverse) | — | {c.autodiff:.1e} | — | — |")
    return lines
